"""Collect metric JSONs into tidy tables and draw the paper figures."""

from .figures import plot_forgetting, plot_training
from .tables import TABLE_COLUMNS, metrics_table

__all__ = ["TABLE_COLUMNS", "metrics_table", "plot_forgetting", "plot_training"]
