"""What every training method shares: the stage config, device defaults, the JSONL step log, saving."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from transformers import TrainerCallback

from ..io import atomic_dir, atomic_path
from ..models import load_model, load_tokenizer
from ..prompts import curriculum_formats, plain_prompt, render_prompt
from ..tasks import Task

__all__ = ["StageConfig", "JsonlLogCallback", "trainer_defaults", "train_stage", "training_prompts", "as_prompt", "as_completion"]

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
        if not 0.0 <= self.mix_oneshot <= 1.0:
            raise ValueError(f"mix_oneshot must lie in [0, 1], not {self.mix_oneshot}")

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


def _is_nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


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
) -> Path:
    """Train ``model_dir`` on ``records`` of ``task`` as ``stage`` says; write the model and the step log.

    Both outputs appear under their final names only when training finished.
    """
    from .grpo import build_grpo_trainer
    from .sft import build_sft_trainer

    if not records:
        raise ValueError(f"no training records for task {task.name!r}")
    build = {"sft": build_sft_trainer, "grpo": build_grpo_trainer}[stage.method]
    tokenizer = load_tokenizer(model_dir, padding_side="left")
    model = load_model(model_dir)
    with atomic_dir(out_dir) as tmp_model, atomic_path(log_path) as tmp_log, open(tmp_log, "w") as log:
        trainer = build(stage, task, records, model, tokenizer, str(tmp_model / "_trainer"))
        trainer.add_callback(JsonlLogCallback(log))
        trainer.train()
        trainer.model.config.use_cache = True
        trainer.model.save_pretrained(tmp_model)
        tokenizer.save_pretrained(tmp_model)
        _remove_tree(tmp_model / "_trainer")
    return Path(out_dir)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
