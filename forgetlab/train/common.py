"""What every training method shares: prompts in training order, trainer defaults, the JSONL step log, saving."""

from __future__ import annotations

import copy
import math
import os
import sys
import time
from pathlib import Path

from transformers import TrainerCallback

from .. import compat
from ..io import json_text
from ..models import model_dtype
from ..progress import pace, seconds
from ..prompts import curriculum_formats, render_prompt
from ..tasks import Task
from .config import OPTIMIZERS, StageConfig

__all__ = [
    "CheckpointCallback", "FastPathCheck", "FiniteLossCallback", "JsonlLogCallback", "ProgressCallback",
    "as_completion", "lora_config", "save_weights", "split_batch", "trainer_defaults", "training_prompts",
]  # fmt: skip


def training_prompts(stage: StageConfig, tasks: dict[str, Task], records: list[dict]) -> list[tuple]:
    """(record, prompt, format, task) in training order; each record is prompted as its own task (its ``task``
    field: replayed records are another task's), in the stage's format or that task's, a one-shot prompt's example
    where the stage's ``oneshot_example`` puts it (the prompt: ``render_prompt``'s).

    With ``mix_oneshot`` the records are cycled to the number of prompts the stage consumes (``batch_size`` per
    step, in order) and prompts get the one-shot format with a probability that decays linearly over training
    (``curriculum``: per prompt, or per step for all its prompts); the trainer must then keep the order.
    """
    if stage.mix_oneshot:
        records = [records[i % len(records)] for i in range(stage.examples)]
    own = [tasks.get(record.get("task"), tasks[stage.task]) for record in records]
    styles = [stage.format or task.format for task in own]
    if stage.mix_oneshot:  # which prompts are one-shot; the others keep their task's format
        curriculum = curriculum_formats(
            len(records), None, stage.mix_oneshot, stage.seed, stage.curriculum, stage.batch_size
        )
        styles = ["oneshot" if c == "oneshot" else style for c, style in zip(curriculum, styles)]
    return [
        (record, render_prompt(task, record, s, stage.oneshot_example), s, task)
        for record, s, task in zip(records, styles, own)
    ]


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
        self.handle.write(json_text(row) + "\n")
        self.handle.flush()


class ProgressCallback(TrainerCallback):
    """One line on stderr (the job's log) per logged step: ``step 3/40: loss 1.234, reward 0.500, 2.1 s; 6.3 s, 78 s
    left`` (the reward of RL methods; the step's seconds; the time since training began and, at the pace of the
    steps so far this run, the time left), and the total when training ends. The trainer's own progress bar is off
    (``disable_tqdm``): a bar redrawn in a log file is noise."""

    def __init__(self):
        self.start = self.last = time.monotonic()
        self.first_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = self.last = time.monotonic()
        self.first_step = state.global_step  # a resumed run's pace counts its own steps only

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs, now = logs or {}, time.monotonic()
        if "train_runtime" in logs:
            line = f"trained {state.global_step}/{state.max_steps} steps in {seconds(logs['train_runtime'])}"
        else:
            shown = [f"{key} {logs[key]:.4g}" for key in ("loss", "reward") if isinstance(logs.get(key), (int, float))]
            done, left = state.global_step - self.first_step, state.max_steps - self.first_step
            step = ", ".join([*shown, seconds(now - self.last)])
            line = f"step {state.global_step}/{state.max_steps}: {step}; {pace(done, left, now - self.start)}"
        self.last = now
        print(line, file=sys.stderr, flush=True)


class FiniteLossCallback(TrainerCallback):
    """Stops training at the first NaN or infinite loss, naming the step and the value (the step log and the job
    log keep it; no model is written)."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        value = (logs or {}).get("loss")
        if isinstance(value, float) and not math.isfinite(value):
            raise FloatingPointError(f"step {state.global_step}: loss is {value}; training stopped, no model written")


class CheckpointCallback(TrainerCallback):
    """Saves the weights and tokenizer (no optimizer state: these are for evaluation) to ``folder/<step>``."""

    def __init__(self, trainer, folder: Path, steps: list[int]):
        self.trainer, self.folder, self.steps = trainer, Path(folder), set(steps)

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step in self.steps:
            save_weights(self.trainer, self.folder / str(state.global_step))


def save_weights(trainer, folder: Path) -> None:
    """Model + tokenizer as an HF folder. Every process must call it (DeepSpeed gathers sharded weights);
    only the main one writes. A LoRA model is written merged (a full folder like any other), its adapter in
    ``folder/adapter``."""
    model = trainer.model
    if hasattr(model, "merge_and_unload"):  # a peft model
        if trainer.is_world_process_zero():
            model.save_pretrained(str(Path(folder, "adapter")))
            merged = copy.deepcopy(model).merge_and_unload()  # a copy: training may go on with the adapter
            merged.config.use_cache = True
            merged.save_pretrained(str(folder))
            trainer.processing_class.save_pretrained(str(folder))
        return
    use_cache, model.config.use_cache = model.config.use_cache, True
    trainer.save_model(str(folder))
    model.config.use_cache = use_cache
    if trainer.is_world_process_zero():
        Path(folder, "training_args.bin").unlink(missing_ok=True)  # a pickle: not part of a model folder


class FastPathCheck(TrainerCallback):
    """After the first step, every fast path switched on for this job has run or is reported as fallen back
    (forgetlab.compat): a library that stopped calling what forgetlab patched shows in the job's log."""

    def on_step_end(self, args, state, control, **kwargs):
        compat.check_expected()


def lora_config(stage: StageConfig):
    """peft's LoraConfig of the stage's ``lora`` options (None without them)."""
    if stage.lora is None:
        return None
    from peft import LoraConfig

    lora = stage.lora
    return LoraConfig(
        r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout, task_type="CAUSAL_LM",
        target_modules=lora.target_modules or "all-linear",
    )  # fmt: skip


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
    has no hardware support there, ~500x slower). Gradient checkpointing only when the stage asks for it.
    """
    return dict(
        output_dir=output_dir,
        max_steps=stage.steps,
        learning_rate=stage.lr,
        lr_scheduler_type=stage.lr_scheduler,
        warmup_steps=round(stage.warmup_ratio * stage.steps),
        weight_decay=stage.weight_decay,
        adam_beta1=stage.adam_beta1,  # the 8-bit AdamW (bitsandbytes) takes them too
        adam_beta2=stage.adam_beta2,
        adam_epsilon=stage.adam_epsilon,
        max_grad_norm=stage.max_grad_norm,
        seed=stage.seed,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=device == "cpu",
        bf16=model_dtype(device) == "bfloat16",
        gradient_checkpointing=None,  # TRL's default (True) under its deprecated name, replaced by:
        activation_checkpointing=stage.gradient_checkpointing,
        optim=OPTIMIZERS[stage.optimizer],
        # a one-shot -> zero-shot curriculum is laid out in training order: SFT's default random sampler would undo it
        train_sampling_strategy="sequential" if stage.mix_oneshot else "random",
        use_liger_kernel=stage.liger_kernel,
        logging_nan_inf_filter=False,  # a NaN loss must reach the log (and stop training), not be averaged away
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
