"""Collect metric JSONs into tidy tables and draw the paper figures.

``FIGURES`` is the one list of the figures the workflow draws (results/figures/<name>.<format>); the table and
plotting functions load on first use, so the workflow reads the list without importing pandas or matplotlib.
"""

import importlib

# name -> the function of forgetlab.report.figures that draws it, from a FigureData
FIGURES = {
    "forgetting": "plot_forgetting",
    "training": "plot_training",
    "kl_forgetting": "plot_kl_forgetting",
    "curves": "plot_curves",
}
FIGURE_FORMATS = ("png", "pdf")

_EXPORTS = {
    "FigureData": "figures", "draw_figure": "figures", "plot_curves": "figures", "plot_forgetting": "figures",
    "plot_kl_forgetting": "figures", "plot_training": "figures", "TABLE_COLUMNS": "tables",
    "final_checkpoints": "tables", "metrics_table": "tables", "with_deltas": "tables", "with_forgetting": "tables",
    "with_seed_summary": "tables",
}  # fmt: skip
__all__ = sorted(["FIGURES", "FIGURE_FORMATS", *_EXPORTS])


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
