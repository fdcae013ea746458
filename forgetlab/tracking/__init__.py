"""Experiment trackers (TensorBoard, W&B, MLflow, trackio): the config section (config.py), a lineage's run and
what training tells the trainer (runs.py), and the metrics logged after training (log.py). No tracker is imported
until one logs."""

from .config import TRACKERS, TrackingConfig, require_installed
from .log import log_metrics, summary_numbers
from .runs import run_name, tracker_environment, trainer_arguments

__all__ = [
    "TRACKERS", "TrackingConfig", "log_metrics", "require_installed", "run_name", "summary_numbers",
    "tracker_environment", "trainer_arguments",
]  # fmt: skip
