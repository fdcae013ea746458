"""Uncertainty for metrics computed over items."""

from __future__ import annotations

import numpy as np

__all__ = ["bootstrap_ci", "paired_bootstrap_ci"]


def bootstrap_ci(values, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (resampling items)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(n_boot, values.size))].mean(axis=1)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def paired_bootstrap_ci(pairs, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over ``pairs`` of mean(a - b), where each pair (a, b) scores
    the same items in the same order (a checkpoint and its base): the items of each pair are resampled once and
    the difference taken on the resample, so what both get right or wrong alike adds no width."""
    differences = [np.asarray(a, dtype=float) - np.asarray(b, dtype=float) for a, b in pairs]
    if not differences or any(d.size == 0 for d in differences):
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.mean([d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1) for d in differences], axis=0)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)
