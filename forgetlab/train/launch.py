"""Run a training stage in this process, or, given several GPUs, in one process per GPU under accelerate launch.

``python -m forgetlab.train.launch JOB.json`` is the worker every launched process runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ..data import read_records
from ..io import read_json, write_json
from ..tasks import make_task
from ..tracking import TrackingConfig
from .config import StageConfig
from .stage import train_stage

__all__ = ["accelerate_command", "run_stage"]


def accelerate_command(processes: int, accelerate_config: str | os.PathLike, job: str | os.PathLike) -> list[str]:
    """argv that runs the training job described in ``job`` in ``processes`` processes (one per GPU) under
    ``accelerate launch`` with ``accelerate_config`` (e.g. config/deepspeed/zero3.yaml)."""
    if processes < 2:
        raise ValueError(f"a multi-GPU launch needs at least 2 processes, not {processes}")
    launcher = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(accelerate_config)]
    return [*launcher, "--num_processes", str(processes), "-m", __name__, str(job)]


def run_stage(
    stage: dict,
    task_name: str,
    task: dict,
    data: str | os.PathLike,
    model_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    log_path: str | os.PathLike,
    checkpoint_dir: str | os.PathLike | None = None,
    device: str = "auto",
    gpus: int | None = None,
    accelerate_config: str | os.PathLike | None = None,
    replay_task: dict | None = None,
    replay_data: str | os.PathLike | None = None,
    resume_dir: str | os.PathLike | None = None,
    fast_paths: bool = True,
    tracking: dict | None = None,
    run_name: str | None = None,
) -> Path:
    """Train the stage config ``stage`` on the records in ``data`` of task ``task_name`` (config entry ``task``),
    with a replay stage's prior task (config entry ``replay_task``, records in ``replay_data``): here, or with
    ``gpus`` > 1 under accelerate with ``accelerate_config`` (each step keeps batch_size prompts). With
    ``resume_dir`` the trainer state is saved there and a rerun after a kill resumes from it; ``fast_paths``: see
    forgetlab.compat; ``tracking`` (the config's tracking section) and ``run_name``: the trackers training reports
    to, as that run (forgetlab.tracking)."""
    job = {
        "stage": stage, "task_name": task_name, "task": task, "data": str(data), "model_dir": str(model_dir),
        "out_dir": str(out_dir), "log_path": str(log_path), "device": device,
        "checkpoint_dir": None if checkpoint_dir is None else str(checkpoint_dir), "replay_task": replay_task,
        "replay_data": None if replay_data is None else str(replay_data),
        "resume_dir": None if resume_dir is None else str(resume_dir), "fast_paths": fast_paths,
        "tracking": tracking, "run_name": run_name,
    }  # fmt: skip
    if (gpus or 0) <= 1:
        return _train(job)
    if accelerate_config is None:
        raise ValueError(f"training on {gpus} GPUs needs an accelerate config (e.g. config/deepspeed/zero3.yaml)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "job.json")
        write_json(job, path)
        subprocess.run(
            accelerate_command(gpus, accelerate_config, path), check=True, stdout=sys.stdout, stderr=sys.stderr
        )
    return Path(out_dir)


def _train(job: dict) -> Path:
    stage = StageConfig.from_dict(job["stage"], "stage")
    task = make_task(job["task_name"], job["task"])
    replay = None
    if stage.replay is not None:
        if not job.get("replay_data"):
            raise ValueError(f"stage replays task {stage.replay.task!r}: give its training records (replay_data)")
        replay_task = make_task(stage.replay.task, job["replay_task"])
        replay = (replay_task, read_records(replay_task, job["replay_data"]))
    tracking = TrackingConfig.from_dict(job["tracking"], "tracking") if job.get("tracking") else None
    return train_stage(
        stage, task, read_records(task, job["data"]), job["model_dir"], job["out_dir"], job["log_path"],
        job["checkpoint_dir"], job["device"], replay, job.get("resume_dir"), job.get("fast_paths", True),
        tracking, job.get("run_name"),
    )  # fmt: skip


if __name__ == "__main__":
    _train(read_json(sys.argv[1]))
