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
            for task, metric, value in (
                ("new (mean)", "new_task_gain", gain),
                ("prior (mean)", "forgetting", scale * gain**2),
                ("new (mean)", "kl_mean", 10 * scale * gain),
            ):
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
    for lineage, deltas in (
        ("base/sft", {"new": (0.4, 0.3, 0.5), "mmlu": (-0.2, -0.3, -0.1)}),
        ("base/grpo", {"new": (0.3, 0.2, 0.4), "mmlu": (0.0, -0.1, 0.1)}),
    ):
        for task, (value, low, high) in deltas.items():
            rows.append({"model": "m", "lineage": lineage, "stage": lineage[5:], "step": 10, "task": task,
                         "metric": "delta_accuracy", "value": value, "ci_low": low, "ci_high": high})  # fmt: skip
    (panel,) = draw_figure("benchmarks", FigureData(pd.DataFrame(rows, columns=TABLE_COLUMNS)), [tmp_path / "b.png"])
    assert panel["images"] == 1
    assert sorted(panel["texts"]) == sorted(["+0.40*", "-0.20*", "+0.30*", "+0.00"])


def _recovery_table():
    """SFT kept at steps 5 and 10 (final), and GRPO trained from each, on an ID and an OOD task."""
    rows = []
    for lineage, method, step, id_value, ood_value in [
        ("base", "base", 0, 0.1, 0.1), ("base/sft", "sft", 5, 0.5, 0.2), ("base/sft", "sft", 10, 0.8, 0.1),
        ("base/sft/steps/5/grpo", "sft+grpo", 4, 0.6, 0.4), ("base/sft/grpo", "sft+grpo", 4, 0.8, 0.3),
    ]:  # fmt: skip
        for task, value in (("id", id_value), ("ood", ood_value)):
            rows.append({"model": "m", "lineage": lineage, "stage": lineage.rsplit("/", 1)[-1], "method": method,
                         "step": step, "task": task, "metric": "accuracy", "value": value, "ci_low": value - 0.05,
                         "ci_high": value + 0.05})  # fmt: skip
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def test_recovery_puts_each_rl_run_at_the_sft_step_it_started_from(tmp_path):
    from forgetlab.report.recovery import recovery_points

    points = recovery_points(_recovery_table())
    assert sorted(set(zip(points.lineage, points.start))) == [("base/sft/grpo", 10), ("base/sft/steps/5/grpo", 5)]
    panels = draw_figure("recovery", FigureData(_recovery_table(), new_task="id", ood_task="ood"), [tmp_path / "r.png"])
    assert [panel["title"] for panel in panels] == ["id (in-distribution)", "ood (OOD)"]
    first = panels[0]
    assert first["containers"] == 3  # the SFT line and each RL lineage's point, with error bars
    assert first["lines"] >= 2
    figure = FigureData(_recovery_table()[lambda t: ~t.lineage.str.contains("grpo")])
    assert "no data yet" in draw_figure("recovery", figure, [tmp_path / "n.png"])[0]["texts"][0]


def test_curves_of_a_recovery_lineage_branch_at_its_start_step():
    table = _recovery_table()
    curve = _along_lineage(table[table.task == "id"], "base/sft/steps/5/grpo")
    assert curve["total_step"].tolist() == [0, 5, 9]  # base, SFT up to step 5, then GRPO's 4 steps


def test_advantages_draw_the_chosen_steps_and_the_zero_group_share(tmp_path):
    from forgetlab.report.advantages import chosen_steps
    from forgetlab.train.advantages import advantage_summary

    rng = np.random.default_rng(0)
    log = [{"step": s, "reward": 0.1, **advantage_summary(rng.standard_normal(8) * (s < 4), 4)} for s in range(1, 7)]
    logs = {"m: base/grpo": log, "m: base/sft": [{"step": 1, "loss": 1.0}]}
    histogram, zero = draw_figure(
        "advantages", FigureData(pd.DataFrame(columns=TABLE_COLUMNS), logs), [tmp_path / "a.png"]
    )
    assert histogram["title"] == "base/grpo" and histogram["legend"] == 3 and histogram["lines"] == 0
    assert histogram["patches"] == 3  # one outline per chosen step: 1, 4, 6
    assert zero["lines"] == 1
    assert chosen_steps([1, 2, 3, 4, 5, 6], None) == [1, 4, 6] and chosen_steps([1, 2, 3], [2, 9]) == [2]


def test_figure_data_takes_every_figures_setting_of_the_config():
    from dataclasses import fields

    from forgetlab.config import FiguresConfig

    assert {f.name for f in fields(FiguresConfig)} <= {f.name for f in fields(FigureData)}
