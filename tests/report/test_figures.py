"""Every figure of FIGURES draws from the metrics table and the training logs, and draws something when empty."""

import numpy as np
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
    panels = draw_figure(name, FigureData(pd.DataFrame(columns=TABLE_COLUMNS)), [tmp_path / "empty.png"])
    assert (tmp_path / "empty.png").stat().st_size > 1000
    assert panels


def _sweep_table():
    """Forgetting, gain and KL of three methods' checkpoints (five each), with intervals."""
    rng = np.random.default_rng(0)
    rows = []
    for method, scale in (("sft", 1.0), ("grpo", 0.1), ("sft+grpo", 0.8)):
        for step in range(1, 6):
            gain = 0.1 * step * (1 + 0.1 * rng.standard_normal())
            checkpoint = {"model": "m", "lineage": f"base/{method}", "stage": method, "method": method,
                          "step": step, "seed": 0}  # fmt: skip
            for task, metric, value in (("new (mean)", "new_task_gain", gain),
                                        ("prior (mean)", "forgetting", scale * gain**2),
                                        ("new (mean)", "kl_mean", 10 * scale * gain)):  # fmt: skip
                rows.append({**checkpoint, "task": task, "metric": metric, "value": value, "ci_low": value - 0.02,
                             "ci_high": value + 0.02})  # fmt: skip
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def test_pareto_draws_each_method_with_error_bars_frontier_and_fit(tmp_path):
    panels = draw_figure("pareto", FigureData(_sweep_table(), new_task="new"), [tmp_path / "p.png"])
    (panel,) = panels
    assert panel["legend"] == 4  # the base and three methods
    assert panel["containers"] == 3  # error bars per method
    assert panel["lines"] >= 3 + 3  # a frontier and a fit per method (five points each)


def test_kl_forgetting_prints_the_fits_and_ranks_the_predictors(tmp_path):
    scatter, ranking = draw_figure("kl_forgetting", FigureData(_sweep_table()), [tmp_path / "k.png"])
    assert scatter["collections"] == 3 and scatter["legend"] == 5  # three methods, linear and quadratic fits
    assert any("all: n=15" in text and "R²" in text for text in scatter["texts"])
    assert ranking["containers"] == 2  # linear and quadratic bars


def test_figures_say_no_data_yet_instead_of_failing(tmp_path):
    for name in ("pareto", "kl_forgetting"):
        panels = draw_figure(name, FigureData(pd.DataFrame(columns=TABLE_COLUMNS)), [tmp_path / f"{name}.png"])
        assert any("no data yet" in text for text in panels[0]["texts"])


def test_an_unknown_figure_is_refused():
    with pytest.raises(ValueError, match="unknown figure 'radar'"):
        draw_figure("radar", _data(), [])


def test_curves_continue_each_stage_where_its_parent_ended(tmp_path):
    table = _curve_table()
    curve = _along_lineage(table[(table.task == "id") & table["format"].isna()], "base/sft-s0/grpo-s0")
    assert curve["total_step"].tolist() == [0, 5, 10, 14]
    draw_figure("curves", FigureData(table), [tmp_path / "c.png"])
    assert (tmp_path / "c.png").stat().st_size > 1000


def test_benchmarks_grid_has_a_cell_per_checkpoint_and_task_with_a_star_where_sure(tmp_path):
    rows = []
    for lineage, deltas in (("base/sft", {"new": (0.4, 0.3, 0.5), "mmlu": (-0.2, -0.3, -0.1)}),
                            ("base/grpo", {"new": (0.3, 0.2, 0.4), "mmlu": (0.0, -0.1, 0.1)})):  # fmt: skip
        for task, (value, low, high) in deltas.items():
            rows.append({"model": "m", "lineage": lineage, "stage": lineage[5:], "step": 10, "task": task,
                         "metric": "delta_accuracy", "value": value, "ci_low": low, "ci_high": high})  # fmt: skip
    (panel,) = draw_figure("benchmarks", FigureData(pd.DataFrame(rows, columns=TABLE_COLUMNS)),
                                     [tmp_path / "b.png"])  # fmt: skip
    assert panel["images"] == 1
    assert sorted(panel["texts"]) == sorted(["+0.40*", "-0.20*", "+0.30*", "+0.00"])
