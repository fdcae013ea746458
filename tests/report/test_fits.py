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
    assert list(fits.columns) == ["predictor", "method", "n", "r2_linear", "r2_quadratic", "spearman"]
    pooled = fits[fits.method == "all"].set_index("predictor")
    assert list(pooled.index) == ["forward_kl_new", "weight_change"]  # ranked by linear R²
    assert pooled.loc["forward_kl_new", "n"] == 10
    assert pooled.loc["forward_kl_new", "r2_quadratic"] == pytest.approx(1.0)
    assert pooled.loc["forward_kl_new", "r2_linear"] == pytest.approx(r_squared(kl, forgetting, 1))
    assert pooled.loc["forward_kl_new", "spearman"] == pytest.approx(1.0)
    assert pooled.loc["weight_change", "spearman"] == pytest.approx(spearmanr(change, forgetting)[0])
    sft = fits[(fits.method == "sft") & (fits.predictor == "forward_kl_new")].iloc[0]
    assert sft["n"] == 5 and sft["r2_quadratic"] == pytest.approx(1.0)


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
