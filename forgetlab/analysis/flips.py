"""Which items a checkpoint stopped (or started) answering right, from the evaluation samples of it and of its
reference: the share of items right -> wrong, wrong -> right, kept right and kept wrong, with intervals over
items; and, when the evaluation sampled k completions per item, pass@k for every k with the unbiased estimator
(Chen et al. 2021) and whether the reference's solvable set was preserved, shrunk or widened (Yue et al. 2025).

Reads two ``eval/<task>.samples.jsonl`` files, no model: items are matched by ``id`` and completions by
``sample``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..options import Options, option
from ..stats import bootstrap_ci
from .base import Analysis

__all__ = ["ANALYSIS", "FLIPS", "FlipsConfig", "flips", "pass_at_k"]

FLIPS = ("right_to_wrong", "wrong_to_right", "kept_right", "kept_wrong")
_SHADES = {"kept_right": "#228833", "wrong_to_right": "#66CCEE", "right_to_wrong": "#EE6677", "kept_wrong": "#BBBBBB"}


@dataclass(kw_only=True)
class FlipsConfig(Options):
    """Per-item flips between the reference's and the checkpoint's evaluation, and pass@k with sampled
    evaluation."""

    task: str | None = option(None, "task whose evaluation samples are compared (null: analysis.task)")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of an item with ``c`` right among ``n`` samples: 1 - C(n-c, k) / C(n, k), as a product
    (Chen et al. 2021) so large n does not overflow."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, not {n}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def _right(rows: list[dict], where: str) -> dict[str, dict[int, bool]]:
    """{item id: {sample: answered right}} of an evaluation's samples."""
    found: dict[str, dict[int, bool]] = {}
    for row in rows:
        if "id" not in row or "correct" not in row:
            raise ValueError(f"{where}: rows need 'id' and 'correct' (evaluation samples), not {sorted(row)}")
        found.setdefault(str(row["id"]), {})[int(row.get("sample", 0))] = float(row["correct"]) >= 0.5
    return found


def flips(reference_rows: list[dict], checkpoint_rows: list[dict]) -> dict:
    """{summary, rows}: ``rows`` one per item both evaluations scored (its samples, how many each got right, and
    its completions in each flip); ``summary`` the four flip shares over matched completions (summing to 1) with
    intervals resampling items, the accuracy change they add up to, pass@k of both for every k up to the samples
    per item, and the solvable sets (items right in at least one sample) as shares of the items."""
    reference, checkpoint = _right(reference_rows, "reference"), _right(checkpoint_rows, "checkpoint")
    items = [item for item in reference if item in checkpoint]
    rows = []
    for item in items:
        samples = sorted(set(reference[item]) & set(checkpoint[item]))
        pairs = [(reference[item][s], checkpoint[item][s]) for s in samples]
        if not pairs:
            continue
        rows.append({
            "id": item, "samples": len(pairs), "reference_right": sum(a for a, _ in pairs),
            "checkpoint_right": sum(b for _, b in pairs),
            "right_to_wrong": sum(a and not b for a, b in pairs), "wrong_to_right": sum(b and not a for a, b in pairs),
            "kept_right": sum(a and b for a, b in pairs), "kept_wrong": sum(not (a or b) for a, b in pairs),
        })  # fmt: skip
    if not rows:
        raise ValueError("the two evaluations share no item (matched by 'id' and 'sample')")
    summary = {"items": len(rows), "unmatched_reference": len(reference) - len(rows)}
    summary["unmatched_checkpoint"] = len(checkpoint) - len(rows)
    for name in FLIPS:
        shares = [row[name] / row["samples"] for row in rows]  # per item, so the interval resamples items
        summary[name], summary[f"{name}_ci"] = float(np.mean(shares)), list(bootstrap_ci(shares))
    change = [(row["checkpoint_right"] - row["reference_right"]) / row["samples"] for row in rows]
    summary["accuracy_change"], summary["accuracy_change_ci"] = float(np.mean(change)), list(bootstrap_ci(change))
    largest = min(row["samples"] for row in rows)
    for k in range(1, largest + 1):
        for side in ("reference", "checkpoint"):
            values = [pass_at_k(row["samples"], row[f"{side}_right"], k) for row in rows]
            summary[f"{side}_pass_at_{k}"] = float(np.mean(values))
    # shares of the items: solved by the reference, by the checkpoint, by both, by the reference alone, by it alone
    solvable = np.array([row["reference_right"] > 0 for row in rows])
    solved = np.array([row["checkpoint_right"] > 0 for row in rows])
    summary["solvable_reference"], summary["solvable_checkpoint"] = float(solvable.mean()), float(solved.mean())
    summary["solvable_kept"] = float((solvable & solved).mean())
    summary["solvable_lost"] = float((solvable & ~solved).mean())
    summary["solvable_gained"] = float((solved & ~solvable).mean())
    return {"summary": summary, "rows": rows}


def run(inputs) -> dict:
    """``reference_dir`` and ``model_dir`` are the two evaluations' samples files here."""
    from ..io import read_jsonl

    return flips(read_jsonl(inputs.reference_dir), read_jsonl(inputs.model_dir))


def draw(data, outputs: list) -> list[dict]:
    """Left: per checkpoint, its completions split into kept right, wrong -> right, right -> wrong and kept wrong
    against the reference's. Right, with sampled evaluation: pass@k of each checkpoint and of the reference."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from ..report.analysis import EMPTY, empty_figure, save_figure

    table = data.analysis.get("flips", EMPTY)
    if table.empty:
        return empty_figure(outputs, "flips")
    table = table if "checkpoint" in table else table.assign(checkpoint="checkpoint")
    labels = list(dict.fromkeys(table["checkpoint"]))
    sampled = table["samples"].min() > 1
    fig, axes = plt.subplots(
        1, 1 + sampled, figsize=(3 + 1.1 * len(labels) + 4.5 * sampled, 3.8), squeeze=False, constrained_layout=True
    )
    bars = axes[0][0]
    for i, label in enumerate(labels):
        rows, bottom = table[table["checkpoint"] == label], 0.0
        for name in ("kept_right", "wrong_to_right", "right_to_wrong", "kept_wrong"):
            share = rows[name].sum() / rows["samples"].sum()
            bars.bar(i, share, bottom=bottom, color=_SHADES[name], label=name.replace("_", " ") if i == 0 else None)
            bottom += share
    bars.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=7)
    bars.set(ylabel="share of completions vs the reference's", ylim=(0, 1))
    bars.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    if sampled:
        curve, ks = axes[0][1], np.arange(1, table["samples"].min() + 1)

        def pass_curve(rows, side: str) -> list[float]:
            return [np.mean([pass_at_k(n, c, k) for n, c in zip(rows["samples"], rows[f"{side}_right"])]) for k in ks]

        curve.plot(ks, pass_curve(table[table["checkpoint"] == labels[0]], "reference"), ":", color="black",
                   marker="o", markersize=3, label="reference")  # fmt: skip
        for label in labels:
            curve.plot(
                ks, pass_curve(table[table["checkpoint"] == label], "checkpoint"), marker="o", markersize=3, label=label
            )
        curve.set(xlabel="k (samples per item)", ylabel="pass@k", ylim=(0, 1))
        curve.xaxis.set_major_locator(MaxNLocator(integer=True))
        curve.legend(fontsize=7)
    return save_figure(fig, outputs)


ANALYSIS = Analysis("flips", FlipsConfig, run, draw, reads_items=False, reads_samples=True)
