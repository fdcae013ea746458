"""How the figures draw: markers on short series, integer step axes, one colour per lineage."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.ticker import MaxNLocator

from forgetlab.report import TABLE_COLUMNS, FigureData, draw_figure

from .test_figures import _recovery_table


@pytest.fixture
def drawn(monkeypatch):
    """Draw a figure and keep it open: returns the matplotlib figure instead of closing it."""
    import forgetlab.report.advantages
    import forgetlab.report.figures
    import forgetlab.report.recovery

    kept = []

    def keep(fig, outputs):
        kept.append(fig)
        return []

    for module in (forgetlab.report.figures, forgetlab.report.advantages, forgetlab.report.recovery):
        monkeypatch.setattr(module, "save_figure", keep)

    def draw(name, data):
        draw_figure(name, data, [])
        return kept[-1]

    yield draw
    for fig in kept:
        plt.close(fig)


def _logs():
    """A GRPO run of one logged step beside an SFT run of three."""
    return {
        "m: base/grpo": [{"step": 1, "loss": 0.5, "reward": 0.3, "rewards/correct/mean": 0.25}],
        "m: base/sft": [{"step": s, "loss": 1 / s} for s in (1, 2, 3)],
    }


def _panel(fig, title):
    (ax,) = [ax for ax in fig.axes if ax.get_title() == title]
    return ax


def _drawn_lines(ax):
    return [line for line in ax.lines if len(line.get_xdata())]  # legend proxies hold no points


def test_a_training_series_of_one_step_is_drawn_as_a_marker(drawn):
    fig = drawn("training", FigureData(pd.DataFrame(columns=TABLE_COLUMNS), _logs()))
    for title in ("reward (weighted sum)", "reward correct (mean)"):
        (line,) = _drawn_lines(_panel(fig, title))
        assert list(line.get_xdata()) == [1]
        assert line.get_marker() not in ("None", "", " ", None) and line.get_markersize() >= 4
    lines = _drawn_lines(_panel(fig, "loss"))
    assert sorted(len(line.get_xdata()) for line in lines) == [1, 3]
    assert all(line.get_marker() not in ("None", "", " ") for line in lines)  # short series: every point marked


def test_a_long_training_series_keeps_a_dozen_markers():
    from forgetlab.report.style import MARKERS_PER_LINE, thin_markers

    fig, ax = plt.subplots()
    (long,) = ax.plot(range(200), range(200), marker="o")
    (short,) = ax.plot(range(5), range(5), marker="o")
    thin_markers(ax)
    assert long.get_markevery() == 200 // MARKERS_PER_LINE + 1 and short.get_markevery() is None
    plt.close(fig)


def _integer_ticks(ax):
    locator = ax.xaxis.get_major_locator()
    assert isinstance(locator, MaxNLocator) and locator._integer
    ticks = [tick for tick in ax.get_xticks() if ax.get_xlim()[0] <= tick <= ax.get_xlim()[1]]
    assert ticks and all(float(tick).is_integer() for tick in ticks)
    return ticks


def test_step_axes_tick_whole_steps_only(drawn):
    fig = drawn("training", FigureData(pd.DataFrame(columns=TABLE_COLUMNS), _logs()))
    fig.canvas.draw()
    assert _integer_ticks(_panel(fig, "reward (weighted sum)")) == [1]  # one step: one tick, no 0.96, 0.98
    assert set(_integer_ticks(_panel(fig, "loss"))) <= {0, 1, 2, 3, 4}  # no 1.2, 1.4
    fig = drawn("curves", FigureData(_recovery_table()))
    fig.canvas.draw()
    for ax in fig.axes:
        _integer_ticks(ax)


def test_the_advantages_zero_share_axis_ticks_whole_steps(drawn):
    from forgetlab.train.advantages import advantage_summary

    log = [{"step": s, **advantage_summary([1.0, -1.0, 0.0, 0.0], 2)} for s in (1, 2)]
    fig = drawn("advantages", FigureData(pd.DataFrame(columns=TABLE_COLUMNS), {"m: base/grpo": log}))
    fig.canvas.draw()
    assert _integer_ticks(fig.axes[1]) == [1, 2]


def test_the_lineage_palette_has_no_two_near_identical_colours():
    import itertools

    import numpy as np
    from matplotlib.colors import to_rgb

    from forgetlab.report.style import BASE_COLOUR, LINEAGE_PALETTE

    colours = [np.array(to_rgb(colour)) for colour in [*LINEAGE_PALETTE, BASE_COLOUR]]
    # seaborn's colorblind orange and vermilion, the pair that looked alike, lie 0.20 apart
    assert min(np.linalg.norm(a - b) for a, b in itertools.combinations(colours, 2)) > 0.3


def test_lineage_colours_are_distinct_and_independent_of_what_else_a_figure_shows():
    from forgetlab.report.style import BASE_COLOUR, lineage_colours

    keys = [("m", "base"), ("m", "base/sft"), ("m", "base/grpo"), ("m", "base/sft/grpo")]
    colours = lineage_colours(keys)
    assert colours[("m", "base")] == BASE_COLOUR
    assert len({colours[key] for key in keys}) == 4
    assert lineage_colours(reversed(keys)) == colours  # the order lineages come in does not matter


def _colour(artist):
    from matplotlib.colors import to_hex

    if hasattr(artist, "get_color"):
        return to_hex(artist.get_color())
    if hasattr(artist, "lines"):
        return to_hex(artist.lines[0].get_color())  # an errorbar container: its data line
    return to_hex(artist.patches[0].get_facecolor())  # bars


def _legend_colours(fig):
    handles, labels = [], []
    for ax in fig.axes:
        h, lab = ax.get_legend_handles_labels()
        handles, labels = handles + h, labels + lab
    for legend in fig.legends:
        handles += legend.legend_handles
        labels += [text.get_text() for text in legend.get_texts()]
    return {label: _colour(handle) for handle, label in zip(handles, labels)}


def test_a_lineage_has_the_same_colour_in_every_figure(drawn):
    table = _recovery_table()
    logs = {f"m: {lineage}": [{"step": 1, "loss": 0.5}] for lineage in set(table.lineage) - {"base"}}
    data = FigureData(table, logs, new_task="id", prior_task="ood")
    from matplotlib.colors import to_hex

    expected = {lineage: to_hex(data.colour("m", lineage)) for lineage in set(table.lineage)}
    assert len(set(expected.values())) == len(expected)  # five lineages, five colours
    training = _legend_colours(drawn("training", data))
    assert {label.removeprefix("m: "): colour for label, colour in training.items()} == {
        lineage: colour for lineage, colour in expected.items() if lineage != "base"
    }
    curves = _legend_colours(drawn("curves", data))
    assert curves == {lineage: expected[lineage] for lineage in curves} and len(curves) == 2  # the two leaves
    forgetting = _legend_colours(drawn("forgetting", data))
    assert {label.removeprefix("m: "): c for label, c in forgetting.items() if label.startswith("m: ")} == expected
    recovery = _legend_colours(drawn("recovery", data))
    assert recovery["base/sft (its checkpoints)"] == expected["base/sft"]
    assert recovery["base/sft/grpo"] == expected["base/sft/grpo"]
    assert recovery["base/sft/steps/5/grpo"] == expected["base/sft/steps/5/grpo"]
