"""What every training method shares: the stage config, device defaults, the JSONL step log, saving."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path

from transformers import TrainerCallback

from ..config import checkpoint_steps
from ..io import atomic_dir, atomic_path
from ..models import load_model, load_tokenizer
from ..prompts import curriculum_formats, plain_prompt, render_prompt
from ..tasks import Task

__all__ = ["StageConfig", "JsonlLogCallback", "CheckpointCallback", "save_weights", "split_batch", "trainer_defaults", "train_stage", "training_prompts", "as_prompt", "as_completion"]

METHODS = ("sft", "grpo")


@dataclass
class StageConfig:
    """One training stage, as written under ``stages:`` in the config."""

    method: str
    task: str
    lr: float = 1e-5
    steps: int = 20
    batch_size: int = 4  # prompts per optimizer step (GRPO samples num_generations completions for each)
    seed: int = 0
    warmup_ratio: float = 0.0
    lr_scheduler: str = "constant"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    save_every: int = 0  # keep the weights every K steps (for curves over training); 0 keeps none
    # prompts: the format (default: the task's), chat template or plain completion, one-shot curriculum
    format: str | None = None
    chat: bool = True
    mix_oneshot: float = 0.0
    # SFT
    max_length: int = 256
    # GRPO
    beta: float = 0.0
    epsilon: float = 0.2
    num_generations: int = 4
    max_completion_length: int = 32
    temperature: float = 1.0
    loss_type: str = "dapo"
    scale_rewards: str = "group"
    rewards: dict = field(default_factory=lambda: {"correct": 1.0, "format": 0.1})

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"stage method must be one of {METHODS}, not {self.method!r}")
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError("stage steps and batch_size must be at least 1")
        if self.method == "grpo" and self.num_generations < 2:
            raise ValueError("GRPO needs num_generations >= 2 (advantages are relative to the group)")
        self.lr = float(self.lr)  # YAML reads 1e-5 as a string
        if self.save_every < 0:
            raise ValueError(f"save_every must be 0 (off) or a number of steps, not {self.save_every}")
        if not 0.0 <= self.mix_oneshot <= 1.0:
            raise ValueError(f"mix_oneshot must lie in [0, 1], not {self.mix_oneshot}")

    @property
    def checkpoint_steps(self) -> list[int]:
        """Steps whose weights are kept besides the final model (the final step is the model itself)."""
        return checkpoint_steps({"steps": self.steps, "save_every": self.save_every})

    @classmethod
    def from_dict(cls, spec: dict) -> "StageConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ValueError(f"unknown stage option(s) {unknown}; allowed: {sorted(known)}")
        return cls(**spec)


def training_prompts(stage: StageConfig, task: Task, records: list[dict]) -> list[tuple[dict, str, str]]:
    """(record, prompt text, format) in training order.

    With ``mix_oneshot`` the records are cycled to the number of prompts the stage consumes and each gets
    the one-shot format with a probability that decays linearly over training; the order must then be kept.
    """
    style = stage.format or task.format
    if stage.mix_oneshot:
        count = stage.steps * stage.batch_size
        records = [records[i % len(records)] for i in range(count)]
        styles = curriculum_formats(count, style, stage.mix_oneshot, stage.seed)
    else:
        styles = [style] * len(records)
    return [(record, render_prompt(task, record, s), s) for record, s in zip(records, styles)]


def as_prompt(text: str, chat: bool):
    """A dataset prompt: a chat turn list (TRL applies the chat template) or a plain completion string."""
    return [{"role": "user", "content": text}] if chat else plain_prompt(text)


def as_completion(text: str, chat: bool):
    return [{"role": "assistant", "content": text}] if chat else f" {text}"


class JsonlLogCallback(TrainerCallback):
    """Appends every Trainer log event (loss, reward, kl, lengths, ...) as one JSON line with its step."""

    def __init__(self, handle):
        self.handle = handle

    def on_log(self, args, state, control, logs=None, **kwargs):
        row = {"step": state.global_step, "epoch": state.epoch}
        row.update({k: v for k, v in (logs or {}).items() if isinstance(v, (int, float, str)) and not _is_nan(v)})
        self.handle.write(json.dumps(row) + "\n")
        self.handle.flush()


class CheckpointCallback(TrainerCallback):
    """Saves the weights and tokenizer (no optimizer state: these are for evaluation) to ``folder/<step>``."""

    def __init__(self, trainer, folder: Path, steps: list[int]):
        self.trainer, self.folder, self.steps = trainer, Path(folder), set(steps)

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step in self.steps:
            save_weights(self.trainer, self.folder / str(state.global_step))


def save_weights(trainer, folder: Path) -> None:
    """Model + tokenizer as an HF folder. Every process must call it (DeepSpeed gathers sharded weights);
    only the main one writes."""
    model = trainer.model
    use_cache, model.config.use_cache = model.config.use_cache, True
    trainer.save_model(str(folder))
    model.config.use_cache = use_cache
    if trainer.is_world_process_zero():
        Path(folder, "training_args.bin").unlink(missing_ok=True)  # a pickle: not part of a model folder


def _is_nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def world_size() -> int:
    """Processes training together (accelerate launch sets WORLD_SIZE); 1 without a launcher."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def split_batch(total: int, what: str) -> int:
    """Per-process share of ``total`` items per optimizer step, so several GPUs keep the step's size."""
    if total % world_size():
        raise ValueError(f"{what} ({total}) must be divisible by the number of training processes ({world_size()})")
    return total // world_size()


def trainer_defaults(stage: StageConfig, output_dir: str) -> dict:
    """TrainingArguments shared by SFT and GRPO, with the CPU pitfalls handled.

    On CPU, bf16 (default None -> on) is 2.5x slower and gradient checkpointing only costs time.
    """
    import torch

    cuda = torch.cuda.is_available()
    return dict(
        output_dir=output_dir,
        max_steps=stage.steps,
        learning_rate=stage.lr,
        lr_scheduler_type=stage.lr_scheduler,
        warmup_steps=int(round(stage.warmup_ratio * stage.steps)),
        weight_decay=stage.weight_decay,
        max_grad_norm=stage.max_grad_norm,
        seed=stage.seed,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=not cuda,
        bf16=bool(cuda and torch.cuda.is_bf16_supported()),
        gradient_checkpointing=False,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )


def train_stage(
    stage: StageConfig,
    task: Task,
    records: list[dict],
    model_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    log_path: str | os.PathLike,
    checkpoint_dir: str | os.PathLike | None = None,
) -> Path:
    """Train ``model_dir`` on ``records`` of ``task`` as ``stage`` says; write the model and the step log,
    and the intermediate checkpoints (``checkpoint_dir/<step>``, see ``stage.save_every``) when asked.

    Every output appears under its final name only when training finished.
    """
    from .grpo import build_grpo_trainer
    from .sft import build_sft_trainer

    if not records:
        raise ValueError(f"no training records for task {task.name!r}")
    build = {"sft": build_sft_trainer, "grpo": build_grpo_trainer}[stage.method]
    tokenizer = load_tokenizer(model_dir, padding_side="left")
    model = load_model(model_dir)
    # Under a multi-GPU launch only the main process writes the targets; the others write nowhere lasting.
    main = int(os.environ.get("RANK", "0")) == 0
    with contextlib.ExitStack() as stack:
        scratch = None if main else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        tmp_model = stack.enter_context(atomic_dir(out_dir)) if main else scratch / "model"
        log = stack.enter_context(open(stack.enter_context(atomic_path(log_path)) if main else scratch / "log", "w"))
        trainer = build(stage, task, records, model, tokenizer, str(tmp_model / "_trainer"))
        trainer.add_callback(JsonlLogCallback(log))
        if checkpoint_dir is not None:
            tmp_steps = stack.enter_context(atomic_dir(checkpoint_dir)) if main else scratch / "steps"
            trainer.add_callback(CheckpointCallback(trainer, tmp_steps, stage.checkpoint_steps))
        trainer.train()
        save_weights(trainer, tmp_model)
        _remove_tree(tmp_model / "_trainer")
    return Path(out_dir)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
