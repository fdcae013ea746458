"""Train one stage: the method's trainer (forgetlab/train/<method>.py: ``build_trainer``) on the stage's records,
writing the model, the step log and the kept checkpoints only when training finished."""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import tempfile
from pathlib import Path

from ..io import atomic_dir, atomic_path
from ..models import load_model, load_tokenizer, resolve_device
from ..tasks import Task
from .common import CheckpointCallback, JsonlLogCallback, save_weights
from .config import StageConfig

__all__ = ["train_stage", "trainer_builder"]


def trainer_builder(method: str):
    """``build_trainer`` of the method's own module: adding a method is one config class and one module."""
    return importlib.import_module(f"{__package__}.{method}").build_trainer


def train_stage(
    stage: StageConfig,
    task: Task,
    records: list[dict],
    model_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    log_path: str | os.PathLike,
    checkpoint_dir: str | os.PathLike | None = None,
    device: str = "auto",
) -> Path:
    """Train ``model_dir`` on ``records`` of ``task`` as ``stage`` says, on ``device`` (auto: CUDA when
    present); write the model, the step log and the intermediate checkpoints (``checkpoint_dir/<step>``, see
    ``stage.save_every``). Every output appears under its final name only when training finished.
    """
    if not records:
        raise ValueError(f"no training records for task {task.name!r}")
    build = trainer_builder(stage.tag)
    device = resolve_device(device)
    tokenizer = load_tokenizer(model_dir, padding_side="left")
    model = load_model(model_dir, device="cpu", dtype="float32")  # fp32 master weights; the trainer places them
    # Under a multi-GPU launch only the main process writes the targets; the others write nowhere lasting.
    main = int(os.environ.get("RANK", "0")) == 0
    with contextlib.ExitStack() as stack:
        scratch = None if main else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        tmp_model = stack.enter_context(atomic_dir(out_dir)) if main else scratch / "model"
        log = stack.enter_context(open(stack.enter_context(atomic_path(log_path)) if main else scratch / "log", "w"))
        trainer = build(stage, task, records, model, tokenizer, str(tmp_model / "_trainer"), device)
        trainer.add_callback(JsonlLogCallback(log))
        if checkpoint_dir is not None:
            tmp_steps = stack.enter_context(atomic_dir(checkpoint_dir)) if main else scratch / "steps"
            trainer.add_callback(CheckpointCallback(trainer, tmp_steps, stage.checkpoint_steps))
        trainer.train()
        save_weights(trainer, tmp_model)
        shutil.rmtree(tmp_model / "_trainer", ignore_errors=True)
    return Path(out_dir)
