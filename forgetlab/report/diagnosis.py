"""What kind of forgetting: per trained checkpoint and prior task, the accuracy it lost and beside it what each test
says of that loss. The format test (the loss in a prompt format that asks for no tags), the re-alignment test (the
share a few examples bring back, and what they teach the reference itself), the knowledge signal (the change in
the log-likelihood of the right answer), the token shift of its own answers, and its per-item flips. The tests can
disagree; the table and the figure put them side by side and leave the reading to the researcher.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from .tables import ordinary

__all__ = ["DIAGNOSIS_COLUMNS", "DIAGNOSIS_TESTS", "diagnosis_table", "plot_diagnosis"]

# column -> (metric of metrics.csv, its sign, the format it is read in: None the task's own, "further" the first
# further format evaluated, "weights" an analysis of the weights)
_MEASURES = {
    "forgetting": ("delta_accuracy", -1, None),
    "forgetting_further": ("delta_accuracy", -1, "further"),
    "knowledge": ("delta_ref_loglik_per_token", 1, None),
    "realignment": ("realignment", 1, "realigned"),
    "realign_gain": ("realign_gain", 1, "realigned"),
    "token_shifted": ("token_shift_shifted", 1, None),
    "token_marginal": ("token_shift_marginal", 1, None),
    "right_to_wrong": ("right_to_wrong", 1, None),
    "wrong_to_right": ("wrong_to_right", 1, None),
}
DIAGNOSIS_COLUMNS = [
    "model", "lineage", "method", "step", "task", "further_format", "accuracy",
    *[f"{column}{end}" for column in _MEASURES for end in ("", "_ci_low", "_ci_high")],
    "format_recovered", "control_share",
]  # fmt: skip
# the tests the figure shows, in order: (panel title, x label)
DIAGNOSIS_TESTS = {
    "format": ("forgetting, by prompt format", "accuracy lost against the base"),
    "realignment": ("re-alignment (few examples)", "share of the lost accuracy brought back"),
    "knowledge": ("knowledge signal", "change in log-likelihood of the right answer (nats/token)"),
    "token_shift": ("token shift of its answers", "share of its tokens outside the base's top 1 / top 3"),
    "flips": ("per-item flips", "share of items"),
}


def _lookup(table: pd.DataFrame) -> dict:
    """(model, lineage, step, task, kind, metric) -> (value, low, high), kind as in _MEASURES."""
    found = {}
    for row in table.itertuples(index=False):
        variant = row.variant if isinstance(row.variant, str) and row.variant else None
        fmt = row.format if isinstance(row.format, str) and row.format else None
        if variant is None:
            kind = "further" if fmt else None
        else:
            kind = ("realigned" if variant.startswith("realigned/") else "other") + ("-further" if fmt else "")
        step = None if pd.isna(row.step) else int(row.step)
        found[(row.model, row.lineage, step, row.task, kind, row.metric)] = (row.value, row.ci_low, row.ci_high)
    return found


def diagnosis_table(table: pd.DataFrame, lineage_tasks: dict[str, list[str]]) -> pd.DataFrame:
    """One row per trained checkpoint (kept steps included) and prior task (a task none of its stages trained on):
    each test's measure with its interval where it has one, NaN where the test did not run. ``format_recovered``
    is the share of the loss that the further format does not show (1 - its loss / the loss);
    ``control_share`` the share of the loss the re-alignment examples recover from the reference alone (its
    gain over the loss), to read ``realignment`` against."""
    accuracy = table[(table["metric"] == "accuracy") & ordinary(table) & table["format"].isna()]
    lookup = _lookup(table)
    further = table.loc[table["format"].notna() & (table["format"] != ""), "format"]
    rows = []
    for row in accuracy[accuracy["lineage"] != "base"].itertuples(index=False):
        if row.task in lineage_tasks.get(row.lineage, []):
            continue
        step = None if pd.isna(row.step) else int(row.step)
        out = {"model": row.model, "lineage": row.lineage, "method": row.method, "step": step, "task": row.task,
               "further_format": further.iloc[0] if len(further) else None, "accuracy": row.value}  # fmt: skip
        for column, (metric, sign, kind) in _MEASURES.items():
            value, low, high = lookup.get((row.model, row.lineage, step, row.task, kind, metric), (np.nan,) * 3)
            bounds = sorted([sign * low, sign * high]) if pd.notna(low) and pd.notna(high) else [np.nan, np.nan]
            out |= {column: sign * value, f"{column}_ci_low": bounds[0], f"{column}_ci_high": bounds[1]}
        control = lookup.get((row.model, "base", 0, row.task, "realigned", "realign_gain"), (np.nan,))[0]
        lost = out["forgetting"]
        out["format_recovered"] = 1 - out["forgetting_further"] / lost if abs(lost) > 1e-9 else np.nan
        out["control_share"] = control / lost if abs(lost) > 1e-9 else np.nan
        rows.append(out)
    return pd.DataFrame(rows, columns=DIAGNOSIS_COLUMNS)


def plot_diagnosis(data, outputs: list) -> list[dict]:
    """One row per trained checkpoint on the prior task, one panel per test (DIAGNOSIS_TESTS), 95% intervals."""
    import matplotlib.pyplot as plt

    from .analysis import empty_figure
    from .figures import save_figure

    frame = data.diagnosis if data.diagnosis is not None else pd.DataFrame()
    if not frame.empty and data.prior_task:
        frame = frame[frame["task"] == data.prior_task]
    if frame.empty:
        return empty_figure(outputs, "diagnosis")
    frame = frame.reset_index(drop=True)
    labels = [f"{r.lineage}" + (f" @ {r.step}" if pd.notna(r.step) else "") for r in frame.itertuples()]
    y = np.arange(len(frame))[::-1]
    fig, axes = plt.subplots(1, len(DIAGNOSIS_TESTS), figsize=(3.4 * len(DIAGNOSIS_TESTS), 2.2 + 0.4 * len(frame)),
                             sharey=True, constrained_layout=True)  # fmt: skip
    colours = [data.colour(model, lineage) for model, lineage in zip(frame["model"], frame["lineage"])]
    further = frame["further_format"].dropna()
    panels = {
        "format": [
            ("forgetting", "o", "own format"),
            ("forgetting_further", "s", f"{further.iloc[0]} format" if len(further) else "further format"),
        ],
        "realignment": [("realignment", "o", "from the checkpoint"), ("control_share", "x", "control (from the base)")],
        "knowledge": [("knowledge", "o", None)],
        "token_shift": [("token_shifted", "o", "shifted"), ("token_marginal", "^", "marginal")],
        "flips": [("right_to_wrong", "o", "right -> wrong"), ("wrong_to_right", "^", "wrong -> right")],
    }
    for ax, (test, (title, xlabel)) in zip(axes, DIAGNOSIS_TESTS.items()):
        for offset, (column, marker, label) in zip((0.12, -0.12), panels[test]):
            values = frame[column].to_numpy(dtype=float)
            low, high = (
                frame.get(f"{column}_ci_{end}", pd.Series(np.nan, index=frame.index)) for end in ("low", "high")
            )
            errors = np.abs(np.vstack([values - low.to_numpy(float), high.to_numpy(float) - values]))
            shift = offset if len(panels[test]) > 1 else 0
            for i in range(len(frame)):
                ax.errorbar(values[i], y[i] + shift, xerr=errors[:, i : i + 1], fmt=marker, color=colours[i],
                            markerfacecolor=colours[i] if marker != "s" else "white", capsize=2,
                            label=label if i == 0 else None)  # fmt: skip
        if not np.isfinite(frame[[column for column, _, _ in panels[test]]].to_numpy(dtype=float)).any():
            ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.axvline(0, color="grey", linewidth=0.8)
        if test == "realignment":
            ax.axvline(1, color="grey", linewidth=0.8, linestyle=":")
        ax.set(title=title, xlabel=textwrap.fill(xlabel, 34))
        if any(label for _, _, label in panels[test]):
            ax.legend(fontsize=6, loc="best")
    axes[0].set_yticks(y, labels, fontsize=7)
    axes[0].set_ylim(-0.6, len(frame) - 0.4)
    fig.suptitle(f"What kind of forgetting on {data.prior_task or 'the prior tasks'}", fontsize=10)
    return save_figure(fig, outputs)
