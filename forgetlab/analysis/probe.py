"""Linear probes: per layer, a logistic regression reading a label of the task's records (the answer's
operator, the subject, whether the answer was right) from the hidden state at the prompt's last token, trained
on the reference's states and on the checkpoint's; and the reference's probe read on the checkpoint's states
(does the old readout still work?)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..options import option
from .base import Analysis, PromptsConfig

__all__ = ["ANALYSIS", "ProbeConfig", "last_token_states", "probe_analysis", "probe_layers"]


@dataclass(kw_only=True)
class ProbeConfig(PromptsConfig):
    """Per-layer logistic-regression probes for a label of the task's records, on both models' states."""

    n: int = option(64, "items (the first n of the task's evaluation)", minimum=4)
    label: str = option(
        "correct",
        "a record field to predict (operator, subject, answer, ...), or correct: whether the checkpoint "
        "answered the item right",
    )
    seed: int = option(0, "seed of the train/test split")


def last_token_states(model, prompts: list[list[int]]) -> np.ndarray:
    """[layers + 1, prompts, hidden]: every layer's hidden state at each prompt's last token."""
    import torch

    from .forward import forward_each

    passes = forward_each(model, prompts, hidden=True)
    states = [torch.stack([h[-1] for h in out["hidden"]]).cpu().numpy() for out in passes]
    return np.stack(states, axis=1)


def _split(labels: np.ndarray, test_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/test indices: every class keeps at least one item on each side."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        cut = min(max(1, round(test_share * len(members))), len(members) - 1)
        test += members[:cut].tolist()
        train += members[cut:].tolist()
    return np.array(sorted(train)), np.array(sorted(test))


def _probe():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def probe_layers(
    reference_states: np.ndarray, states: np.ndarray, labels, test_share: float = 0.3, seed: int = 0
) -> dict:
    """``rows``: per layer, held-out accuracy of a probe trained on the reference's states (``accuracy_ref``), on
    the checkpoint's (``accuracy``), and of the reference's probe on the checkpoint's states (``transfer``)."""
    labels = np.asarray([str(label) for label in labels])
    classes, sizes = np.unique(labels, return_counts=True)
    if len(classes) < 2 or sizes.min() < 2:
        raise ValueError(
            f"a probe needs two or more classes of two or more items; the labels give {dict(zip(classes, sizes))}"
        )
    train, test = _split(labels, test_share, seed)
    majority = float(np.max(np.unique(labels[test], return_counts=True)[1]) / len(test))
    rows = []
    for layer in range(reference_states.shape[0]):
        on_reference = _probe().fit(reference_states[layer][train], labels[train])
        on_checkpoint = _probe().fit(states[layer][train], labels[train])
        rows.append({
            "layer": layer, "accuracy_ref": float(on_reference.score(reference_states[layer][test], labels[test])),
            "accuracy": float(on_checkpoint.score(states[layer][test], labels[test])),
            "transfer": float(on_reference.score(states[layer][test], labels[test])), "majority": majority,
        })  # fmt: skip
    best = max(rows, key=lambda row: row["accuracy_ref"])
    summary = {
        "probe_accuracy_ref": float(np.mean([r["accuracy_ref"] for r in rows])),
        "probe_accuracy": float(np.mean([r["accuracy"] for r in rows])),
        "probe_transfer": float(np.mean([r["transfer"] for r in rows])),
        "probe_best_layer": best["layer"], "probe_transfer_best_layer": best["transfer"], "probe_majority": majority,
        "probe_items": len(labels), "probe_classes": len(classes),
    }  # fmt: skip
    return {"summary": summary, "rows": rows}


def probe_analysis(reference, model, prompts: list[list[int]], labels, seed: int) -> dict:
    """Probes on both models' last-token states of ``prompts`` for ``labels`` (see :func:`probe_layers`)."""
    return probe_layers(last_token_states(reference, prompts), last_token_states(model, prompts), labels, seed=seed)


def run(inputs) -> dict:
    rows, label = inputs.items("probe"), inputs.options.label
    if label == "correct":
        labels = inputs.right_or_wrong(rows)
        if labels is None:
            raise ValueError("probe label 'correct' needs the checkpoint's evaluation samples (--samples)")
    else:
        missing = [i for i, row in enumerate(rows) if label not in row]
        if missing:
            where = f"item {missing[0] + 1} of task {inputs.task.name!r}"
            raise ValueError(f"probe label {label!r}: {where} has no such field")
        labels = [row[label] for row in rows]
    return probe_analysis(*inputs.models(), inputs.prompts(rows), labels, inputs.options.seed)


def draw(data, outputs: list) -> list[dict]:
    """Held-out probe accuracy per layer: trained on the reference, on the checkpoint, and the reference's probe
    read on the checkpoint (transfer); the majority class dotted."""
    from ..report.analysis import EMPTY, empty_figure, panels, rows_of, save_figure

    table = data.analysis.get("probe", EMPTY)
    if table.empty:
        return empty_figure(outputs, "probe")
    fig, axes, labels = panels(table)
    for column, label in enumerate(labels):
        rows, ax = rows_of(table, label), axes[0][column]
        for key, style, name in (("accuracy_ref", "-", "reference"), ("accuracy", "--", "checkpoint"),
                                 ("transfer", "-.", "reference probe on checkpoint")):  # fmt: skip
            ax.plot(rows["layer"], rows[key], style, color="black", label=name)
        ax.plot(rows["layer"], rows["majority"], ":", color="grey", label="majority class")
        ax.set(title=label, xlabel="layer", ylabel="held-out accuracy", ylim=(-0.02, 1.02))
    axes[0][0].legend(fontsize=7)
    return save_figure(fig, outputs)


ANALYSIS = Analysis("probe", ProbeConfig, run, draw, flags=("n", "label"))
