"""GRPO advantages as logged per step: a histogram over fixed bins and the share of groups that teach nothing.

A group whose completions all get the same reward has all-zero advantages and no gradient; how many groups do is
how much of a step's sampling was wasted (seed 001's histogram). Fixed bins make steps and runs comparable.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ADVANTAGE_EDGES", "HISTOGRAM_KEY", "ZERO_GROUPS_KEY", "advantage_summary"]

# 25 bins of width 0.25 centred on -3 ... 3, so exact zeros sit in a bin of their own; values beyond go to the
# outermost bins (group-scaled advantages of G completions lie within ±(G-1)/sqrt(G))
ADVANTAGE_EDGES = np.linspace(-3.125, 3.125, 26)
HISTOGRAM_KEY, ZERO_GROUPS_KEY = "advantages/histogram", "advantages/zero_groups"


def advantage_summary(advantages, group_size: int) -> dict:
    """{histogram: counts per ADVANTAGE_EDGES bin, zero_groups: share of groups of ``group_size`` consecutive
    advantages that are all zero} for one step's advantages; empty when there are none."""
    values = np.asarray(advantages, dtype=float)
    if values.size == 0:
        return {}
    counts, _ = np.histogram(np.clip(values, ADVANTAGE_EDGES[0], ADVANTAGE_EDGES[-1]), ADVANTAGE_EDGES)
    groups = values[: values.size // group_size * group_size].reshape(-1, group_size)
    zero = float(np.all(np.abs(groups) < 1e-6, axis=1).mean()) if len(groups) else float("nan")
    return {HISTOGRAM_KEY: counts.tolist(), ZERO_GROUPS_KEY: zero}
