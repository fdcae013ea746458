"""Figures of the analysis stage, from the analyses' tidy tables (FigureData.analysis: one row per layer / matrix
/ head), one panel per checkpoint; a checkpoint's own figure is the same drawing of its rows alone."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

from .figures import save_figure

__all__ = ["plot_attention", "plot_concepts", "plot_drift", "plot_probe", "plot_restore", "plot_svd"]

EMPTY = pd.DataFrame()

MATRIX_STYLES = {"q": "-", "k": "--", "v": "-.", "o": ":", "gate": "-", "up": "--", "down": ":"}


def _panels(table: pd.DataFrame, rows: int = 1, width: float = 4.5, height: float = 3.4):
    """(figure, axes[row][panel], checkpoint labels): one column of panels per checkpoint."""
    labels = list(dict.fromkeys(table["checkpoint"])) if "checkpoint" in table else ["checkpoint"]
    fig, axes = plt.subplots(
        rows, len(labels), figsize=(width * len(labels), height * rows), squeeze=False, constrained_layout=True
    )
    return fig, axes, labels


def _of(table: pd.DataFrame, label: str) -> pd.DataFrame:
    return table[table["checkpoint"] == label] if "checkpoint" in table else table


def _empty(outputs, what: str) -> None:
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.text(0.5, 0.5, f"no {what} data yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return save_figure(fig, outputs)


def plot_svd(data, outputs: list) -> list[dict]:
    """Top: mean principal angle (degrees) between the top-k left singular subspaces per layer, one line per
    matrix, the random-subspace baseline dotted. Bottom: mean relative singular-value drift per layer."""
    table = data.analysis.get("svd", EMPTY)
    if table.empty:
        return _empty(outputs, "SVD")
    fig, axes, labels = _panels(table, rows=2)
    for column, label in enumerate(labels):
        rows = _of(table, label)
        left = rows[rows["side"] == "left"]
        for matrix, group in left.groupby("matrix", sort=False):
            style = MATRIX_STYLES.get(matrix, "-")
            axes[0][column].plot(group["layer"], group["mean_angle"], style, marker=".", label=matrix)
            axes[1][column].plot(group["layer"], 100 * group["sv_drift"], style, marker=".", label=matrix)
        # two unrelated subspaces of the same size sit near this angle: far above what training moves
        title = f"{label}\nrandom subspaces: {left['random_mean_angle'].mean():.0f} degrees"
        axes[0][column].set(title=title, ylabel="mean principal angle, top-k left (degrees)", xlabel="layer")
        axes[1][column].axhline(0, color="grey", linewidth=0.8)
        axes[1][column].set(ylabel="mean singular-value drift (%)", xlabel="layer")
        for ax in axes[:, column]:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0][0].legend(fontsize=7, ncol=2)
    return save_figure(fig, outputs)


def plot_attention(data, outputs: list) -> list[dict]:
    """Jensen-Shannon divergence (nats) between the reference's and the checkpoint's attention, layer x head."""
    table = data.analysis.get("attention", EMPTY)
    rows = table[table["group"] == "all"] if not table.empty else table
    if rows.empty:
        return _empty(outputs, "attention")
    fig, axes, labels = _panels(rows)
    top = rows["js"].max()
    for column, label in enumerate(labels):
        grid = _of(rows, label).pivot_table(index="layer", columns="head", values="js")
        image = axes[0][column].imshow(grid.to_numpy(), aspect="auto", origin="lower", cmap="Greys", vmin=0, vmax=top)
        axes[0][column].set(title=label, xlabel="head", ylabel="layer")
    fig.colorbar(image, ax=axes[0].tolist(), label="attention JS divergence (nats)")
    return save_figure(fig, outputs)


def plot_probe(data, outputs: list) -> list[dict]:
    """Held-out probe accuracy per layer: trained on the reference, on the checkpoint, and the reference's probe
    read on the checkpoint (transfer); the majority class dotted."""
    table = data.analysis.get("probe", EMPTY)
    if table.empty:
        return _empty(outputs, "probe")
    fig, axes, labels = _panels(table)
    for column, label in enumerate(labels):
        rows, ax = _of(table, label), axes[0][column]
        for key, style, name in (("accuracy_ref", "-", "reference"), ("accuracy", "--", "checkpoint"),
                                 ("transfer", "-.", "reference probe on checkpoint")):  # fmt: skip
            ax.plot(rows["layer"], rows[key], style, color="black", label=name)
        ax.plot(rows["layer"], rows["majority"], ":", color="grey", label="majority class")
        ax.set(title=label, xlabel="layer", ylabel="held-out accuracy", ylim=(-0.02, 1.02))
    axes[0][0].legend(fontsize=7)
    return save_figure(fig, outputs)


def plot_concepts(data, outputs: list) -> list[dict]:
    """Overlap (Jaccard) of each concept's top-n neurons between reference and checkpoint per layer, mean over
    concepts, for the neurons that read (up_proj) and write (down_proj) the concept."""
    table = data.analysis.get("concepts", EMPTY)
    if table.empty:
        return _empty(outputs, "concept")
    fig, axes, labels = _panels(table)
    for column, label in enumerate(labels):
        rows, ax = _of(table, label), axes[0][column]
        for side, style, weights in (("input", "-", "up_proj rows"), ("output", "--", "down_proj columns")):
            mean = rows[rows["side"] == side].groupby("layer")["jaccard"].mean()
            ax.plot(mean.index, mean.to_numpy(), style, color="black", label=f"{side}: {weights}")
        ax.set(title=label, xlabel="layer", ylabel="top-n neuron overlap (Jaccard)", ylim=(-0.02, 1.02))
    axes[0][0].legend(fontsize=7)
    return save_figure(fig, outputs)


def plot_drift(data, outputs: list) -> list[dict]:
    """Cosine between the reference's and the checkpoint's hidden states per layer, one line per checkpoint."""
    table = data.analysis.get("drift", EMPTY)
    if table.empty:
        return _empty(outputs, "drift")
    fig, ax = plt.subplots(figsize=(6, 3.8))
    labels = list(dict.fromkeys(table["checkpoint"])) if "checkpoint" in table else [None]
    styles = ["-", "--", "-.", ":"]
    for i, label in enumerate(labels):
        rows = _of(table, label) if label else table
        ax.plot(
            rows["layer"], rows["hidden_cosine"], styles[i % 4], marker="o", markersize=3, label=label or "checkpoint"
        )
    ax.set(xlabel="layer (0: embeddings)", ylabel="hidden-state cosine to the reference")
    ax.legend(fontsize=7)
    return save_figure(fig, outputs)


def plot_restore(data, outputs: list) -> list[dict]:
    """Share of the lost accuracy that restoring part of the reference's weights brings back, per task, against
    the amount restored; one line per mode, its random control dashed."""
    table = data.table
    rows = table[table["metric"] == "recovery"] if not table.empty else table
    if rows.empty:
        return _empty(outputs, "restore")
    tasks = list(dict.fromkeys(rows["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.8 * len(tasks), 3.8), squeeze=False)
    rows = rows.assign(mode=rows["variant"].str.extract(r"restored/([a-z]+)-")[0],
                       amount=rows["variant"].str.extract(r"-([0-9.]+)(?:-random)?$")[0].astype(float),
                       control=rows["variant"].str.endswith("-random"))  # fmt: skip
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
