"""Collect metric JSONs into tidy tables and draw the paper figures.

``FIGURES`` is the one list of the figures the workflow draws (results/figures/<name>.<format>); the table and
plotting functions load on first use, so the workflow reads the list without importing pandas or matplotlib.
Each registered analysis (forgetlab.analysis.registry) brings its own figure.
"""

from typing import NamedTuple

from ..analysis.registry import ANALYSES
from ..lazy import lazy_exports


class Figure(NamedTuple):
    draw: str  # module:function of forgetlab drawing it from a FigureData
    category: str  # its section of the Snakemake report (its caption: report/<name>.rst)
    needs: str | None = None  # the analysis (analysis.run) without which there is nothing to draw


FIGURES = {
    "forgetting": Figure("report.figures:plot_forgetting", "evaluation"),
    "curves": Figure("report.figures:plot_curves", "evaluation"),
    "benchmarks": Figure("report.figures:plot_benchmarks", "evaluation"),
    "pareto": Figure("report.forgetting:plot_pareto", "forgetting"),
    "kl_forgetting": Figure("report.forgetting:plot_kl_forgetting", "forgetting"),
    "recovery": Figure("report.recovery:plot_recovery", "evaluation"),
    "training": Figure("report.figures:plot_training", "training"),
    "advantages": Figure("report.advantages:plot_advantages", "training"),
    "diagnosis": Figure("report.diagnosis:plot_diagnosis", "what kind of forgetting"),
    "restore": Figure("report.analysis:plot_restore", "analysis", "restore"),
    **{name: Figure(f"analysis.{name}:draw", "analysis", name) for name in ANALYSES},
}
FIGURE_FORMATS = ("png", "pdf")


def active_figures(analyses: list[str]) -> list[str]:
    """The figures a run draws: every summary figure, and those of the analyses it runs."""
    return [name for name, figure in FIGURES.items() if figure.needs is None or figure.needs in analyses]


_MODULES = {
    "figures": ["FigureData", "draw_figure", "plot_curves", "plot_forgetting", "plot_training"],
    "diagnosis": ["diagnosis_table"],
    "fits": ["PREDICTORS", "fit_predictors"],
    "forgetting": ["plot_kl_forgetting", "plot_pareto"],
    "tables": [
        "TABLE_COLUMNS", "final_checkpoints", "item_key", "item_scores", "metrics_table", "ordinary", "with_deltas",
        "with_forgetting", "with_realignment", "with_recovery", "with_seed_summary",
    ],
}  # fmt: skip
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}
__all__ = sorted(["FIGURES", "FIGURE_FORMATS", "Figure", "active_figures", *_EXPORTS])

__getattr__ = lazy_exports(__name__, _EXPORTS)
