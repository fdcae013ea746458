"""Paper figures from the tidy metrics table and the per-step training logs."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from . import FIGURES
from .tables import default_format, final_checkpoints, ordinary

__all__ = ["FigureData", "draw_figure", "plot_curves", "plot_forgetting", "plot_kl_forgetting", "plot_training",
           "save_figure"]  # fmt: skip


@dataclass
class FigureData:
    """What the figures are drawn from: the metrics table, the training logs (label -> step rows) and the
    config's ``figures`` settings (new_task, prior_task)."""

    table: pd.DataFrame
    train_logs: dict[str, list[dict]] = field(default_factory=dict)
    new_task: str | None = None
    prior_task: str | None = None
    analysis: dict[str, pd.DataFrame] = field(default_factory=dict)  # analysis -> its gathered rows


def draw_figure(name: str, data: FigureData, outputs: list[str | os.PathLike]) -> None:
    """Draw the figure ``name`` (one of FIGURES) into every path of ``outputs`` (one per format)."""
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; known: {list(FIGURES)}")
    module, function = FIGURES[name].draw.split(":")
    getattr(importlib.import_module(f"forgetlab.report.{module}"), function)(data, outputs)


def save_figure(fig, outputs: list[str | os.PathLike]) -> None:
    for path in outputs:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path, bbox_inches="tight", dpi=150)
    plt.close(fig)


def _accuracy(table: pd.DataFrame, task: str) -> pd.DataFrame:
    rows = table[(table["metric"] == "accuracy") & (table["task"] == task)]
    return rows.set_index(["model", "lineage"])[["value", "ci_low", "ci_high"]]


def plot_forgetting(data: FigureData, outputs: list) -> None:
    """Left: accuracy per lineage and task. Right: new-task vs prior-task accuracy, one point per checkpoint."""
    new_task, prior_task = data.new_task, data.prior_task
    table = final_checkpoints(data.table)
    accuracy = table[table["metric"] == "accuracy"]
    fig, (bars, scatter) = plt.subplots(1, 2, figsize=(12, 4.5))
    if accuracy.empty:
        for ax in (bars, scatter):
            ax.text(0.5, 0.5, "no accuracy metrics yet", ha="center", va="center", transform=ax.transAxes)
        save_figure(fig, outputs)
        return
    _accuracy_bars(bars, accuracy)
    tasks = set(accuracy["task"])
    if new_task in tasks and prior_task in tasks:
        joined = _accuracy(table, prior_task).merge(
            _accuracy(table, new_task), left_index=True, right_index=True, suffixes=("_prior", "_new")
        )
        for (model, lineage), row in joined.iterrows():
            scatter.errorbar(
                row["value_prior"], row["value_new"],
                xerr=[[row["value_prior"] - row["ci_low_prior"]], [row["ci_high_prior"] - row["value_prior"]]],
                yerr=[[row["value_new"] - row["ci_low_new"]], [row["ci_high_new"] - row["value_new"]]],
                fmt="o", capsize=3, label=f"{model}: {lineage}",
            )  # fmt: skip
        scatter.set(xlabel=f"prior task ({prior_task}) accuracy", ylabel=f"new task ({new_task}) accuracy")
        scatter.set(xlim=(-0.05, 1.05), ylim=(-0.05, 1.05), title="Learning vs forgetting")
        scatter.legend(fontsize=7, loc="best")
    else:
        scatter.text(0.5, 0.5, "set figures.new_task and figures.prior_task", ha="center", transform=scatter.transAxes)
    save_figure(fig, outputs)


def _accuracy_bars(ax, accuracy: pd.DataFrame) -> None:
    """Grouped bars: one group per checkpoint, one bar per task, 95% bootstrap CI as error bars."""
    several_models = accuracy["model"].nunique() > 1
    accuracy = accuracy.assign(
        checkpoint=[f"{m}: {ln}" if several_models else ln for m, ln in zip(accuracy["model"], accuracy["lineage"])]
    )
    checkpoints = list(dict.fromkeys(accuracy["checkpoint"]))
    tasks = list(dict.fromkeys(accuracy["task"]))
    width = 0.8 / len(tasks)
    for k, task in enumerate(tasks):
        rows = accuracy[accuracy["task"] == task].set_index("checkpoint").reindex(checkpoints)
        x = np.arange(len(checkpoints)) + (k - (len(tasks) - 1) / 2) * width
        errors = [rows["value"] - rows["ci_low"], rows["ci_high"] - rows["value"]]
        ax.bar(x, rows["value"], width, yerr=errors, capsize=3, label=task)
    ax.set_xticks(np.arange(len(checkpoints)), checkpoints, rotation=20, ha="right")
    ax.set(ylabel="accuracy", ylim=(0, 1), title="Accuracy per checkpoint (95% bootstrap CI)")
    ax.legend(title="task")


def plot_kl_forgetting(data: FigureData, outputs: list) -> None:
    """RL's Razor view: forward KL to the base on the new task against the change on the prior task
    (accuracy and reference log-likelihood per token), one point per trained checkpoint."""
    new_task, prior_task = data.new_task, data.prior_task
    table = final_checkpoints(data.table)
    panels = [
        ("delta_accuracy", "prior-task accuracy change"),
        ("delta_ref_loglik_per_token", "prior-task ref. log-lik./token change"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5))
    kl = table[(table["metric"] == "kl_mean") & (table["task"] == new_task)].set_index(["model", "lineage"])
    for ax, (metric, label) in zip(axes, panels):
        change = table[(table["metric"] == metric) & (table["task"] == prior_task)].set_index(["model", "lineage"])
        joined = kl.merge(change, left_index=True, right_index=True, suffixes=("_kl", "_change"))
        if joined.empty:
            ax.text(
                0.5, 0.5, "needs KL on the new task and the prior task's metrics", ha="center", transform=ax.transAxes
            )
            continue
        for (model, lineage), row in joined.iterrows():
            ax.errorbar(
                row["value_kl"], row["value_change"],
                xerr=[[row["value_kl"] - row["ci_low_kl"]], [row["ci_high_kl"] - row["value_kl"]]],
                yerr=[[row["value_change"] - row["ci_low_change"]], [row["ci_high_change"] - row["value_change"]]],
                fmt="o", capsize=3, label=f"{model}: {lineage}",
            )  # fmt: skip
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set(xlabel=f"forward KL to base on {new_task} (nats/sequence)", ylabel=label, title=f"{label} vs KL")
        ax.legend(fontsize=7)
    save_figure(fig, outputs)


def _along_lineage(rows: pd.DataFrame, lineage: str) -> pd.DataFrame:
    """Rows of a lineage and its ancestors with ``total_step``: steps counted from the base, so an RL stage
    continues where its SFT parent ended."""
    parts, frames, offset = lineage.split("/"), [], 0
    for depth in range(1, len(parts) + 1):
        prefix = rows[rows["lineage"] == "/".join(parts[:depth])]
        frames.append(prefix.assign(total_step=pd.to_numeric(prefix["step"]).fillna(0) + offset))
        offset += prefix["step"].max() if not prefix.empty else 0
    return pd.concat(frames).sort_values("total_step")


def plot_curves(data: FigureData, outputs: list, metric: str = "accuracy") -> None:
    """Evolution over training: one panel per task (in-distribution, OOD, prior), one line per lineage from
    the base through every kept checkpoint of each stage, with the 95% bootstrap interval as a band."""
    table = data.table
    rows = table[(table["metric"] == metric) & default_format(table) & ordinary(table)]
    tasks = list(dict.fromkeys(rows["task"])) or [metric]
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.5 * len(tasks), 3.8), squeeze=False)
    lineages = sorted(set(rows["lineage"]))
    leaves = [ln for ln in lineages if ln != "base" and not any(o.startswith(ln + "/") for o in lineages)] or lineages
    for ax, task in zip(axes[0], tasks):
        for model in dict.fromkeys(rows["model"]):
            for lineage in leaves:
                curve = _along_lineage(rows[(rows["task"] == task) & (rows["model"] == model)], lineage)
                label = lineage if rows["model"].nunique() == 1 else f"{model}: {lineage}"
                (line,) = ax.plot(curve["total_step"], curve["value"], marker="o", markersize=3, label=label)
                ax.fill_between(
                    curve["total_step"], curve["ci_low"], curve["ci_high"], color=line.get_color(), alpha=0.15
                )
        ax.set(
            title=task,
            xlabel="training steps from the base",
            ylabel=metric,
            ylim=(-0.02, 1.02) if metric == "accuracy" else None,
        )
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(len(handles), 3), bbox_to_anchor=(0.5, -0.15))
    save_figure(fig, outputs)


TRAINING_METRICS = ["loss", "reward", "rewards/correct/mean", "kl", "completions/mean_length"]


def plot_training(data: FigureData, outputs: list) -> None:
    """One panel per logged metric, one line per stage (label -> step rows), one colour per stage throughout."""
    logs = data.train_logs
    rows = [
        {"stage": label, "step": row["step"], "metric": metric, "value": row[metric]}
        for label, steps in logs.items()
        for row in steps
        for metric in TRAINING_METRICS
        if metric in row and "train_runtime" not in row
    ]
    frame = pd.DataFrame(rows, columns=["stage", "step", "metric", "value"])
    metrics = [m for m in TRAINING_METRICS if m in set(frame["metric"])] or ["loss"]
    palette = dict(zip(logs, sns.color_palette(n_colors=max(len(logs), 1))))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.5), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        data = frame[frame["metric"] == metric]
        sns.lineplot(data=data, x="step", y="value", hue="stage", palette=palette, ax=ax, marker="o", legend=False)
        ax.set(title=metric, ylabel="")
    handles = [plt.Line2D([], [], color=color, marker="o", label=label) for label, color in palette.items()]
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 3), bbox_to_anchor=(0.5, -0.12))
    save_figure(fig, outputs)
