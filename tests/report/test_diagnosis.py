"""What kind of forgetting: the diagnosis table from a constructed metrics table, and its figure."""

import pandas as pd
import pytest

from forgetlab.report import TABLE_COLUMNS, FigureData, diagnosis_table, draw_figure

REALIGNED = "realigned/arithmetic"


def _row(lineage, metric, value, task="arithmetic", step=20, fmt=None, variant=None, ci=(None, None)):
    method, step = ("base", 0) if lineage == "base" else ("sft", step)
    return {"model": "m", "lineage": lineage, "stage": method, "method": method, "step": step,
            "task": task, "format": fmt, "metric": metric, "value": value, "ci_low": ci[0], "ci_high": ci[1],
            "seed": None, "variant": variant}  # fmt: skip


def _table() -> pd.DataFrame:
    rows = [
        _row("base", "accuracy", 0.4), _row("base", "realign_gain", 0.05, variant=REALIGNED),
        _row("base/sft", "accuracy", 0.1), _row("base/sft", "delta_accuracy", -0.3, ci=(-0.4, -0.2)),
        _row("base/sft", "delta_accuracy", -0.05, fmt="natural", ci=(-0.1, 0.0)),
        _row("base/sft", "delta_ref_loglik_per_token", 0.2, ci=(0.1, 0.3)),
        _row("base/sft", "realignment", 0.8, variant=REALIGNED, ci=(0.5, 1.1)),
        _row("base/sft", "realign_gain", 0.24, variant=REALIGNED),
        _row("base/sft", "realignment", 0.1, variant=REALIGNED, fmt="natural"),  # the further format's: not read
        _row("base/sft", "token_shift_shifted", 0.3), _row("base/sft", "right_to_wrong", 0.32, ci=(0.2, 0.45)),
        _row("base/sft", "accuracy", 0.9, task="countdown"),  # the trained task: no diagnosis row
        _row("base/sft", "accuracy", 0.2, step=10), _row("base/sft", "delta_accuracy", -0.2, step=10),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def test_each_test_lands_in_its_column_with_its_interval_turned_into_a_loss():
    table = diagnosis_table(_table(), {"base/sft": ["countdown"]})
    assert list(zip(table["lineage"], table["step"], table["task"])) == [
        ("base/sft", 20, "arithmetic"),
        ("base/sft", 10, "arithmetic"),
    ]
    final = table.iloc[0]
    assert (final["forgetting"], final["forgetting_ci_low"], final["forgetting_ci_high"]) == (0.3, 0.2, 0.4)
    assert final["further_format"] == "natural" and final["forgetting_further"] == 0.05
    assert final["format_recovered"] == pytest.approx(1 - 0.05 / 0.3)
    assert (final["realignment"], final["realignment_ci_low"], final["realign_gain"]) == (0.8, 0.5, 0.24)
    assert final["control_share"] == pytest.approx(0.05 / 0.3)
    assert (final["knowledge"], final["token_shifted"], final["right_to_wrong"]) == (0.2, 0.3, 0.32)
    step = table.iloc[1]  # a kept step: only what was measured of it
    assert step["forgetting"] == pytest.approx(0.2) and pd.isna(step["realignment"]) and pd.isna(step["knowledge"])


def test_the_figure_draws_one_row_per_checkpoint_and_says_which_tests_did_not_run(tmp_path):
    data = FigureData(
        _table(), prior_task="arithmetic", diagnosis=diagnosis_table(_table(), {"base/sft": ["countdown"]})
    )
    panels = draw_figure("diagnosis", data, [tmp_path / "diagnosis.png"])
    assert (tmp_path / "diagnosis.png").stat().st_size > 0
    assert len(panels) == 5
    nothing = diagnosis_table(_table().iloc[:2], {})  # the base alone: no row, every column
    assert nothing.empty and "realignment_ci_low" in nothing
    empty = FigureData(_table(), prior_task="arithmetic", diagnosis=nothing)
    draw_figure("diagnosis", empty, [tmp_path / "empty.png"])
    assert (tmp_path / "empty.png").exists()
