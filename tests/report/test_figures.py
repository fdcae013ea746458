"""Every figure of FIGURES draws from the metrics table and the training logs, and draws something when empty."""

import pandas as pd
import pytest

from forgetlab.report import FIGURE_FORMATS, FIGURES, TABLE_COLUMNS, FigureData, draw_figure, metrics_table, with_deltas
from forgetlab.report.figures import _along_lineage

from .test_tables import _curve_table, _entries, _metrics


def _data():
    entries = _entries() + [{"model": "m", "lineage": "base/sft", "stage": "sft", "task": "new"}]
    metrics = _metrics() + [{"task": "new", "n": 10, "kl_mean": 4.0, "kl_mean_ci": [3.0, 5.0]}]
    logs = {"m: base/sft": [{"step": s, "loss": 1 / s} for s in range(1, 4)] + [{"step": 3, "train_runtime": 1.0}]}
    return FigureData(with_deltas(metrics_table(entries, metrics)), logs, "new", "prior")


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_is_drawn_in_every_format(name, tmp_path):
    outputs = [tmp_path / f"{name}.{ext}" for ext in FIGURE_FORMATS]
    draw_figure(name, _data(), outputs)
    assert all(path.stat().st_size > 1000 for path in outputs)


@pytest.mark.parametrize("name", FIGURES)
def test_an_empty_table_still_draws_a_figure(name, tmp_path):
    draw_figure(name, FigureData(pd.DataFrame(columns=TABLE_COLUMNS)), [tmp_path / "empty.png"])
    assert (tmp_path / "empty.png").stat().st_size > 1000


def test_an_unknown_figure_is_refused():
    with pytest.raises(ValueError, match="unknown figure 'pareto'"):
        draw_figure("pareto", _data(), [])


def test_curves_continue_each_stage_where_its_parent_ended(tmp_path):
    table = _curve_table()
    curve = _along_lineage(table[(table.task == "id") & table["format"].isna()], "base/sft-s0/grpo-s0")
    assert curve["total_step"].tolist() == [0, 5, 10, 14]
    draw_figure("curves", FigureData(table), [tmp_path / "c.png"])
    assert (tmp_path / "c.png").stat().st_size > 1000
