"""A tracked run: its name, its W&B id, where each tracker keeps its files, and what the trainer is told.

transformers' tracker callbacks take their folders, projects and run ids from environment variables, not from
TrainingArguments, so a training job sets them (:func:`tracker_environment`) around the trainer.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from pathlib import Path

from .config import TrackingConfig

__all__ = ["environment", "run_folder", "run_id", "run_name", "tracker_environment", "trainer_arguments"]


def run_name(model: str, lineage: str) -> str:
    """The run of a lineage: '<model>/<lineage>' ('smollm2-135m/base/sft-countdown'), the same in every job that
    logs to it."""
    return f"{model}/{lineage}"


def run_id(name: str) -> str:
    """W&B's id of the run ``name``: a hash (W&B ids take no '/'), so a later job (an evaluation) resumes the run
    that training started."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def run_folder(settings: TrackingConfig, tracker: str, name: str) -> Path:
    """A tracker's folder for one run (TensorBoard's event files: <dir>/tensorboard/<model>/<lineage>)."""
    return Path(settings.dir, tracker, name)


def trainer_arguments(settings: TrackingConfig | None, name: str | None) -> dict:
    """The TrainingArguments of tracking: none but ``report_to='none'`` without trackers."""
    if settings is None or not settings.report_to:
        return {"report_to": "none"}
    if not name:
        raise ValueError(f"tracking.report_to {settings.report_to}: give the run a name (run_name)")
    return {"report_to": list(settings.report_to), "run_name": name, "project": settings.project}


def environment(settings: TrackingConfig, name: str, env: dict | None = None) -> dict[str, str]:
    """The environment variables the chosen trackers read for run ``name``; what the user's environment ``env``
    (os.environ) sets for W&B's mode, MLflow's store and trackio's folder is left to it."""
    env = os.environ if env is None else env
    folder, chosen, values = Path(settings.dir).absolute(), settings.report_to, {}
    if "tensorboard" in chosen:
        values["TENSORBOARD_LOGGING_DIR"] = str(run_folder(settings, "tensorboard", name).absolute())
    if "wandb" in chosen:
        values |= {"WANDB_DIR": str(folder), "WANDB_PROJECT": settings.project, "WANDB_RUN_ID": run_id(name),
                   "WANDB_RESUME": "allow", "WANDB_MODE": env.get("WANDB_MODE", settings.wandb_mode)}  # fmt: skip
    if "mlflow" in chosen:
        values["MLFLOW_EXPERIMENT_NAME"] = settings.project
        if "MLFLOW_TRACKING_URI" not in env:  # a file store of its own; MLflow 3 asks to be told that is meant
            values |= {"MLFLOW_TRACKING_URI": (folder / "mlflow").as_uri(), "MLFLOW_ALLOW_FILE_STORE": "true"}
    if "trackio" in chosen:
        values["TRACKIO_DIR"] = env.get("TRACKIO_DIR", str(folder / "trackio"))
    return values


@contextlib.contextmanager
def tracker_environment(settings: TrackingConfig | None, name: str | None):
    """Within: the trackers' environment variables set (:func:`environment`) and their folders made; after: the
    environment as it was, and the runs transformers' callbacks leave open ended (the next stage trained in this
    process starts its own)."""
    values = environment(settings, name) if settings is not None and settings.report_to else {}
    saved = {key: os.environ.get(key) for key in values}
    for key in ("TENSORBOARD_LOGGING_DIR", "WANDB_DIR"):
        if key in values:
            Path(values[key]).mkdir(parents=True, exist_ok=True)
    os.environ.update(values)
    try:
        yield values
    finally:
        _end_open_runs(settings.report_to if values else [])
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _end_open_runs(chosen: list[str]) -> None:
    """End W&B's and MLflow's current run, where this process imported them (TensorBoard's and trackio's callbacks
    close their own at the end of training)."""
    wandb, mlflow = sys.modules.get("wandb"), sys.modules.get("mlflow")
    if "wandb" in chosen and wandb is not None and wandb.run is not None:
        wandb.finish()
    if "mlflow" in chosen and mlflow is not None and mlflow.active_run() is not None:
        mlflow.end_run()
