"""Metrics logged after training, to the run of the lineage a checkpoint belongs to, at the checkpoint's step
(an evaluation's accuracy beside the training loss it followed)."""

from __future__ import annotations

import math
import os
import time
import uuid

from .config import TrackingConfig
from .runs import run_folder, run_id, tracker_environment

__all__ = ["log_metrics", "summary_numbers"]


def summary_numbers(metrics: dict, prefix: str) -> dict[str, float]:
    """The finite numbers of a metrics file (not its texts, flags or lists), each under ``prefix``:
    {'accuracy': 0.5} -> {'eval/countdown/accuracy': 0.5}."""
    return {
        f"{prefix}/{key}": float(value)
        for key, value in metrics.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    }


def log_metrics(settings: TrackingConfig, name: str, step: int, metrics: dict[str, float]) -> None:
    """Log ``metrics`` at ``step`` of run ``name`` to every tracker of ``settings``: into the run training wrote
    to, or a new one of that name (the base model's)."""
    if not settings.report_to or not metrics:
        return
    with tracker_environment(settings, name):
        for tracker in settings.report_to:
            LOGGERS[tracker](settings, name, step, metrics)


def _tensorboard(settings: TrackingConfig, name: str, step: int, metrics: dict[str, float]) -> None:
    try:  # the writer transformers' callback uses: torch's with tensorboard installed, else tensorboardX's
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        from tensorboardX import SummaryWriter
    # an event file of its own (TensorBoard reads every file of a run's folder): the writer names its file by the
    # second and the host, which two evaluations finishing together share
    folder = run_folder(settings, "tensorboard", name)
    writer = SummaryWriter(log_dir=str(folder), filename_suffix=f".{uuid.uuid4().hex}")
    for key, value in metrics.items():
        writer.add_scalar(key, value, step)
    writer.close()


def _wandb(settings: TrackingConfig, name: str, step: int, metrics: dict[str, float]) -> None:
    import wandb

    run = wandb.init(
        project=settings.project, id=run_id(name), name=name, resume="allow", dir=os.environ["WANDB_DIR"],
        mode=os.environ["WANDB_MODE"],
    )  # fmt: skip
    # W&B's own step only grows within a run; the x axis is the training step, as transformers' callback logs it
    run.define_metric("train/global_step")
    run.define_metric("*", step_metric="train/global_step", step_sync=True)
    run.log({"train/global_step": step, **metrics})
    run.finish()


def _mlflow(settings: TrackingConfig, name: str, step: int, metrics: dict[str, float]) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name(settings.project)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(settings.project)
    found = client.search_runs(
        [experiment_id], f"attributes.run_name = '{name}'", order_by=["attributes.start_time DESC"], max_results=1
    )
    run = found[0].info.run_id if found else client.create_run(experiment_id, run_name=name).info.run_id
    now = int(time.time() * 1000)
    for key, value in metrics.items():
        client.log_metric(run, key, value, timestamp=now, step=step)
    if not found:
        client.set_terminated(run)


def _trackio(settings: TrackingConfig, name: str, step: int, metrics: dict[str, float]) -> None:
    import trackio

    trackio.init(project=settings.project, name=name, resume="allow")
    trackio.log(metrics, step=step)
    trackio.finish()


LOGGERS = {"tensorboard": _tensorboard, "wandb": _wandb, "mlflow": _mlflow, "trackio": _trackio}
