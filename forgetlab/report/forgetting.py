"""RL's Razor's two figures, one point per trained checkpoint: learning vs forgetting with each method's Pareto
frontier, and forgetting against the KL to the base with the fits that rank every predictor."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.optimize import OptimizeWarning, curve_fit

from .figures import no_data, save_figure
from .fits import (
    FIT_PARAMETERS,
    PREDICTORS,
    SPARE_POINTS,
    checkpoint_points,
    checkpoint_values,
    few_points,
    fit_predictors,
)
from .style import method_style
from .tables import NEW_TASKS, PRIOR_TASKS

__all__ = ["exponential_fit", "pareto_frontier", "plot_kl_forgetting", "plot_pareto"]


def pareto_frontier(x, y) -> np.ndarray:
    """Indices of the non-dominated points when both x and y are better larger, ordered by x."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    order = np.lexsort((-y, -x))  # largest x first, ties by largest y
    kept, best = [], -np.inf
    for index in order:
        if y[index] > best:
            kept.append(index)
            best = y[index]
    return np.array(kept[::-1], dtype=int)


def _exponential(x, a, b, c):
    return a + b * np.exp(c * x)


def exponential_fit(x, y, grid, n_boot: int = 200, seed: int = 0) -> tuple | None:
    """a + b·exp(c·x) through (x, y), evaluated on ``grid``: (curve, band low, band high), the band a 95%
    bootstrap over the points; None with fewer than four points or when no fit converges."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 4 or np.ptp(x) == 0:
        return None
    scale = np.ptp(x)

    def fit(xs, ys):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            try:
                start = (ys.max(), -(np.ptp(ys) or 1.0), 1.0 / scale)
                parameters, _ = curve_fit(_exponential, xs, ys, p0=start, maxfev=5000)
            except (RuntimeError, ValueError, TypeError):
                return None
        curve = _exponential(np.asarray(grid, dtype=float), *parameters)
        return curve if np.all(np.isfinite(curve)) else None

    curve = fit(x, y)
    if curve is None:
        return None
    rng = np.random.default_rng(seed)
    curves = [fit(x[i], y[i]) for i in (rng.integers(0, len(x), len(x)) for _ in range(n_boot)) if np.ptp(x[i]) > 0]
    curves = np.array([c for c in curves if c is not None])
    if len(curves) < n_boot // 2:
        return curve, curve, curve
    low, high = np.quantile(curves, [0.025, 0.975], axis=0)
    return curve, low, high


def _errors(frame: pd.DataFrame, suffix: str, sign: int = 1):
    """Error bar lengths [below, above] of ``sign`` times the ``value<suffix>`` column (no interval: none)."""
    value = frame[f"value{suffix}"]
    low, high = (frame[f"ci_low{suffix}"] - value) * sign, (frame[f"ci_high{suffix}"] - value) * sign
    return np.vstack([np.minimum(low, high).abs().fillna(0), np.maximum(low, high).abs().fillna(0)])


def plot_pareto(data, outputs: list) -> list[dict]:
    """New-task gain against prior-task change (minus forgetting), both over the base; one point per checkpoint
    of every swept setting, a frontier and an exponential fit per method."""
    gain = checkpoint_values(data.table, NEW_TASKS, "new_task_gain")
    forgetting = checkpoint_values(data.table, PRIOR_TASKS, "forgetting")
    keys = ["model", "lineage", "step", "seed", "method"]
    points = gain.merge(forgetting, on=keys, suffixes=("_gain", "_forgetting"))
    fig, ax = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
    if points.empty:
        no_data(ax, "needs new-task gain and forgetting (evaluate.tasks with a prior task)")
        return save_figure(fig, outputs)
    ax.scatter([0], [0], marker="*", s=140, color="black", zorder=3, label="base")
    for method, group in points.groupby("method", sort=False):
        color, marker = method_style(method)
        x, y = group["value_gain"].to_numpy(float), -group["value_forgetting"].to_numpy(float)
        xerr, yerr = _errors(group, "_gain"), _errors(group, "_forgetting", sign=-1)
        hollow = marker in "^v"  # hollow and filled markers tell methods apart in black and white too
        ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt=marker, color=color, alpha=0.8, capsize=2,
                    markerfacecolor="none" if hollow else color, label=f"{method} (n={len(group)})")  # fmt: skip
        front = pareto_frontier(x, y)
        ax.plot(x[front], y[front], color=color, linestyle="--", linewidth=1)
        grid = np.linspace(x[front].min(), x[front].max(), 50)
        fitted = exponential_fit(x[front], y[front], grid)
        if fitted is not None:
            curve, low, high = fitted
            ax.plot(grid, curve, color=color, linewidth=1.5)
            ax.fill_between(grid, low, high, color=color, alpha=0.15, hatch="//", linewidth=0)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set(
        xlabel=f"new-task gain over the base ({data.new_task or 'trained tasks'}, accuracy)",
        ylabel="prior-task change over the base (accuracy; below 0 = forgetting)",
        title="Learning vs forgetting\nper method: frontier (dashed), a + b·exp(cx) fit with 95% band",
    )
    ax.legend(fontsize=8, title="method")
    return save_figure(fig, outputs)


FEW = "†"  # marks an R² of a fit with few points for its parameters (fits.few_points)
FEW_NOTE = (
    f"{FEW} at most {SPARE_POINTS} points more than the fit's parameters\n  (linear "
    f"{FIT_PARAMETERS['linear']}, quadratic {FIT_PARAMETERS['quadratic']}; crowded points count once): R² high "
    "even on noise"
)


def fit_label(fit: str, row) -> str:
    """'quadratic fit: R² 1.00 (3 params, 5 points: few)' for a pooled row of the predictors table; where the points
    crowd into fewer clusters, 'in 2 clusters' too."""
    r2, few = getattr(row, f"r2_{fit}"), getattr(row, f"few_points_{fit}")
    value = "–" if pd.isna(r2) else f"{r2:.2f}"
    grouped = f" in {row.clusters} clusters" if few and not few_points(row.n, fit) else ""
    return f"{fit} fit: R² {value} ({FIT_PARAMETERS[fit]} params, {row.n} points{grouped}{': few' if few else ''})"


def _r2(row, fit: str) -> str:
    r2 = getattr(row, f"r2_{fit}")
    return "–    " if pd.isna(r2) else f"{r2:.2f}{FEW if getattr(row, f'few_points_{fit}') else ' '}"


def _fit_line(ax, x, y, degree: int, style: str, label: str) -> None:
    if len(x) > degree + 1 and np.ptp(x) > 0:
        grid = np.linspace(x.min(), x.max(), 50)
        ax.plot(grid, np.polyval(np.polyfit(x, y, degree), grid), style, color="black", linewidth=1, label=label)


def plot_kl_forgetting(data, outputs: list) -> list[dict]:
    """Left: forgetting against the forward KL to the base on the new task, every trained checkpoint, with
    pooled linear and quadratic fits, R² and Spearman's rho (pooled and per method). Right: every predictor
    forgetlab measures, ranked by the linear R² of forgetting on it."""
    points = checkpoint_points(data.table)
    fits = fit_predictors(data.table)
    fig, (scatter, ranking) = plt.subplots(1, 2, figsize=(12, 4.8), width_ratios=[1.3, 1], layout="constrained")
    if points.empty or "forward_kl_new" not in points or points["forward_kl_new"].isna().all():
        no_data(scatter, "needs forgetting and the KL on the new task (evaluate.kl)")
    else:
        usable = points[points["forward_kl_new"].notna()]
        for method, group in usable.groupby("method", sort=False):
            color, marker = method_style(method)
            scatter.scatter(group["forward_kl_new"], group["forgetting"], color=color, marker=marker, label=method)
        x, y = usable["forward_kl_new"].to_numpy(float), usable["forgetting"].to_numpy(float)
        rows = fits[fits["predictor"] == "forward_kl_new"]
        pooled_kl = next(rows[rows["method"] == "all"].itertuples())
        _fit_line(scatter, x, y, 1, "-", fit_label("linear", pooled_kl))
        _fit_line(scatter, x, y, 2, ":", fit_label("quadratic", pooled_kl))
        lines = [f"{row.method}: n={row.n}  R² lin {_r2(row, 'linear')} quad {_r2(row, 'quadratic')} ρ "
                 + ("–" if pd.isna(row.spearman) else f"{row.spearman:.2f}") for row in rows.itertuples()]  # fmt: skip
        text = "\n".join(lines + ([FEW_NOTE] if any(FEW in line for line in lines) else []))
        scatter.text(0.02, 0.98, text, transform=scatter.transAxes, va="top", fontsize=7, family="monospace")
        scatter.axhline(0, color="grey", linewidth=0.8)
        scatter.set(
            xlabel=f"forward KL to the base on the new task ({data.new_task or 'trained tasks'}; nats/sequence)",
            ylabel="forgetting (prior-task accuracy lost)",
            title="Forgetting vs KL to the base",
        )
        scatter.legend(fontsize=8, loc="lower right")
    pooled = fits[(fits["method"] == "all") & fits["r2_linear"].notna()]
    if pooled.empty:
        no_data(ranking, "needs three or more checkpoints with forgetting")
    else:
        names = [f"{PREDICTORS[row.predictor].label}\n(n={row.n}{_few_fits(row)})" for row in pooled.itertuples()]
        y = np.arange(len(names))
        ranking.barh(y - 0.2, pooled["r2_linear"], height=0.4, color="0.35", label="linear")
        ranking.barh(y + 0.2, pooled["r2_quadratic"].fillna(0), height=0.4, fill=False, hatch="//", label="quadratic")
        for position, value in zip(y - 0.2, pooled["r2_linear"]):
            inside = value > 0.2  # the value inside a long bar, beside a short one
            place = {"ha": "right", "color": "white"} if inside else {"ha": "left", "color": "black"}
            x = value - 0.02 if inside else max(value, 0) + 0.02
            ranking.text(x, position, f"{value:.2f}", va="center", fontsize=8, **place)
        ranking.set_yticks(y, names, fontsize=8)
        ranking.set_ylim(len(names) + 0.2, -0.6)  # best first; room below the last bar for the legend
        ranking.set(xlim=(0, 1), xlabel="R² of forgetting on the predictor (all methods)",
                    title="Which measurement predicts forgetting")  # fmt: skip
        ranking.legend(fontsize=8, loc="lower right")
    return save_figure(fig, outputs)


def _few_fits(row) -> str:
    """'; few points: quadratic' when a fit of the row has few points for its parameters (fits.few_points)."""
    few = [fit for fit in FIT_PARAMETERS if getattr(row, f"few_points_{fit}")]
    return f"; few points: {', '.join(few)}" if few else ""
