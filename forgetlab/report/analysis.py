"""Drawing helpers of the analysis figures (each analysis module draws its own from its tidy table,
FigureData.analysis[name]: one row per layer / matrix / head, one panel per checkpoint; a checkpoint's own figure
is the same drawing of its rows alone), and the restore experiments' figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from .figures import save_figure

__all__ = ["EMPTY", "empty_figure", "panels", "plot_restore", "rows_of"]

EMPTY = pd.DataFrame()


def panels(table: pd.DataFrame, rows: int = 1, width: float = 4.5, height: float = 3.4):
    """(figure, axes[row][panel], checkpoint labels): one column of panels per checkpoint."""
    labels = list(dict.fromkeys(table["checkpoint"])) if "checkpoint" in table else ["checkpoint"]
    fig, axes = plt.subplots(
        rows, len(labels), figsize=(width * len(labels), height * rows), squeeze=False, constrained_layout=True
    )
    return fig, axes, labels


def rows_of(table: pd.DataFrame, label: str) -> pd.DataFrame:
    return table[table["checkpoint"] == label] if "checkpoint" in table else table


def empty_figure(outputs, what: str) -> list[dict]:
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.text(0.5, 0.5, f"no {what} data yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return save_figure(fig, outputs)


def plot_restore(data, outputs: list) -> list[dict]:
    """Share of the lost accuracy that restoring part of the reference's weights brings back, per task, against
    the amount restored; one line per mode, its random control dashed."""
    table = data.table
    rows = table[table["metric"] == "recovery"] if not table.empty else table
    if rows.empty:
        return empty_figure(outputs, "restore")
    tasks = list(dict.fromkeys(rows["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.8 * len(tasks), 3.8), squeeze=False)
    rows = rows.assign(
        mode=rows["variant"].str.extract(r"restored/([a-z]+)-")[0],
        amount=rows["variant"].str.extract(r"-([0-9.]+)(?:-random)?$")[0].astype(float),
        control=rows["variant"].str.endswith("-random"),
    )
    markers = dict(zip(dict.fromkeys(rows["mode"]), "os^D"))
    for ax, task in zip(axes[0], tasks):
        for (lineage, mode, control), group in rows[rows["task"] == task].groupby(["lineage", "mode", "control"]):
            group = group.sort_values("amount")
            label = f"{lineage}: {mode}" + (" (random control)" if control else "")
            ax.plot(group["amount"], group["value"], "--" if control else "-", marker=markers.get(mode, "o"),
                    color="grey" if control else "black", label=label)  # fmt: skip
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.axhline(1, color="grey", linewidth=0.8, linestyle=":")
        ax.set(title=task, xlabel="share restored", ylabel="accuracy recovered (1: back to the reference)", xlim=(0, 1))
        ax.legend(fontsize=7)
    return save_figure(fig, outputs)
