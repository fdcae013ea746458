"""Tidy metric tables: one row per (model, lineage, task, metric)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..lineages import BASE, seed_group, split_checkpoint
from ..stats import bootstrap_ci, paired_bootstrap_ci, share_recovered

__all__ = [
    "KL_METRICS",
    "NEW_TASKS",
    "PRIOR_TASKS",
    "TABLE_COLUMNS",
    "default_format",
    "evalscope_metrics",
    "final_checkpoints",
    "headline_delta",
    "item_key",
    "item_scores",
    "metrics_table",
    "ordinary",
    "with_deltas",
    "with_forgetting",
    "with_realignment",
    "with_recovery",
    "with_seed_summary",
]

# The headline metric of a task, in order of preference: generation accuracy, then lm-eval's usual names.
PRIMARY_METRICS = ("accuracy", "acc", "mc2", "exact_match", "prompt_level_strict_acc", "pass@1")
DELTA_METRICS = (*PRIMARY_METRICS, "acc_norm", "ref_loglik_per_token")

# evalscope's names for the metrics above, across its versions (0.x: AverageAccuracy, 1.x: mean_acc)
EVALSCOPE_METRICS = {"AverageAccuracy": "acc", "mean_acc": "acc", "acc": "acc", "mean_pass@1": "pass@1",
                     "AveragePass@1": "pass@1"}  # fmt: skip

# metrics scored per item in an evaluation's samples (metric -> its field there): their deltas get paired intervals
ITEM_METRICS = {"accuracy": "correct", "ref_loglik": "ref_loglik", "ref_loglik_per_token": "ref_loglik_per_token"}
# a task's further answer extractions (GSM8K: lm-eval's strict, flexible, ...): accuracy_<name> from the samples'
# correct_<name>, with deltas and paired intervals like accuracy's
EXTRACTION_METRIC, EXTRACTION_FIELD = "accuracy_", "correct_"

# format: empty for a task's own (or evaluate.format) prompt format, else the further format evaluated;
# variant: empty for a trained checkpoint, else what was made of it (restored/directions-0.2)
TABLE_COLUMNS = [
    "model", "lineage", "stage", "method", "step", "task", "format", "metric", "value", "ci_low", "ci_high", "seed",
    "variant",
]  # fmt: skip
NEW_TASKS, PRIOR_TASKS = "new (mean)", "prior (mean)"  # the task of a per-checkpoint average over tasks
KL_METRICS = ("kl_mean", "reverse_kl_mean")  # averaged over the new and the prior tasks too (fit predictors)


def metrics_table(entries: list[dict], metrics: list[dict]) -> pd.DataFrame:
    """Long table from evaluation metrics.

    ``entries[i]`` identifies ``metrics[i]`` (model, lineage, stage, task, optional method, step, format, seed,
    variant); every numeric metric ``m`` becomes a row, with ``m_ci`` as its interval when present. An analysis
    result contributes its ``summary``.
    """
    rows = []
    for entry, result in zip(entries, metrics, strict=True):
        result = result.get("summary", result)
        if result.get("backend") == "evalscope":
            result = evalscope_metrics(result)
        for name, value in result.items():
            if name.endswith("_ci") or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            low, high = result.get(f"{name}_ci", (None, None))
            rows.append(
                {
                    "model": entry["model"],
                    "lineage": entry["lineage"],
                    "stage": entry["stage"],
                    "method": entry.get("method"),
                    "step": entry.get("step"),
                    "task": entry["task"],
                    "format": entry.get("format"),
                    "metric": name,
                    "value": value,
                    "ci_low": low,
                    "ci_high": high,
                    "seed": entry.get("seed"),
                    "variant": entry.get("variant"),
                }
            )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def evalscope_metrics(result: dict) -> dict:
    """An evalscope result with forgetlab's metric names (``acc`` for its average accuracy, so deltas, forgetting
    and the benchmarks figure read it as they read lm-eval's) and, for a share scored over ``n`` items, the
    normal-approximation binomial interval evalscope does not give."""
    named = {EVALSCOPE_METRICS.get(name, name): value for name, value in result.items()}
    n = result.get("n") or 0
    for name in set(EVALSCOPE_METRICS.values()) & set(named):
        value = named[name]
        if n and isinstance(value, (int, float)) and 0 <= value <= 1 and f"{name}_ci" not in named:
            half = 1.96 * (value * (1 - value) / n) ** 0.5
            named[f"{name}_ci"] = [value - half, value + half]
    return named


def item_scores(rows: list[dict]) -> pd.DataFrame:
    """One evaluation's per-item scores from its samples: indexed by item id, one column per metric of
    ITEM_METRICS present, the mean over the item's completions."""
    frame = pd.DataFrame(rows)
    fields = {field: metric for metric, field in ITEM_METRICS.items() if field in frame}
    fields |= {
        field: EXTRACTION_METRIC + field.removeprefix(EXTRACTION_FIELD)
        for field in frame.columns
        if field.startswith(EXTRACTION_FIELD)
    }
    if "id" not in frame or not fields:
        return pd.DataFrame()
    return frame.groupby("id", sort=False)[list(fields)].mean().rename(columns=fields)


def item_key(row) -> tuple[str, ...]:
    """Which evaluation a table row (or table entry) comes from: the key of its ``item_scores``."""

    def text(name):
        value = row.get(name)
        if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
            return ""
        return str(int(value)) if name == "step" else str(value)

    return tuple(text(name) for name in ("model", "lineage", "step", "task", "format", "variant"))


def _per_item(metric: str) -> bool:
    return metric in ITEM_METRICS or metric.startswith(EXTRACTION_METRIC)


def _pair(items: dict | None, row, metric: str) -> tuple | None:
    """(checkpoint's, base's) per-item scores of ``metric`` on the items both were scored on, or None."""
    metric = metric.removeprefix("delta_")
    if not items or not _per_item(metric):
        return None
    mine = items.get(item_key(row))
    base = items.get(item_key({**dict(row), "lineage": BASE, "step": 0, "variant": None}))
    if mine is None or base is None or metric not in mine or metric not in base:
        return None
    shared = mine.index.intersection(base.index)
    return (mine.loc[shared, metric].to_numpy(), base.loc[shared, metric].to_numpy()) if len(shared) else None


def with_deltas(
    table: pd.DataFrame, items: dict | None = None, metrics: tuple[str, ...] = DELTA_METRICS
) -> pd.DataFrame:
    """Add ``delta_<metric>`` rows: a checkpoint's value minus its base model's on the same task, for ``metrics``
    and every further answer extraction's accuracy (``accuracy_<name>``).

    On a prior task a negative delta is forgetting; on the trained task a positive one is the gain. Checkpoint
    and base are scored on the same items, so where ``items`` (``item_key`` -> ``item_scores``) holds both, the
    interval is a paired bootstrap over the items; otherwise (lm-eval benchmarks) it combines the two intervals
    as independent normal errors, which is conservative.
    """
    rows = []
    table = table.assign(format=table["format"].fillna(""))
    # lm-eval names a filtered metric "exact_match:strict-match"; its base name decides
    wanted = {m for m in table["metric"] if m.split(":")[0] in metrics or m.startswith(EXTRACTION_METRIC)}
    for metric in sorted(wanted):
        values = table[table["metric"] == metric]
        base = values[(values["lineage"] == BASE) & ordinary(values)].set_index(["model", "task", "format"])
        for _, row in values[values["lineage"] != BASE].iterrows():
            key = (row["model"], row["task"], row["format"])
            if key not in base.index:
                continue
            reference = base.loc[key]
            delta = row["value"] - reference["value"]
            pair = _pair(items, row, metric)
            if pair is not None:
                low, high = paired_bootstrap_ci([pair])
            else:
                half = 1.96 * ((_se(row) ** 2 + _se(reference) ** 2) ** 0.5)
                low, high = delta - half, delta + half
            rows.append({**row.to_dict(), "metric": f"delta_{metric}", "value": delta, "ci_low": low, "ci_high": high})
    table = table.assign(format=table["format"].mask(table["format"] == ""))
    return pd.concat([table, pd.DataFrame(rows, columns=TABLE_COLUMNS)], ignore_index=True) if rows else table


def default_format(table: pd.DataFrame) -> pd.Series:
    """Which rows are in a task's own prompt format (empty ``format``; CSV reads it back as NaN)."""
    return table["format"].isna() | (table["format"] == "")


def headline_delta(rows: pd.DataFrame) -> pd.Series | None:
    """The delta row of a task's headline metric (first of PRIMARY_METRICS present), or None."""
    names = {m.removeprefix("delta_").split(":")[0]: m for m in rows["metric"]}
    for name in PRIMARY_METRICS:
        if name in names:
            return rows[rows["metric"] == names[name]].iloc[0]
    return None


def with_forgetting(
    table: pd.DataFrame, lineage_tasks: dict[str, list[str]], items: dict | None = None
) -> pd.DataFrame:
    """Add per-checkpoint averages over tasks: ``forgetting`` (base minus checkpoint on the headline metric,
    averaged over the prior tasks and benchmarks, i.e. those no stage of the lineage trained on; task
    ``prior (mean)``), ``new_task_gain`` (checkpoint minus base, averaged over the trained tasks; task
    ``new (mean)``), and the KL metrics averaged over each of the two groups. The interval of forgetting and
    gain is a paired bootstrap over every task's items when ``items`` holds them all (see ``with_deltas``);
    otherwise the per-task intervals are combined as independent normal errors."""
    wanted = table["metric"].str.startswith("delta_") | table["metric"].isin(KL_METRICS)
    rows = []
    keys = ["model", "lineage", "step", "variant"]
    for (_, lineage, _, _), group in table[wanted & default_format(table)].groupby(keys, dropna=False, sort=False):
        trained = set(lineage_tasks.get(lineage, []))
        deltas = group[group["metric"].str.startswith("delta_")]
        headline = [row for _, task_rows in deltas.groupby("task") if (row := headline_delta(task_rows)) is not None]
        averages = [
            ("forgetting", PRIOR_TASKS, -1, [r for r in headline if r["task"] not in trained]),
            ("new_task_gain", NEW_TASKS, 1, [r for r in headline if r["task"] in trained]),
        ]
        for metric in KL_METRICS:
            kl = [row for _, row in group[group["metric"] == metric].iterrows()]
            averages += [
                (metric, NEW_TASKS, 1, [r for r in kl if r["task"] in trained]),
                (metric, PRIOR_TASKS, 1, [r for r in kl if r["task"] not in trained]),
            ]
        rows += [_average(chosen, metric, task, sign, items) for metric, task, sign, chosen in averages if chosen]
    return pd.concat([table, pd.DataFrame(rows, columns=TABLE_COLUMNS)], ignore_index=True) if rows else table


def _average(chosen: list, metric: str, task: str, sign: int, items: dict | None) -> dict:
    """One row: ``sign`` times the mean of the ``chosen`` rows' values, with its interval."""
    value = sign * sum(r["value"] for r in chosen) / len(chosen) + 0.0  # + 0.0: no "-0.0" for a zero change
    pairs = [_pair(items, r, r["metric"].split(":")[0]) for r in chosen]
    if all(pair is not None for pair in pairs):
        low, high = sorted(sign * bound + 0.0 for bound in paired_bootstrap_ci(pairs))
    else:
        half = 1.96 * (sum(_se(r) ** 2 for r in chosen) ** 0.5) / len(chosen)
        low, high = value - half, value + half
    return {**chosen[0].to_dict(), "task": task, "format": None, "metric": metric, "value": value,
            "ci_low": low, "ci_high": high}  # fmt: skip


def _se(row) -> float:
    if pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):
        return 0.0
    return (row["ci_high"] - row["ci_low"]) / (2 * 1.96)


def ordinary(table: pd.DataFrame) -> pd.Series:
    """Which rows are of a trained checkpoint itself, not of a variant made of it (a restore experiment)."""
    return table["variant"].isna() | (table["variant"] == "")


def final_checkpoints(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of each lineage's final checkpoint in the default prompt format (no intermediate steps, no
    further formats, no restored variants): one row per (model, lineage, task, metric, seed) as the summary
    figures expect."""
    table = table[ordinary(table)]
    last = table.groupby(["model", "lineage"])["step"].transform("max")
    return table[default_format(table) & ((table["step"] == last) | table["step"].isna())]


def with_recovery(table: pd.DataFrame, references: dict[str, str]) -> pd.DataFrame:
    """Add ``recovery`` rows for every restored variant: per task, the share of the accuracy its checkpoint lost
    against the reference that the restore brings back, (restored - checkpoint) / (reference - checkpoint).
    ``references`` maps a lineage to its reference checkpoint path (a lineage, or lineage/steps/<step>)."""
    accuracy = table[(table["metric"] == "accuracy") & default_format(table)]
    plain = accuracy[ordinary(accuracy)]
    accuracy = accuracy[ordinary(accuracy) | accuracy["variant"].str.startswith("restored/", na=False)]
    final = plain.groupby(["model", "lineage"])["step"].max()

    def value(model, lineage, step, task):
        found = plain[(plain["model"] == model) & (plain["lineage"] == lineage) & (plain["step"] == step)
                      & (plain["task"] == task)]  # fmt: skip
        return found["value"].iloc[0] if len(found) else None

    rows = []
    for _, row in accuracy[~ordinary(accuracy)].iterrows():
        reference = references.get(row["lineage"])
        if reference is None:
            continue
        lineage, step = split_checkpoint(reference)
        step = final.get((row["model"], lineage)) if step is None else step
        before = value(row["model"], row["lineage"], row["step"], row["task"])
        target = value(row["model"], lineage, step, row["task"])
        if before is None or target is None:
            continue
        recovered = share_recovered(row["value"], before, target)
        rows.append({**row.to_dict(), "metric": "recovery", "value": recovered, "ci_low": None, "ci_high": None})
    return pd.concat([table, pd.DataFrame(rows, columns=TABLE_COLUMNS)], ignore_index=True) if rows else table


def with_realignment(table: pd.DataFrame, references: dict[str, str], items: dict) -> pd.DataFrame:
    """Add the re-alignment test's rows for every realigned checkpoint, per format its task was evaluated in:
    ``realign_gain`` (its accuracy minus the checkpoint's it was re-aligned from; on the reference itself, the
    control: what the few examples teach on their own) and, where the checkpoint lost accuracy against its
    reference, ``realignment``: the share of the loss the few steps bring back, (realigned - checkpoint) /
    (reference - checkpoint). Intervals resample the items all three were scored on (``items``: item_key ->
    item_scores). ``references``: the checkpoint path each realigned one is measured against."""
    accuracy = table[table["metric"] == "accuracy"]
    realigned = accuracy[accuracy["variant"].str.startswith("realigned/", na=False)]
    rows = []
    for _, row in realigned.iterrows():
        source = row["lineage"] if row["lineage"] == BASE else _checkpoint_path(row, table)
        scores = {"realigned": items.get(item_key(row)), "checkpoint": items.get(item_key({**row, "variant": None}))}
        lineage, step = split_checkpoint(references.get(source, source))
        if step is None:  # a lineage's final model: this row's step, or that lineage's last
            step = row["step"] if lineage == row["lineage"] else _final_step(table, row["model"], lineage)
        scores["reference"] = items.get(item_key({**row, "lineage": lineage, "variant": None, "step": step}))
        if scores["realigned"] is None or scores["checkpoint"] is None or "accuracy" not in scores["checkpoint"]:
            continue
        gain = _paired(scores["realigned"], scores["checkpoint"])
        rows.append({**row.to_dict(), "metric": "realign_gain", **gain})
        if scores["reference"] is not None and source != references.get(source, source):
            rows.append({**row.to_dict(), "metric": "realignment", **_realignment(scores)})
    return pd.concat([table, pd.DataFrame(rows, columns=TABLE_COLUMNS)], ignore_index=True) if rows else table


def _checkpoint_path(row, table: pd.DataFrame) -> str:
    """The checkpoint path of a row: its lineage, or lineage/steps/<step> below the lineage's final step."""
    final = _final_step(table, row["model"], row["lineage"])
    return row["lineage"] if final is None or row["step"] >= final else f"{row['lineage']}/steps/{int(row['step'])}"


def _final_step(table: pd.DataFrame, model: str, lineage: str):
    steps = table[(table["model"] == model) & (table["lineage"] == lineage) & ordinary(table)]["step"]
    return steps.max() if len(steps) else None


def _shared(*frames: pd.DataFrame) -> list[np.ndarray]:
    shared = frames[0].index
    for frame in frames[1:]:
        shared = shared.intersection(frame.index)
    return [frame.loc[shared, "accuracy"].to_numpy(dtype=float) for frame in frames]


def _paired(first: pd.DataFrame, second: pd.DataFrame) -> dict:
    a, b = _shared(first, second)
    low, high = paired_bootstrap_ci([(a, b)])
    return {"value": float(a.mean() - b.mean()), "ci_low": low, "ci_high": high}


def _realignment(scores: dict, n_boot: int = 2000, seed: int = 0) -> dict:
    """(realigned - checkpoint) / (reference - checkpoint) with a percentile interval over resampled items
    (resamples where nothing was lost are left out)."""
    realigned, checkpoint, reference = _shared(scores["realigned"], scores["checkpoint"], scores["reference"])
    picks = np.random.default_rng(seed).integers(0, len(realigned), size=(n_boot, len(realigned)))
    ratios = share_recovered(*(values[picks].mean(1) for values in (realigned, checkpoint, reference)))
    ratios = ratios[~np.isnan(ratios)]
    low, high = np.quantile(ratios, [0.025, 0.975]) if len(ratios) else (float("nan"), float("nan"))
    value = share_recovered(realigned.mean(), checkpoint.mean(), reference.mean())
    return {"value": value, "ci_low": float(low), "ci_high": float(high)}


def with_seed_summary(table: pd.DataFrame, seed_groups: dict[str, str]) -> pd.DataFrame:
    """Add rows with seed ``mean``: for each lineage swept over several seeds (``seed_groups`` from
    ``forgetlab.config.expand_sweeps``), the mean over seeds of every metric at every step, with a bootstrap
    interval over the seeds, under the lineage name without seeds."""
    seeded = table[table["seed"].notna()]
    if seeded.empty or not seed_groups:
        return table
    seeded = seeded.assign(lineage=[seed_group(lineage, seed_groups) for lineage in seeded["lineage"]])
    keys = ["model", "lineage", "step", "task", "format", "metric", "variant"]
    rows = []
    for _, group in seeded.groupby(keys, dropna=False, sort=False):
        if group["seed"].nunique() < 2:
            continue
        low, high = bootstrap_ci(group["value"].tolist())
        first = group.iloc[0]
        rows.append({**first.to_dict(), "stage": first["lineage"].rsplit("/", 1)[-1], "value": group["value"].mean(),
                     "ci_low": low, "ci_high": high, "seed": "mean"})  # fmt: skip
    return pd.concat([table, pd.DataFrame(rows, columns=TABLE_COLUMNS)], ignore_index=True) if rows else table
