"""Seed 001's advantage histogram: how GRPO's advantages are spread at chosen steps of each RL stage, and the
share of groups whose completions all scored alike (all-zero advantages: no gradient) step by step."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..train.advantages import ADVANTAGE_EDGES, HISTOGRAM_KEY, ZERO_GROUPS_KEY
from .figures import FigureData, log_key, no_data, save_figure
from .style import DASHES, integer_steps

__all__ = ["chosen_steps", "plot_advantages"]


def chosen_steps(logged: list[int], wanted: list[int] | None) -> list[int]:
    """The steps to draw: those of ``wanted`` that were logged, else the first, middle and last logged."""
    if wanted:
        return [step for step in wanted if step in logged]
    return sorted({logged[0], logged[len(logged) // 2], logged[-1]}) if logged else []


def plot_advantages(data: FigureData, outputs: list) -> list[dict]:
    """Top: per RL stage, the advantage histograms (share of completions per bin) at the chosen steps, each
    labelled with its share of all-zero groups. Bottom: that share at every step."""
    runs = {}
    for label, log in data.train_logs.items():
        rows = {row["step"]: row for row in log if HISTOGRAM_KEY in row}
        if rows:
            runs[label] = rows
    fig, axes = plt.subplots(
        2, max(len(runs), 1), figsize=(4.5 * max(len(runs), 1), 6.4), squeeze=False, layout="constrained"
    )
    if not runs:
        no_data(axes[0][0], "no RL training log with advantages (a GRPO stage)")
        axes[1][0].set_visible(False)
        return save_figure(fig, outputs)
    models = {label.split(": ", 1)[0] for label in runs}
    for column, (label, rows) in enumerate(runs.items()):
        histogram, zero = axes[0][column], axes[1][column]
        title = label.split(": ", 1)[-1] if len(models) == 1 else label  # one model: the lineage says enough
        logged = sorted(rows)
        for index, step in enumerate(chosen_steps(logged, data.advantage_steps)):
            counts = np.asarray(rows[step][HISTOGRAM_KEY], dtype=float)
            share = rows[step].get(ZERO_GROUPS_KEY, float("nan"))
            histogram.stairs(counts / max(counts.sum(), 1), ADVANTAGE_EDGES, linestyle=DASHES[index % len(DASHES)],
                             linewidth=1.5, label=f"step {step} (zero groups {share:.0%})")  # fmt: skip
        histogram.set_title(title.replace("/steps/", "/steps/\n") if len(title) > 40 else title, fontsize=9)
        histogram.set(xlabel="advantage (group-relative reward)", ylabel="share of completions")
        histogram.legend(fontsize=8)
        steps = [step for step in logged if ZERO_GROUPS_KEY in rows[step]]
        zero.plot(steps, [rows[step][ZERO_GROUPS_KEY] for step in steps], marker="o", markersize=5,
                  color=data.colour(*log_key(label)))  # the lineage's colour, as in every figure  # fmt: skip
        zero.set(xlabel="step", ylabel="groups with all-zero advantages", ylim=(-0.02, 1.02))
        integer_steps(zero)
    fig.suptitle("GRPO advantages: distribution at chosen steps, and groups that teach nothing")
    return save_figure(fig, outputs)
