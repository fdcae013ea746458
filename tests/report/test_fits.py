"""Which measurement predicts forgetting: R² and Spearman against numpy/scipy on known data, per method."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from forgetlab.report import TABLE_COLUMNS, fit_predictors
from forgetlab.report.fits import checkpoint_points, r_squared
from forgetlab.report.forgetting import exponential_fit, pareto_frontier


def test_r_squared_of_an_exact_polynomial_is_one_and_of_noise_small():
    x = np.linspace(0, 3, 12)
    assert r_squared(x, 2 + x - 0.5 * x**2, 2) == pytest.approx(1.0)
    assert r_squared(x, 1 + 3 * x, 1) == pytest.approx(1.0)
    noise = np.random.default_rng(0).standard_normal(200)
    assert r_squared(np.arange(200), noise, 1) < 0.05
    assert np.isnan(r_squared([1, 2, 3], [1, 1, 1], 1)) and np.isnan(r_squared([1, 2, 3], [1, 2, 4], 2))


def _table(points):
    """A metrics table with forgetting, forward KL on the new task and the weight change per checkpoint."""
    rows = []
    for index, (method, kl, change, forgetting) in enumerate(points):
        checkpoint = {"model": "m", "lineage": f"base/{method}-{index}", "stage": f"{method}-{index}",
                      "method": method, "step": 10, "seed": 0, "variant": None, "format": None}  # fmt: skip
        for task, metric, value in (("prior (mean)", "forgetting", forgetting), ("new (mean)", "kl_mean", kl),
                                    ("weights", "weight_change", change)):  # fmt: skip
            rows.append({**checkpoint, "task": task, "metric": metric, "value": value})
    base = {"model": "m", "lineage": "base", "stage": "base", "method": "base", "step": 0, "task": "prior (mean)",
            "metric": "forgetting", "value": 0.0}  # fmt: skip
    return pd.DataFrame([*rows, base], columns=TABLE_COLUMNS)


def test_fit_predictors_ranks_the_predictor_that_explains_forgetting_first():
    kl = np.linspace(0.5, 6, 10)
    change = np.random.default_rng(1).uniform(0, 1, 10)
    methods = ["sft"] * 5 + ["grpo"] * 5
    forgetting = 0.05 * kl**2  # quadratic in KL, unrelated to the weight change
    fits = fit_predictors(_table(zip(methods, kl, change, forgetting)))
    assert list(fits.columns) == ["predictor", "method", "n", "clusters", "r2_linear", "r2_quadratic", "spearman",
                                  "few_points_linear", "few_points_quadratic"]  # fmt: skip
    pooled = fits[fits.method == "all"].set_index("predictor")
    assert list(pooled.index) == ["forward_kl_new", "weight_change"]  # ranked by linear R²
    assert pooled.loc["forward_kl_new", "n"] == 10
    assert pooled.loc["forward_kl_new", "r2_quadratic"] == pytest.approx(1.0)
    assert pooled.loc["forward_kl_new", "r2_linear"] == pytest.approx(r_squared(kl, forgetting, 1))
    assert pooled.loc["forward_kl_new", "spearman"] == pytest.approx(1.0)
    assert pooled.loc["weight_change", "spearman"] == pytest.approx(spearmanr(change, forgetting)[0])
    sft = fits[(fits.method == "sft") & (fits.predictor == "forward_kl_new")].iloc[0]
    assert sft["n"] == 5 and sft["r2_quadratic"] == pytest.approx(1.0)
    # ten points are plenty for both fits; five leave a quadratic (three parameters) two to spare: flagged
    assert not pooled.loc["forward_kl_new", "few_points_linear"]
    assert not pooled.loc["forward_kl_new", "few_points_quadratic"]
    assert sft["few_points_quadratic"] and not sft["few_points_linear"]


def test_checkpoints_in_two_tight_groups_fit_like_two_points_and_are_flagged():
    # the default's shape: three SFT-like checkpoints that forgot and two GRPO-like ones that did not
    kl = [2.0, 2.05, 2.1, 0.1, 0.12]
    forgetting = [0.33, 0.31, 0.33, 0.0, 0.01]
    fits = fit_predictors(_table(zip(["sft"] * 3 + ["grpo"] * 2, kl, [0.5] * 5, forgetting)))
    row = fits[(fits.method == "all") & (fits.predictor == "forward_kl_new")].iloc[0]
    assert row["n"] == 5 and row["clusters"] == 2 and row["r2_linear"] > 0.99
    assert row["few_points_linear"] and row["few_points_quadratic"]


@pytest.mark.parametrize(
    "n, linear, quadratic", [(3, True, True), (4, True, True), (5, False, True), (6, False, False), (40, False, False)]
)
def test_a_fit_with_at_most_two_points_beyond_its_parameters_is_flagged(n, linear, quadratic):
    rng = np.random.default_rng(n)
    kl = np.linspace(0.5, 6, n)
    fits = fit_predictors(_table(zip(["sft"] * n, kl, rng.uniform(0, 1, n), 0.05 * kl + rng.normal(0, 0.1, n))))
    row = fits[(fits.method == "all") & (fits.predictor == "forward_kl_new")].iloc[0]
    assert (row["n"], bool(row["few_points_linear"]), bool(row["few_points_quadratic"])) == (n, linear, quadratic)


@pytest.mark.parametrize("n, few", [(5, True), (15, False)])
def test_the_kl_figure_labels_each_fit_with_its_parameters_and_points_and_flags_few(n, few, tmp_path, monkeypatch):
    from forgetlab.report import FigureData, draw_figure, forgetting

    labels = []
    monkeypatch.setattr(forgetting, "_fit_line", lambda ax, x, y, degree, style, label: labels.append(label))
    kl = np.linspace(0.5, 6, n)
    table = _table(zip(["sft", "grpo"] * n, kl, kl / 6, 0.05 * kl**2))
    scatter, _ = draw_figure("kl_forgetting", FigureData(table), [tmp_path / "kl.png"])
    linear = r_squared(kl, 0.05 * kl**2, 1)
    assert labels == [
        f"linear fit: R² {linear:.2f} (2 params, {n} points)",
        f"quadratic fit: R² 1.00 (3 params, {n} points{': few' if few else ''})",
    ]
    (text,) = [text for text in scatter["texts"] if "R²" in text]
    pooled = text.splitlines()[0]
    assert pooled.startswith(f"all: n={n}  R² lin {linear:.2f}  quad 1.00{'†' if few else ' '} ρ 1.00")
    assert ("† at most 2 points more than the fit's parameters" in text) == (few or n // 2 <= 5)  # per method too


def test_checkpoint_points_leave_out_the_base_and_unmeasured_predictors():
    points = checkpoint_points(_table([("sft", 1.0, 0.1, 0.2), ("grpo", 0.1, 0.01, 0.0)]))
    assert len(points) == 2 and set(points["method"]) == {"sft", "grpo"}
    assert "svd_mean_angle" not in points and "forward_kl_new" in points


def test_pareto_frontier_keeps_the_non_dominated_points():
    x, y = [0.1, 0.2, 0.3, 0.25, 0.05], [0.0, -0.1, -0.3, -0.35, -0.2]
    assert list(pareto_frontier(x, y)) == [0, 1, 2]


def test_exponential_fit_recovers_a_known_curve_with_a_band():
    x = np.linspace(0, 1, 8)
    y = 0.1 - 0.05 * np.exp(2.0 * x)
    curve, low, high = exponential_fit(x, y, x)
    assert curve == pytest.approx(y, abs=1e-6)
    assert np.all(low <= curve + 1e-9) and np.all(high >= curve - 1e-9)
    assert exponential_fit(x[:3], y[:3], x) is None  # too few points to fit three parameters


def test_measures_on_the_analysis_task_are_predictors_whatever_that_task_is():
    table = _table([("sft", 1.0, 0.1, 0.1), ("sft", 2.0, 0.2, 0.3), ("grpo", 3.0, 0.3, 0.2)])
    shifted = [0.2, 0.5, 0.3]  # shifted-token share on the analysis task, which a config names
    extra = [
        {**row, "task": "arithmetic", "metric": "token_shift_shifted", "value": value}
        for row, value in zip(table[table.metric == "forgetting"].to_dict("records"), shifted)
    ]
    points = checkpoint_points(pd.concat([table, pd.DataFrame(extra, columns=TABLE_COLUMNS)]))
    assert sorted(points["token_shift"]) == sorted(shifted)
    assert points.set_index("lineage").loc["base/sft-1", "token_shift"] == 0.5
