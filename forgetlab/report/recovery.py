"""Seed 001's OOD recovery line: accuracy along SFT, and where RL trained from an SFT checkpoint takes it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ..lineages import BASE, branch_points
from .figures import FigureData, no_data, save_figure
from .style import integer_steps, method_style
from .tables import default_format, ordinary

__all__ = ["plot_recovery", "recovery_points"]


def recovery_points(table: pd.DataFrame) -> pd.DataFrame:
    """One row per lineage that trains a stage after another (RL after SFT): its ``parent`` lineage, the parent's
    ``start`` step it was trained from (its final step when it starts from the final model), and the child's
    final rows (``value``, ``ci_low``, ``ci_high`` per task)."""
    final = table.groupby(["model", "lineage"])["step"].max()
    rows = []
    for (model, lineage), step in final.items():
        points = branch_points(lineage)
        if len(points) < 3:  # the base and one stage: nothing before it to branch from
            continue
        parent, start = points[-2]
        if (model, parent) not in final:
            continue
        start = final[(model, parent)] if start is None else start
        last = table[(table["model"] == model) & (table["lineage"] == lineage) & (table["step"] == step)]
        rows.append(last.assign(parent=parent, start=start))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=[*table.columns, "parent", "start"])


def _panel_tasks(data: FigureData, tasks: list[str]) -> list[tuple[str, str]]:
    """(task, title) per panel: the in-distribution, OOD and prior tasks the figures settings name, else every
    task of the table."""
    named = [(data.new_task, "in-distribution"), (data.ood_task, "OOD"), (data.prior_task, "prior task")]
    chosen = [(task, f"{task} ({role})") for task, role in named if task in tasks]
    return chosen or [(task, task) for task in tasks]


def plot_recovery(data: FigureData, outputs: list) -> list[dict]:
    """Per task (ID, OOD, prior): accuracy of the first stage's checkpoints against its step (base at 0), and
    for each checkpoint a recovery lineage starts from, the accuracy after the RL stage at that same step."""
    table = data.table
    rows = table[(table["metric"] == "accuracy") & default_format(table) & ordinary(table)]
    rows = rows[rows["seed"].astype(str) != "mean"].assign(step=lambda frame: pd.to_numeric(frame["step"]))
    children = recovery_points(rows)
    tasks = _panel_tasks(data, list(dict.fromkeys(rows["task"])))
    fig, axes = plt.subplots(
        1, max(len(tasks), 1), figsize=(4.5 * max(len(tasks), 1), 3.8), squeeze=False, layout="constrained"
    )
    if children.empty:
        no_data(axes[0][0], "no lineage trains a stage after another (lineages; recovery.from_steps)")
        return save_figure(fig, outputs)
    several = children[["model", "parent"]].drop_duplicates().shape[0] > 1
    for ax, (task, title) in zip(axes[0], tasks):
        for (model, parent), after in children[children["task"] == task].groupby(["model", "parent"], sort=False):
            name = f"{model}: {parent}" if several else parent
            before = rows[(rows["model"] == model) & (rows["task"] == task)]
            base = before[before["lineage"] == BASE].assign(step=0)
            line = pd.concat([base, before[before["lineage"] == parent]]).sort_values("step")
            after = after.sort_values("start")
            # the first stage's checkpoints in its lineage's colour, each RL lineage's point in its own (the same
            # colours as in every figure); markers say the method, the dashed line joins the RL points
            errors = [line["value"] - line["ci_low"], line["ci_high"] - line["value"]]
            ax.errorbar(line["step"], line["value"], yerr=errors, fmt=method_style(line["method"].iloc[-1])[1],
                        linestyle="-", color=data.colour(model, parent), capsize=3, markersize=5,
                        label=f"{name} (its checkpoints)")  # fmt: skip
            ax.plot(after["start"], after["value"], linestyle="--", color="grey", linewidth=1)
            for _, point in after.iterrows():
                child = f"{model}: {point['lineage']}" if several else point["lineage"]
                ax.errorbar([point["start"]], [point["value"]], fmt=method_style(point["method"])[1], capsize=3,
                            yerr=[[point["value"] - point["ci_low"]], [point["ci_high"] - point["value"]]],
                            color=data.colour(model, point["lineage"]), markersize=6, label=child)  # fmt: skip
        ax.set(title=title, xlabel="step of the first stage (0: base)", ylabel="accuracy", ylim=(-0.02, 1.02))
        integer_steps(ax)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(handles), 2), fontsize=8)
    fig.suptitle("Recovery: accuracy along the first stage, and after RL from its checkpoints (95% intervals)")
    return save_figure(fig, outputs)
