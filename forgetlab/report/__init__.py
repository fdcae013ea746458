"""Collect metric JSONs into tidy tables and draw the paper figures."""

from .figures import plot_curves, plot_forgetting, plot_kl_forgetting, plot_training
from .tables import TABLE_COLUMNS, final_checkpoints, metrics_table, with_deltas, with_forgetting, with_seed_summary

__all__ = [
    "TABLE_COLUMNS", "final_checkpoints", "metrics_table", "plot_curves", "plot_forgetting", "plot_kl_forgetting",
    "plot_training", "with_deltas", "with_forgetting", "with_seed_summary",
]  # fmt: skip
