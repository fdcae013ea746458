"""Collect metric JSONs into tidy tables and draw the paper figures.

``FIGURES`` is the one list of the figures the workflow draws (results/figures/<name>.<format>); the table and
plotting functions load on first use, so the workflow reads the list without importing pandas or matplotlib.
"""

import importlib
from typing import NamedTuple


class Figure(NamedTuple):
    draw: str  # module:function of forgetlab.report drawing it from a FigureData
    needs: str | None = None  # the analysis (analysis.run) without which there is nothing to draw


FIGURES = {
    "forgetting": Figure("figures:plot_forgetting"),
    "training": Figure("figures:plot_training"),
    "kl_forgetting": Figure("figures:plot_kl_forgetting"),
    "curves": Figure("figures:plot_curves"),
    "svd": Figure("analysis:plot_svd", "svd"),
    "restore": Figure("analysis:plot_restore", "restore"),
    "attention": Figure("analysis:plot_attention", "attention"),
    "concepts": Figure("analysis:plot_concepts", "concepts"),
    "probe": Figure("analysis:plot_probe", "probe"),
    "drift": Figure("analysis:plot_drift", "drift"),
}
FIGURE_FORMATS = ("png", "pdf")


def active_figures(analyses: list[str]) -> list[str]:
    """The figures a run draws: every summary figure, and those of the analyses it runs."""
    return [name for name, figure in FIGURES.items() if figure.needs is None or figure.needs in analyses]


_EXPORTS = {
    "FigureData": "figures", "draw_figure": "figures", "plot_curves": "figures", "plot_forgetting": "figures",
    "plot_kl_forgetting": "figures", "plot_training": "figures", "TABLE_COLUMNS": "tables",
    "final_checkpoints": "tables", "metrics_table": "tables", "with_deltas": "tables", "with_forgetting": "tables",
    "with_recovery": "tables", "with_seed_summary": "tables", "ordinary": "tables",
}  # fmt: skip
__all__ = sorted(["FIGURES", "FIGURE_FORMATS", "Figure", "active_figures", *_EXPORTS])


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
