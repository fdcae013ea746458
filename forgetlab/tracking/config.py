"""The tracking config (``tracking:``): which experiment trackers receive the training logs and evaluation metrics,
and whether their packages are installed."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from ..options import ConfigError, Options, option

__all__ = ["TRACKERS", "WANDB_MODES", "Tracker", "TrackingConfig", "require_installed"]


@dataclass(frozen=True)
class Tracker:
    modules: tuple[str, ...]  # any of them importable will do
    package: str  # what pip installs (the extra of the same name as the tracker lists it)


# transformers' report_to names of the trackers forgetlab sets up (where their files go, how evaluations reach
# the run): TensorBoard through torch's or tensorboardX's SummaryWriter, as transformers' callback writes it
TRACKERS = {
    "tensorboard": Tracker(("tensorboard", "tensorboardX"), "tensorboardX"),
    "wandb": Tracker(("wandb",), "wandb"),
    "mlflow": Tracker(("mlflow",), "mlflow-skinny"),
    "trackio": Tracker(("trackio",), "trackio"),
}
WANDB_MODES = ("offline", "online")


@dataclass(kw_only=True)
class TrackingConfig(Options):
    """Experiment trackers that receive every stage's training logs and every checkpoint's evaluation metrics
    (the step logs and metric files are written either way): a run per lineage, named ``<model>/<lineage>``.
    Changing this section makes no checkpoint or metric file stale."""

    report_to: list[str] = option(
        help="trackers, by transformers' report_to names (empty, the default: none); each needs its package: "
        '`pip install -e ".[<tracker>]"`',
        factory=list,
        items={"type": "string", "enum": list(TRACKERS)},
        uniqueItems=True,
    )
    project: str = option("forgetlab", "W&B project, MLflow experiment and trackio project of the runs", minLength=1)
    dir: str = option(
        "tracking",
        "the trackers' local files, relative to the working directory like logs/: `<dir>/tensorboard/<run>`, "
        "`<dir>/wandb`, `<dir>/mlflow` (unless MLFLOW_TRACKING_URI is set), `<dir>/trackio` (unless TRACKIO_DIR is "
        "set)",
        minLength=1,
    )
    wandb_mode: str = option(
        "offline",
        "W&B's mode where the environment sets no WANDB_MODE: offline (run folders under `<dir>/wandb`, uploaded "
        "later with `wandb sync`) or online",
        enum=list(WANDB_MODES),
    )


def require_installed(report_to: list[str]) -> None:
    """Raise ConfigError (one line, naming the package and the extra) for the first tracker whose package cannot
    be imported, before any job starts rather than in every training job."""
    for name in report_to:
        tracker = TRACKERS[name]
        if not any(importlib.util.find_spec(module) for module in tracker.modules):
            raise ConfigError(
                f"tracking.report_to: {name} needs the {tracker.package} package, which is not installed: "
                f'pip install -e ".[{name}]"'
            )
