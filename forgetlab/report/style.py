"""How the figures tell things apart: one colour and marker per method, one colour per lineage, line styles and
markers in turn, whole-number step axes. Every figure takes its colours from here, so a method or a lineage
looks the same in every figure of a run."""

from __future__ import annotations

from collections.abc import Iterable

from matplotlib.ticker import MaxNLocator

__all__ = [
    "BASE_COLOUR", "DASHES", "LINEAGE_PALETTE", "MARKERS", "MARKERS_PER_LINE", "integer_steps", "lineage_colours",
    "method_style", "thin_markers",
]  # fmt: skip

# one colour and marker per method in every figure; markers keep methods apart in black and white
_METHOD_STYLES = [("#0072B2", "o"), ("#D55E00", "s"), ("#009E73", "^"), ("#CC79A7", "D"), ("#E69F00", "v"),
                  ("#56B4E9", "P"), ("#000000", "X")]  # fmt: skip
_KNOWN_METHODS = ["sft", "grpo", "sft+grpo", "rloo", "sft+rloo"]


def method_style(method: str) -> tuple[str, str]:
    """(colour, marker) of a method ('sft', 'grpo', 'sft+grpo', 'rloo', ...): fixed for the usual ones, so a method
    looks the same in every figure and every run."""
    method = method if isinstance(method, str) else "base"  # a table without methods reads NaN
    index = _KNOWN_METHODS.index(method) if method in _KNOWN_METHODS else 5 + sum(map(ord, method)) % 2
    return _METHOD_STYLES[index]


# Paul Tol's "bright" qualitative scheme (distinct in hue and lightness, and for colour-blind readers), ordered so
# the first colours a run uses differ most; a run of more lineages reuses them, its lines still apart by marker
# and dashes
LINEAGE_PALETTE = ["#4477AA", "#EE6677", "#228833", "#AA3377", "#CCBB44", "#66CCEE", "#BBBBBB"]
BASE_COLOUR = "#000000"  # the base model, where a figure draws it


def lineage_colours(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The colour of each (model, lineage) of a run: the base black, the others LINEAGE_PALETTE in sorted order.
    The one mapping from lineages to colours: figures colour a lineage by the mapping of every lineage of the run
    (forgetlab.report.figures.FigureData.lineage_colours), so it keeps its colour in figures that show only some."""
    keys = sorted(set(keys))
    trained = [key for key in keys if key[1] != "base"]
    colours = {key: LINEAGE_PALETTE[index % len(LINEAGE_PALETTE)] for index, key in enumerate(trained)}
    return colours | {key: BASE_COLOUR for key in keys if key[1] == "base"}


DASHES = ["-", "--", ":", "-."]  # line styles in turn, for black and white
MARKERS = "osD^vPX"  # filled markers in turn: a series of one point is its marker
MARKERS_PER_LINE = 12  # a longer line shows a marker every few points, so its markers do not merge into a band


def thin_markers(ax) -> None:
    """Keep about MARKERS_PER_LINE markers on each long line of ``ax``; short lines and single points keep all."""
    for line in ax.lines:
        points = len(line.get_xdata())
        if points > MARKERS_PER_LINE:
            line.set_markevery(-(-points // MARKERS_PER_LINE))


def integer_steps(ax, axis: str = "x") -> None:
    """Ticks at whole numbers on a step axis (never 1.2, 1.4 between two steps)."""
    # min_n_ticks=1: a single step (view 0.95-1.05) still gets its one integer tick, not fractions
    getattr(ax, f"{axis}axis").set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
