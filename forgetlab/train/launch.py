"""Multi-GPU training: the same ``forgetlab train`` command, started on every GPU by accelerate."""

from __future__ import annotations

import os
import sys

__all__ = ["accelerate_command"]


def accelerate_command(processes: int, accelerate_config: str | os.PathLike, train_args: list[str]) -> list[str]:
    """argv that runs ``forgetlab train <train_args>`` in ``processes`` processes (one per GPU) under
    ``accelerate launch`` with ``accelerate_config`` (e.g. config/deepspeed/zero3.yaml)."""
    if processes < 2:
        raise ValueError(f"a multi-GPU launch needs at least 2 processes, not {processes}")
    launcher = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(accelerate_config)]
    return [*launcher, "--num_processes", str(processes), "-m", "forgetlab", "train", *train_args]
