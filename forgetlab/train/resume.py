"""The working folder of a training job: the trainer state saved every few steps, the step log and the kept
steps so far. It lies outside the job's declared outputs (Snakemake deletes those of a failed job), so a job killed
mid-run (SIGKILL, a lost node, a SLURM time limit) resumes from its last save when it is run again; it is removed
once the stage's outputs are written. A reward that keeps a state across steps (Memory-R's memory) is saved in each
checkpoint beside the trainer's state and restored with it."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from transformers import TrainerCallback

from ..io import claim_folder, json_text

__all__ = ["RewardStateCallback", "TimedSaveCallback", "WorkFolder", "restore_rewards", "stateful_rewards"]


class TimedSaveCallback(TrainerCallback):
    """Asks the trainer to save its state at the first step that ends ``seconds`` after the last save (or the start),
    never at the last step (the model itself is written then). Under several processes the main one decides for all:
    every process must take part in a sharded save."""

    def __init__(self, seconds: float):
        self.seconds, self.last = seconds, time.monotonic()

    def on_step_end(self, args, state, control, **kwargs):
        due = [time.monotonic() - self.last >= self.seconds and state.global_step < state.max_steps]
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.broadcast_object_list(due, src=0)
        if due[0]:
            control.should_save = True

    def on_save(self, args, state, control, **kwargs):
        self.last = time.monotonic()


def stateful_rewards(trainer) -> dict:
    """The trainer's reward functions that keep a state across steps (a ``state``/``restore`` pair), by name;
    rl.FiniteReward's wrapping taken off."""
    functions = (getattr(function, "function", function) for function in getattr(trainer, "reward_funcs", []))
    return {function.__name__: function for function in functions if hasattr(function, "restore")}


def _state_path(checkpoint: Path, name: str, rank: int) -> Path:
    return checkpoint / f"{name}-rank{rank}.npz"  # every process scores its own completions: a memory each


class RewardStateCallback(TrainerCallback):
    """Writes each stateful reward's arrays into the checkpoint a step is about to save, before the trainer
    writes its state file there (which marks the save complete): a save a kill cut short is passed over with
    them. Added after every callback that asks for a save."""

    def __init__(self, rewards: dict):
        self.rewards = rewards

    def on_step_end(self, args, state, control, **kwargs):
        if not control.should_save:
            return
        checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        checkpoint.mkdir(parents=True, exist_ok=True)
        for name, reward in self.rewards.items():
            path = _state_path(checkpoint, name, args.process_index)
            with open(path.with_suffix(".tmp"), "wb") as handle:
                np.savez(handle, **reward.state())
            os.replace(path.with_suffix(".tmp"), path)


def restore_rewards(rewards: dict, checkpoint: Path, rank: int = 0) -> None:
    """The stateful rewards as ``checkpoint`` saved them (plain arrays, read without pickle)."""
    for name, reward in rewards.items():
        path = _state_path(checkpoint, name, rank)
        if not path.exists():  # saved by a forgetlab before reward states
            print(f"warning: {path} is missing: reward {name!r} resumes empty", file=sys.stderr)
            continue
        with np.load(path, allow_pickle=False) as arrays:
            reward.restore(arrays)


class WorkFolder:
    """``folder/trainer/checkpoint-<step>`` (the trainer's saves), ``folder/steps/<step>`` (kept checkpoints) and
    ``folder/job.json`` (what was being trained: a state saved for another stage configuration, parent or data is
    discarded rather than resumed). The step log so far is ``log`` (default ``folder/train_log.jsonl``): a file
    that can be watched while the job runs, e.g. the ``partial_path`` of the step log's target."""

    def __init__(self, folder: str | os.PathLike, job: dict, log: str | os.PathLike | None = None):
        self.folder, self.job = Path(folder), job
        self.trainer, self.steps = self.folder / "trainer", self.folder / "steps"
        self.log = Path(log) if log is not None else self.folder / "train_log.jsonl"

    def prepare(self) -> int | None:
        """Make the folder ready; the step of the state to resume from, or None to start afresh (a state of
        another job is removed first, saying why)."""
        claim_folder(self.folder, self.job)
        return self.last_step()

    def last_step(self) -> int | None:
        """The newest complete save: the trainer writes its state file last, so a save a kill cut short has
        none (and is passed over)."""
        names = (re.fullmatch(r"checkpoint-(\d+)", path.name) for path in self.trainer.glob("checkpoint-*"))
        steps = [int(match.group(1)) for match in names if match and _complete(self.checkpoint(int(match.group(1))))]
        return max(steps) if steps else None

    def checkpoint(self, step: int) -> Path:
        return self.trainer / f"checkpoint-{step}"

    def open_log(self, resumed: int | None):
        """The step log for appending: on a resume, the rows up to the resumed step (those after it are redone)."""
        rows = []
        if resumed is not None and self.log.exists():
            for line in self.log.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:  # the line a kill cut short
                    continue
                if row.get("step", 0) <= resumed and "train_runtime" not in row:
                    rows.append(row)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.log, "w")
        for row in rows:
            handle.write(json_text(row) + "\n")
        handle.flush()
        return handle

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _complete(checkpoint: Path) -> bool:
    try:
        json.loads((checkpoint / "trainer_state.json").read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return True
