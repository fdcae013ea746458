"""Uncertainty for metrics computed over items."""

from __future__ import annotations

import numpy as np

__all__ = ["bootstrap_ci", "paired_bootstrap_ci", "share_recovered"]


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


def share_recovered(after, before, target):
    """(after - before) / (target - before): the share of what was lost against ``target`` that ``after`` brings
    back (a restore's recovery, a re-alignment); NaN where nothing was lost. Numbers give a float, arrays (one
    value per bootstrap resample) an array."""
    after, before, target = (np.asarray(value, dtype=float) for value in (after, before, target))
    lost = target - before
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(np.abs(lost) > 1e-9, (after - before) / lost, np.nan)
    return float(share) if share.ndim == 0 else share
