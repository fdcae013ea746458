"""Paper figures from the tidy metrics table and the per-step training logs."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from functools import cached_property

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..lineages import branch_points
from . import FIGURES
from .style import DASHES, MARKERS, integer_steps, lineage_colours, method_style, thin_markers
from .tables import default_format, final_checkpoints, headline_delta, ordinary

__all__ = [
    "FigureData",
    "describe",
    "draw_figure",
    "log_key",
    "no_data",
    "plot_benchmarks",
    "plot_curves",
    "plot_forgetting",
    "plot_training",
    "save_figure",
]


@dataclass
class FigureData:
    """What the figures are drawn from: the metrics table, the training logs (label -> step rows), the analyses'
    tables and the config's ``figures`` settings (forgetlab.config.FiguresConfig, field for field)."""

    table: pd.DataFrame
    train_logs: dict[str, list[dict]] = field(default_factory=dict)
    new_task: str | None = None
    prior_task: str | None = None
    analysis: dict[str, pd.DataFrame] = field(default_factory=dict)  # analysis -> its gathered rows
    log_groups: dict[str, str] = field(default_factory=dict)  # log label -> its seed group (one line per group)
    smoothing: int = 1  # rolling mean over this many logged steps in the training figure
    ood_task: str | None = None  # the new task's out-of-distribution variant (recovery figure)
    advantage_steps: list[int] | None = None  # the steps the advantages figure draws (None: first, middle, last)
    diagnosis: pd.DataFrame | None = None  # results/tables/diagnosis.csv (forgetlab.report.diagnosis)

    @cached_property
    def lineage_colours(self) -> dict[tuple[str, str], str]:
        """(model, lineage) -> colour for every lineage of the table, the training logs and their seed groups
        (forgetlab.report.style.lineage_colours): a lineage has one colour in every figure of the run."""
        keys = set(zip(self.table["model"], self.table["lineage"])) if len(self.table) else set()
        keys |= {log_key(label) for label in [*self.train_logs, *self.log_groups.values()]}
        return lineage_colours((str(model), str(lineage)) for model, lineage in keys)

    def colour(self, model: str, lineage: str) -> str:
        """The colour of ``lineage`` of ``model`` (see ``lineage_colours``)."""
        return self.lineage_colours.get((str(model), str(lineage)), "grey")


def log_key(label: str) -> tuple[str, str]:
    """(model, lineage) of a training log's label ('smollm2-135m: base/sft-countdown'; a bare lineage: no model)."""
    model, _, lineage = label.rpartition(": ")
    return model, lineage


def draw_figure(name: str, data: FigureData, outputs: list[str | os.PathLike]) -> list[dict]:
    """Draw the figure ``name`` (one of FIGURES) into every path of ``outputs`` (one per format); returns what
    each panel shows (``describe``)."""
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; known: {list(FIGURES)}")
    module, function = FIGURES[name].draw.split(":")
    return getattr(importlib.import_module(f"forgetlab.{module}"), function)(data, outputs)


def describe(fig) -> list[dict]:
    """What each panel of ``fig`` shows, for checking a figure without looking: its title, how many data series
    (lines with points, scatters, bar groups, error bars, step outlines and other patches, images), legend
    entries and texts."""
    panels = []
    for ax in fig.axes:
        if not ax.get_visible() or ax.get_label() == "<colorbar>":
            continue
        # a line shows when it joins two points or marks one (legend proxies have no points)
        lines = [line for line in ax.lines if len(line.get_xdata()) > 1
                 or (len(line.get_xdata()) == 1 and line.get_marker() not in ("None", "", " "))]  # fmt: skip
        legend = ax.get_legend()
        panels.append({
            "title": ax.get_title(), "lines": len(lines), "collections": len(ax.collections),
            "containers": len(ax.containers), "patches": len(ax.patches), "images": len(ax.images),
            "legend": len(legend.get_texts()) if legend else 0, "texts": [text.get_text() for text in ax.texts],
        })  # fmt: skip
    return panels


def save_figure(fig, outputs: list[str | os.PathLike]) -> list[dict]:
    """Write ``fig`` to every path (PNG at 150 dpi, PDF as vectors), close it, return ``describe(fig)``."""
    for path in outputs:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path, bbox_inches="tight", dpi=150)
    panels = describe(fig)
    plt.close(fig)
    return panels


def no_data(ax, why: str) -> None:
    """An empty panel that says what it is waiting for."""
    ax.text(0.5, 0.5, f"no data yet: {why}", ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set(xticks=[], yticks=[])


def _accuracy(table: pd.DataFrame, task: str) -> pd.DataFrame:
    rows = table[(table["metric"] == "accuracy") & (table["task"] == task)]
    return rows.set_index(["model", "lineage"])[["value", "ci_low", "ci_high"]]


def plot_forgetting(data: FigureData, outputs: list) -> list[dict]:
    """Left: accuracy per lineage and task. Right: new-task vs prior-task accuracy, one point per checkpoint."""
    new_task, prior_task = data.new_task, data.prior_task
    table = final_checkpoints(data.table)
    accuracy = table[table["metric"] == "accuracy"]
    fig, (bars, scatter) = plt.subplots(1, 2, figsize=(12, 4.5))
    if accuracy.empty:
        for ax in (bars, scatter):
            ax.text(0.5, 0.5, "no accuracy metrics yet", ha="center", va="center", transform=ax.transAxes)
        return save_figure(fig, outputs)
    _accuracy_bars(bars, accuracy)
    tasks = set(accuracy["task"])
    if new_task in tasks and prior_task in tasks:
        joined = _accuracy(table, prior_task).merge(
            _accuracy(table, new_task), left_index=True, right_index=True, suffixes=("_prior", "_new")
        )
        methods = table.drop_duplicates(["model", "lineage"]).set_index(["model", "lineage"])["method"]
        for (model, lineage), row in joined.iterrows():
            _, marker = method_style(methods.get((model, lineage), "base"))  # the marker says the method
            scatter.errorbar(
                row["value_prior"], row["value_new"],
                xerr=[[row["value_prior"] - row["ci_low_prior"]], [row["ci_high_prior"] - row["value_prior"]]],
                yerr=[[row["value_new"] - row["ci_low_new"]], [row["ci_high_new"] - row["value_new"]]],
                fmt=marker, color=data.colour(model, lineage), capsize=3, label=f"{model}: {lineage}",
            )  # fmt: skip
        scatter.set(xlabel=f"prior task ({prior_task}) accuracy", ylabel=f"new task ({new_task}) accuracy")
        scatter.set(xlim=(-0.05, 1.05), ylim=(-0.05, 1.05), title="Learning vs forgetting")
        scatter.legend(fontsize=7, loc="best")
    else:
        scatter.text(0.5, 0.5, "set figures.new_task and figures.prior_task", ha="center", transform=scatter.transAxes)
    return save_figure(fig, outputs)


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


def _along_lineage(rows: pd.DataFrame, lineage: str) -> pd.DataFrame:
    """Rows of a lineage and its ancestors with ``total_step``: steps counted from the base, so an RL stage
    continues where its SFT parent ended (or at the kept step a recovery lineage branched from)."""
    frames, offset = [], 0
    for ancestor, until in branch_points(lineage):
        prefix = rows[rows["lineage"] == ancestor]
        steps = pd.to_numeric(prefix["step"]).fillna(0)
        prefix = prefix[steps <= until] if until is not None else prefix
        frames.append(prefix.assign(total_step=pd.to_numeric(prefix["step"]).fillna(0) + offset))
        offset += until if until is not None else (prefix["step"].max() if not prefix.empty else 0)
    return pd.concat(frames).sort_values("total_step")


def plot_curves(data: FigureData, outputs: list, metric: str = "accuracy") -> list[dict]:
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
            for index, lineage in enumerate(leaves):
                curve = _along_lineage(rows[(rows["task"] == task) & (rows["model"] == model)], lineage)
                label = lineage if rows["model"].nunique() == 1 else f"{model}: {lineage}"
                # dashes and markers keep the lines apart in black and white
                (line,) = ax.plot(curve["total_step"], curve["value"], marker=MARKERS[index % len(MARKERS)],
                                  markersize=3, linestyle=DASHES[index % len(DASHES)], label=label,
                                  color=data.colour(model, lineage))  # fmt: skip
                ax.fill_between(
                    curve["total_step"], curve["ci_low"], curve["ci_high"], color=line.get_color(), alpha=0.15
                )
        ax.set(
            title=task,
            xlabel="training steps from the base",
            ylabel=metric,
            ylim=(-0.02, 1.02) if metric == "accuracy" else None,
        )
        integer_steps(ax)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(len(handles), 3), bbox_to_anchor=(0.5, -0.15))
    return save_figure(fig, outputs)


# logged quantity -> panel title with units; "rewards/*/mean" stands for each reward function's mean
TRAINING_METRICS = {
    "loss": "loss",
    "reward": "reward (weighted sum)",
    "rewards/*/mean": "reward {name} (mean)",
    "kl": "KL to the reference (nats/token)",
    "completions/mean_length": "completion length (tokens)",
    "entropy": "token entropy (nats)",
    "clip_ratio/region_mean": "clipped ratio share",
    "frac_reward_zero_std": "groups with all-equal rewards (share)",
    "mean_token_accuracy": "token accuracy (SFT)",
    "learning_rate": "learning rate",
    "value_loss": "critic's value loss (PPO)",
    "value_explained_variance": "variance of returns the critic explains (PPO)",
}


def _training_metrics(logged: set[str]) -> dict[str, str]:
    """The logged quantities to plot, in TRAINING_METRICS order, each reward function's mean expanded."""
    chosen = {}
    for metric, title in TRAINING_METRICS.items():
        if "*" in metric:
            prefix, suffix = metric.split("*")
            names = sorted(m[len(prefix) : -len(suffix)] for m in logged if m.startswith(prefix) and m.endswith(suffix))
            chosen |= {f"{prefix}{name}{suffix}": title.format(name=name) for name in names}
        elif metric in logged:
            chosen[metric] = title
    return chosen


def plot_training(data: FigureData, outputs: list) -> list[dict]:
    """One panel per logged quantity (TRAINING_METRICS) against the stage's own steps, one line per stage;
    stages swept over seeds share a line with a 95% band over the seeds. ``data.smoothing`` > 1 draws a
    rolling mean over that many logged steps."""
    frames = []
    for label, steps in data.train_logs.items():
        log = pd.DataFrame([row for row in steps if "train_runtime" not in row])
        if log.empty or "step" not in log:
            continue
        log = log.sort_values("step").set_index("step").select_dtypes("number")
        log = log.rolling(data.smoothing, min_periods=1).mean() if data.smoothing > 1 else log
        long = log.reset_index().melt(id_vars="step", var_name="metric", value_name="value").dropna()
        frames.append(long.assign(stage=data.log_groups.get(label, label), run=label))
    frame = pd.concat(frames) if frames else pd.DataFrame(columns=["step", "metric", "value", "stage", "run"])
    metrics = _training_metrics(set(frame["metric"]))
    stages = list(dict.fromkeys(frame["stage"]))
    palette = {stage: data.colour(*log_key(stage)) for stage in stages}
    columns = min(len(metrics), 4) or 1
    rows = -(-len(metrics) // columns) or 1
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.2 * rows), squeeze=False, layout="constrained")
    for ax in axes.flat[len(metrics) :]:
        ax.set_visible(False)
    if not metrics:
        axes[0][0].set_visible(True)
        no_data(axes[0][0], "no training logs")
    for index, (ax, (metric, title)) in enumerate(zip(axes.flat, metrics.items())):
        rows_of = frame[frame["metric"] == metric]
        # colour, dashes and markers per stage (readable in black and white; a stage of one logged step is its
        # marker alone); the first panel's legend serves the figure
        sns.lineplot(data=rows_of, x="step", y="value", hue="stage", style="stage", hue_order=stages,
                     style_order=stages, palette=palette, ax=ax, errorbar=("ci", 95), n_boot=200, seed=0,
                     markers=[MARKERS[i % len(MARKERS)] for i in range(len(stages))], markersize=6,
                     legend=index == 0)  # fmt: skip
        thin_markers(ax)
        ax.set(title=title, ylabel="", xlabel="step")
        integer_steps(ax)
    if metrics and axes[0][0].get_legend() is not None:
        handles, labels = axes[0][0].get_legend_handles_labels()
        axes[0][0].get_legend().remove()
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(handles), 3))
    smoothing = f" (rolling mean over {data.smoothing} steps)" if data.smoothing > 1 else ""
    seeded = frame.groupby("stage")["run"].nunique().gt(1).any() if len(frame) else False
    fig.suptitle(f"Training logs{smoothing}" + ("; bands: 95% interval over seeds" if seeded else ""))
    return save_figure(fig, outputs)


def plot_benchmarks(data: FigureData, outputs: list) -> list[dict]:
    """Every task and benchmark against every final checkpoint: the change over the base on the task's headline
    metric (accuracy, acc, mc2, ...), a star where the 95% interval excludes zero."""
    table = final_checkpoints(data.table)
    deltas = table[table["metric"].str.startswith("delta_") & (table["lineage"] != "base")]
    cells = {}
    for (model, lineage, task), rows in deltas.groupby(["model", "lineage", "task"], sort=False):
        row = headline_delta(rows)
        if row is not None:
            cells[(f"{model}: {lineage}" if deltas["model"].nunique() > 1 else lineage, task)] = row
    checkpoints = list(dict.fromkeys(key[0] for key in cells))
    tasks = list(dict.fromkeys(key[1] for key in cells))
    fig, ax = plt.subplots(
        figsize=(3.5 + 1.3 * max(len(tasks), 1), 1.8 + 0.5 * max(len(checkpoints), 1)), layout="constrained"
    )
    if not cells:
        no_data(ax, "no task deltas (evaluate.tasks, evaluate.harness)")
        return save_figure(fig, outputs)
    values = np.array([[cells[(c, t)]["value"] if (c, t) in cells else np.nan for t in tasks] for c in checkpoints])
    limit = np.nanmax(np.abs(values)) or 1.0
    image = ax.imshow(values, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    for i, checkpoint in enumerate(checkpoints):
        for j, task in enumerate(tasks):
            row = cells.get((checkpoint, task))
            if row is None:
                continue
            sure = pd.notna(row["ci_low"]) and (row["ci_low"] > 0 or row["ci_high"] < 0)
            ax.text(j, i, f"{row['value']:+.2f}{'*' if sure else ''}", ha="center", va="center", fontsize=8,
                    color="white" if abs(row["value"]) > 0.6 * limit else "black")  # fmt: skip
    ax.set_xticks(range(len(tasks)), tasks, rotation=30, ha="right")
    ax.set_yticks(range(len(checkpoints)), checkpoints)
    fig.colorbar(image, ax=ax, label="checkpoint minus base (headline metric)")
    fig.suptitle("Change over the base per task (* : the paired 95% interval excludes 0)", fontsize=10)
    return save_figure(fig, outputs)
