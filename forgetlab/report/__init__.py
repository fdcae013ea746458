"""Collect metric JSONs into tidy tables and draw the paper figures."""

from .figures import plot_forgetting, plot_kl_forgetting, plot_training
from .tables import TABLE_COLUMNS, metrics_table, with_deltas

__all__ = ["TABLE_COLUMNS", "metrics_table", "plot_forgetting", "plot_kl_forgetting", "plot_training", "with_deltas"]
