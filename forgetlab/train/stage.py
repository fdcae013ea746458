"""Train one stage: the method's trainer (forgetlab/train/<method>.py: ``build_trainer``) on the stage's records,
writing the model, the step log and the kept checkpoints only when training finished (the step log so far grows
in ``<log>.partial`` beside it, to be watched). Given a resume folder,
the trainer state is saved there every ``resume_minutes`` (or ``resume_every`` steps) and a rerun of a killed job
goes on from it."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import tempfile
from pathlib import Path

from transformers import PrinterCallback

from .. import compat
from ..compat import trl as trl_compat
from ..io import atomic_dir, partial_path
from ..models import load_model, load_tokenizer, resolve_device, write_fast_paths
from ..tasks import Task
from ..tracking import TrackingConfig, tracker_environment, trainer_arguments
from .common import (
    CheckpointCallback,
    FastPathCheck,
    FiniteLossCallback,
    JsonlLogCallback,
    ProgressCallback,
    lora_config,
    save_weights,
    trainer_defaults,
    world_size,
)
from .config import RLStageConfig, StageConfig
from .replay import mix_replay
from .resume import RewardStateCallback, TimedSaveCallback, WorkFolder, restore_rewards, stateful_rewards
from .rl import rollout_arguments
from .shared import run_shared_prefix_once

__all__ = ["train_stage", "trainer_builder"]


def trainer_builder(method: str):
    """``build_trainer`` of the method's own module: adding a method is one config class and one module."""
    return importlib.import_module(f"{__package__}.{method}").build_trainer


def refuse_what_cannot_run(stage: StageConfig, device: str) -> None:
    """Stop before any model loads when the stage asks for what this job cannot do, naming the option."""
    if getattr(stage, "engine", "trl") == "verl":
        raise ValueError(
            f"engine: verl: {stage.tag} trains in verl's environment, through the workflow's model_train_verl rule "
            "(or python -m forgetlab.verl.launch JOB.json there), not in a TRL job"
        )
    if stage.optimizer == "adamw_8bit" and device != "cuda":
        raise ValueError(
            "optimizer adamw_8bit: bitsandbytes' 8-bit AdamW runs on a GPU only and this job has none; "
            "use optimizer: adamw"
        )
    if stage.liger_kernel and device != "cuda":
        raise ValueError(
            "liger_kernel: Liger's kernels are Triton GPU kernels and this job has no GPU; set liger_kernel: false"
        )
    if stage.liger_kernel and importlib.util.find_spec("liger_kernel") is None:
        raise ValueError("liger_kernel: the liger-kernel package is not installed (pip install 'forgetlab[gpu]')")
    if isinstance(stage, RLStageConfig):
        rollout_arguments(stage, device)  # raises where vLLM is asked for and cannot run


def train_stage(
    stage: StageConfig,
    task: Task,
    records: list[dict],
    model_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    log_path: str | os.PathLike,
    checkpoint_dir: str | os.PathLike | None = None,
    device: str = "auto",
    replay: tuple[Task, list[dict]] | None = None,
    resume_dir: str | os.PathLike | None = None,
    fast_paths: bool = True,
    tracking: TrackingConfig | None = None,
    run_name: str | None = None,
) -> Path:
    """Train ``model_dir`` on ``records`` of ``task`` as ``stage`` says, on ``device`` (auto: CUDA when
    present); write the model, the step log and the intermediate checkpoints (``checkpoint_dir/<step>``, see
    ``stage.save_every``). Every output appears under its final name only when training finished; meanwhile the
    step log grows in its ``partial_path`` (``train_log.jsonl.partial``) and a line per step goes to stderr. With
    ``stage.replay``, ``replay`` is the replayed task and its training records. With ``resume_dir`` (and
    ``stage.resume_every`` not 0) the job saves its state there and, run again after a kill, resumes from it.
    ``fast_paths`` false trains through TRL's and transformers' stock paths (forgetlab.compat); the model folder's
    fast_paths.json says which ran. With ``tracking``'s trackers the trainer also reports to them, as run
    ``run_name`` (forgetlab.tracking.run_name), their files under ``tracking.dir``.
    """
    if not records:
        raise ValueError(f"no training records for task {task.name!r}")
    tasks = {stage.task: task}
    if stage.replay is not None:
        if replay is None:
            raise ValueError(f"replay of task {stage.replay.task!r}: its training records were not given")
        replay_task, replayed = replay
        tasks[stage.replay.task] = replay_task
        records = mix_replay(records, replayed, stage.replay.ratio, stage.examples, stage.seed)
    device = resolve_device(device)
    refuse_what_cannot_run(stage, device)
    build = trainer_builder(stage.tag)
    reporting = trainer_arguments(tracking, run_name)  # a tracked run without a name stops here
    compat.reset()
    trl_compat.labelled_positions_only(fast_paths)
    trl_compat.cpu_head_tiles(fast_paths and device == "cpu")
    tokenizer = load_tokenizer(model_dir, padding_side="left")
    model = load_model(model_dir, device="cpu", dtype="float32")  # fp32 master weights; the trainer places them
    if not fast_paths:
        compat.switched_off("shared-prefix")
    elif world_size() == 1 and not stage.gradient_checkpointing:  # several processes: the launcher's own passes
        run_shared_prefix_once(model, expected=not isinstance(stage, RLStageConfig))
    # Under a multi-GPU launch only the main process writes the targets; the others write nowhere lasting.
    main = int(os.environ.get("RANK", "0")) == 0
    resumable = resume_dir is not None and stage.resume_every != 0
    with contextlib.ExitStack() as stack:
        stack.enter_context(tracker_environment(tracking, run_name))  # transformers' callbacks read it
        folder = resume_dir if resumable else stack.enter_context(tempfile.TemporaryDirectory())
        job = {"stage": stage.to_dict(), "parent": str(model_dir), "records": records}
        work = WorkFolder(folder, job, log=partial_path(log_path))  # the step log so far, watchable beside its target
        resumed = work.prepare() if main or not resumable else work.last_step()
        arguments = trainer_defaults(stage, str(work.trainer), device) | reporting
        if resumable:  # the state to resume from; only the newest is kept
            arguments.update(save_total_limit=1)
            if stage.resume_every:
                arguments.update(save_strategy="steps", save_steps=stage.resume_every)
        trainer = build(stage, tasks, records, model, tokenizer, arguments, lora_config(stage), fast_paths)
        if resumable and not stage.resume_every:
            trainer.add_callback(TimedSaveCallback(60 * stage.resume_minutes))
        rewards = stateful_rewards(trainer)
        if resumable and rewards:  # after the callbacks that ask for a save
            trainer.add_callback(RewardStateCallback(rewards))
        trainer.add_callback(FiniteLossCallback())
        trainer.add_callback(FastPathCheck())
        if main:
            log = stack.enter_context(work.open_log(resumed))
            trainer.add_callback(JsonlLogCallback(log))
            trainer.remove_callback(PrinterCallback)  # its dict per step is the step log's row: a line says enough
            trainer.add_callback(ProgressCallback())
        if checkpoint_dir is not None:
            trainer.add_callback(CheckpointCallback(trainer, work.steps, stage.checkpoint_steps))
        if resumed is not None:
            print(f"resuming from step {resumed} of {stage.steps} ({work.checkpoint(resumed)})", flush=True)
            restore_rewards(rewards, work.checkpoint(resumed), trainer.args.process_index)
        trainer.train(resume_from_checkpoint=str(work.checkpoint(resumed)) if resumed is not None else None)
        if main:
            if checkpoint_dir is not None:
                with atomic_dir(checkpoint_dir) as tmp:
                    for kept in work.steps.glob("*") if work.steps.exists() else []:
                        os.replace(kept, tmp / kept.name)
            with atomic_dir(out_dir) as tmp:
                save_weights(trainer, tmp)
                write_fast_paths(tmp)
            log.close()
            os.replace(work.log, log_path)  # the step log under its own name last: the stage is done
            work.remove()
        else:
            save_weights(trainer, work.folder / "unused")  # DeepSpeed gathers the shards from every process
    return Path(out_dir)
