"""What every training method shares: prompts in training order, trainer defaults, the JSONL step log, saving."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from transformers import TrainerCallback

from ..models import model_dtype
from ..prompts import curriculum_formats, plain_prompt, render_prompt
from ..tasks import Task
from .config import StageConfig

__all__ = [
    "CheckpointCallback", "JsonlLogCallback", "as_completion", "as_prompt", "save_weights", "split_batch",
    "trainer_defaults", "training_prompts",
]  # fmt: skip


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
    """Appends every Trainer log event (loss, reward, kl, lengths, ...) as one JSON line with its step, with
    what callbacks added before it put into the event (a method's histograms: lists of numbers)."""

    def __init__(self, handle):
        self.handle = handle

    def on_log(self, args, state, control, logs=None, **kwargs):
        row = {"step": state.global_step, "epoch": state.epoch}
        row.update({k: v for k, v in (logs or {}).items() if _loggable(v)})
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


def _loggable(value) -> bool:
    """A number (not NaN), a string or a list of numbers."""
    if isinstance(value, list):
        return all(isinstance(v, (int, float)) for v in value)
    return isinstance(value, (int, float, str)) and not (isinstance(value, float) and math.isnan(value))


def world_size() -> int:
    """Processes training together (accelerate launch sets WORLD_SIZE); 1 without a launcher."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def split_batch(total: int, what: str) -> int:
    """Per-process share of ``total`` items per optimizer step, so several GPUs keep the step's size."""
    if total % world_size():
        raise ValueError(f"{what} ({total}) must be divisible by the number of training processes ({world_size()})")
    return total // world_size()


def trainer_defaults(stage: StageConfig, output_dir: str, device: str = "cpu") -> dict:
    """TrainingArguments shared by every method, on ``device`` ('cpu' or 'cuda', see models.resolve_device).

    On a GPU that supports it the step runs in bf16 autocast over fp32 master weights; on the CPU in fp32 (bf16
    has no hardware support there, ~500x slower), without gradient checkpointing (it only costs time there).
    """
    return dict(
        output_dir=output_dir,
        max_steps=stage.steps,
        learning_rate=stage.lr,
        lr_scheduler_type=stage.lr_scheduler,
        warmup_steps=round(stage.warmup_ratio * stage.steps),
        weight_decay=stage.weight_decay,
        max_grad_norm=stage.max_grad_norm,
        seed=stage.seed,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=device == "cpu",
        bf16=model_dtype(device) == "bfloat16",
        gradient_checkpointing=None,  # TRL's default (True) under its deprecated name, replaced by:
        activation_checkpointing=False,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
