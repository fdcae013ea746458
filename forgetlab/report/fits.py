"""Which measurement predicts forgetting: linear and quadratic fits of forgetting on each candidate predictor,
over every trained checkpoint of a run (RL's Razor's question, asked of every measurement forgetlab makes)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ..lineages import BASE
from .tables import NEW_TASKS, PRIOR_TASKS, ordinary

__all__ = [
    "FIT_PARAMETERS", "PREDICTORS", "PREDICTOR_COLUMNS", "SPARE_POINTS", "Predictor", "checkpoint_points",
    "checkpoint_values", "clusters", "constant", "few_points", "fit_predictors", "r_squared",
]  # fmt: skip


class Predictor(NamedTuple):
    task: str | None  # the task and metric of its rows in the metrics table (None: the analysis task's)
    metric: str
    label: str  # for figures


# the candidate predictors of forgetting; those a run did not measure are skipped
PREDICTORS = {
    "forward_kl_new": Predictor(NEW_TASKS, "kl_mean", "KL(base‖model), new task"),
    "reverse_kl_new": Predictor(NEW_TASKS, "reverse_kl_mean", "KL(model‖base), new task"),
    "forward_kl_prior": Predictor(PRIOR_TASKS, "kl_mean", "KL(base‖model), prior tasks"),
    "weight_change": Predictor("weights", "weight_change", "‖ΔW‖ / ‖W‖"),
    "svd_mean_angle": Predictor("weights", "svd_mean_angle", "mean principal angle"),
    "unchanged_share_bf16": Predictor("weights", "update_unchanged_share_bf16", "share of weights unchanged (bf16)"),
    "principal_share": Predictor("weights", "update_principal_share", "update energy in the top singular subspaces"),
    "token_shift": Predictor(None, "token_shift_shifted", "shifted-token share, prior task"),
    # a part of the forgetting itself (accuracy change = wrong -> right - right -> wrong): a check, not a cause
    "right_to_wrong": Predictor(None, "right_to_wrong", "right -> wrong share, prior task"),
}
PREDICTOR_COLUMNS = [
    "predictor", "method", "n", "clusters", "r2_linear", "r2_quadratic", "spearman", "few_points_linear",
    "few_points_quadratic",
]  # fmt: skip
FIT_PARAMETERS = {"linear": 2, "quadratic": 3}  # coefficients of each fit
# A fit of p parameters through n points is flagged few_points when n <= p + SPARE_POINTS: with two residual
# degrees of freedom or fewer its R² comes out high even on unrelated data (on noise it averages (p - 1) / (n - 1):
# 0.5 for a quadratic through 5 points, 0.33 for a line through 4), so it says little about how well the predictor
# explains forgetting. With n <= p the R² is not computed.
SPARE_POINTS = 2
# The points' clusters: the cells of a CLUSTER_GRID x CLUSTER_GRID grid over their ranges that hold any. Five
# checkpoints in two tight groups (SFT's and GRPO's) occupy two cells, and fit a line as two points do.
CLUSTER_GRID = 10
_TARGET = (PRIOR_TASKS, "forgetting")
_CHECKPOINT = ["model", "lineage", "step", "seed"]


def constant(values) -> bool:
    """No spread beyond float rounding: 0.1 + 0.2 in one row and 0.3 in another is one value, whose R² would be
    rounding noise divided by rounding noise."""
    values = np.asarray(values, dtype=float)
    return len(values) == 0 or float(np.ptp(values)) <= 1e-9 * max(1.0, float(np.abs(values).max()))


def r_squared(x, y, degree: int) -> float:
    """R² of the least-squares polynomial of ``degree`` through (x, y); NaN when x or y is constant (see
    ``constant``) or the polynomial would pass through every point (no more points than coefficients)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) <= degree + 1 or constant(x) or constant(y):
        return float("nan")
    residual = y - np.polyval(np.polyfit(x, y, degree), x)
    return 1 - float(np.square(residual).sum()) / float(np.square(y - y.mean()).sum())


def clusters(x, y) -> int:
    """How many cells of a CLUSTER_GRID x CLUSTER_GRID grid spanning the points' ranges hold any point: at most
    the number of points; fewer where points crowd together."""

    def cells(values):
        values = np.asarray(values, dtype=float)
        span = float(np.ptp(values)) if len(values) else 0.0
        if span == 0:
            return np.zeros(len(values), dtype=int)
        return np.minimum((values - values.min()) / span * CLUSTER_GRID, CLUSTER_GRID - 1).astype(int)

    return len(set(zip(cells(x), cells(y))))


def few_points(n: int, fit: str) -> bool:
    """Whether ``n`` points leave a fit (``linear`` or ``quadratic``) at most SPARE_POINTS beyond its parameters."""
    return n <= FIT_PARAMETERS[fit] + SPARE_POINTS


def _trained(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of trained checkpoints: every kept step of every swept setting and seed; no base, no restored
    variants, no seed means."""
    rows = table[ordinary(table) & (table["lineage"] != BASE) & (table["seed"].astype(str) != "mean")]
    return rows.assign(seed=rows["seed"].astype(str), step=pd.to_numeric(rows["step"]))


def checkpoint_values(table: pd.DataFrame, task: str, metric: str) -> pd.DataFrame:
    """One row per trained checkpoint that has ``metric`` on ``task``: the checkpoint's columns, ``method``,
    ``value``, ``ci_low`` and ``ci_high``."""
    rows = _trained(table)
    rows = rows[((rows["task"] == task) if task is not None else True) & (rows["metric"] == metric)]
    columns = [*_CHECKPOINT, "method", "value", "ci_low", "ci_high"]
    return rows.drop_duplicates(_CHECKPOINT)[columns].reset_index(drop=True)


def checkpoint_points(table: pd.DataFrame) -> pd.DataFrame:
    """One row per trained checkpoint with a forgetting value: its ``method``, ``forgetting`` and one column per
    predictor it has."""
    target = checkpoint_values(table, *_TARGET).rename(columns={"value": "forgetting"})
    points = target[[*_CHECKPOINT, "method", "forgetting"]]
    for name, predictor in PREDICTORS.items():
        values = checkpoint_values(table, predictor.task, predictor.metric)
        if not values.empty:
            points = points.merge(values[[*_CHECKPOINT, "value"]].rename(columns={"value": name}), how="left")
    return points


def fit_predictors(table: pd.DataFrame) -> pd.DataFrame:
    """``PREDICTOR_COLUMNS``: per predictor and method (and ``all`` methods pooled), the number of checkpoints,
    R² of a linear and of a quadratic fit of forgetting on the predictor, Spearman's rho, and for each fit whether
    it had few points for its parameters (``few_points``: its R² is high even on noise), counting the points'
    ``clusters``, not the checkpoints; pooled rows first, each group ranked by linear R² (the best predictor on
    this run first)."""
    points = checkpoint_points(table)
    rows = []
    for predictor in PREDICTORS:
        if predictor not in points:
            continue
        usable = points[points[predictor].notna()]
        groups = [("all", usable)] + [(str(method), group) for method, group in usable.groupby("method")]
        for method, group in groups:
            x, y = group[predictor].to_numpy(float), group["forgetting"].to_numpy(float)
            flat = len(x) < 2 or constant(x) or constant(y)
            groups = clusters(x, y)
            rows.append({
                "predictor": predictor, "method": method, "n": len(x), "clusters": groups,
                "r2_linear": r_squared(x, y, 1), "r2_quadratic": r_squared(x, y, 2),
                "spearman": float("nan") if flat else spearmanr(x, y)[0],
                "few_points_linear": few_points(groups, "linear"),
                "few_points_quadratic": few_points(groups, "quadratic"),
            })  # fmt: skip
    fits = pd.DataFrame(rows, columns=PREDICTOR_COLUMNS)
    fits = fits.assign(pooled=fits["method"] != "all").sort_values(
        ["pooled", "method", "r2_linear"], ascending=[True, True, False]
    )
    return fits.drop(columns="pooled").reset_index(drop=True)
