"""How the outputs and hidden states moved on prior-task text: along each sequence (a prompt and its reference
answer), the Jensen-Shannon divergence and the top-k overlap of the two models' next-token distributions, and per
layer the cosine between their hidden states."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..options import option
from .base import Analysis, PromptsConfig

__all__ = ["ANALYSIS", "DriftConfig", "drift_analysis"]

_EPS = 1e-12


@dataclass(kw_only=True)
class DriftConfig(PromptsConfig):
    """Next-token JS divergence and top-k overlap along prompt and reference answer; hidden-state cosine per
    layer."""

    top_k: int = option(10, "k of the top-k overlap", minimum=1)


def _cosine(a, b) -> float:
    """Mean cosine over positions, skipping positions where a state is zero (a padding token's embedding)."""
    norms = a.norm(dim=-1) * b.norm(dim=-1)
    kept = norms > 1e-8
    return float(((a * b).sum(-1)[kept] / norms[kept]).mean()) if kept.any() else 1.0


def drift_analysis(reference, model, sequences: list[tuple[list[int], int]], top_k: int) -> dict:
    """``sequences``: (token ids, where the answer starts). ``rows``: one per layer (0 is the embeddings) with
    the mean hidden-state cosine; ``summary``: next-token JS and top-k overlap over prompt and answer positions,
    and the mean hidden cosine."""
    import torch

    from .forward import forward_each

    if not sequences:
        raise ValueError("drift analysis needs at least one sequence")
    cosines: list[np.ndarray] = []
    js = {"prompt": [], "answer": []}
    overlap = {"prompt": [], "answer": []}
    ids_only = [ids for ids, _ in sequences]
    before = forward_each(reference, ids_only, batch_size=4, logits=True, hidden=True)
    after = forward_each(model, ids_only, batch_size=4, logits=True, hidden=True)
    for (ids, start), p, q in zip(sequences, before, after):
        (logits_p, hidden_p), (logits_q, hidden_q) = (p["logits"], p["hidden"]), (q["logits"], q["hidden"])
        cosines.append(np.array([_cosine(a, b) for a, b in zip(hidden_p, hidden_q)]))
        log_p, log_q = torch.log_softmax(logits_p, -1), torch.log_softmax(logits_q, -1)
        log_m = torch.logsumexp(torch.stack([log_p, log_q]), 0) - np.log(2)
        per_position = 0.5 * ((log_p.exp() * (log_p - log_m)).sum(-1) + (log_q.exp() * (log_q - log_m)).sum(-1))
        top_p, top_q = log_p.topk(top_k, -1).indices, log_q.topk(top_k, -1).indices
        shared = (top_p.unsqueeze(-1) == top_q.unsqueeze(-2)).any(-1).float().mean(-1)
        # the distribution at position t predicts token t + 1: those before the answer's first token read the prompt
        for part, positions in (("prompt", slice(0, start - 1)), ("answer", slice(start - 1, len(ids) - 1))):
            js[part] += per_position[positions].tolist()
            overlap[part] += shared[positions].tolist()
    layers = np.mean(cosines, axis=0)
    rows = [{"layer": layer, "hidden_cosine": float(value)} for layer, value in enumerate(layers)]
    summary = {"drift_hidden_cosine": float(layers.mean()), "drift_last_hidden_cosine": float(layers[-1])}
    for part in ("prompt", "answer"):
        summary[f"drift_js_{part}"] = float(np.mean(js[part])) if js[part] else 0.0
        summary[f"drift_topk_overlap_{part}"] = float(np.mean(overlap[part])) if overlap[part] else 1.0
    return {"summary": summary, "rows": rows}


def run(inputs) -> dict:
    """Along each item's prompt and the task's reference answer in the evaluated format."""
    rows = inputs.items("drift")
    answers = [
        inputs.tokenizer(inputs.task.reference(row, inputs.style), add_special_tokens=False)["input_ids"]
        for row in rows
    ]
    sequences = [(prompt + answer, len(prompt)) for prompt, answer in zip(inputs.prompts(rows), answers)]
    return drift_analysis(*inputs.models(), sequences, inputs.options.top_k)


def draw(data, outputs: list) -> list[dict]:
    """Cosine between the reference's and the checkpoint's hidden states per layer, one line per checkpoint."""
    import matplotlib.pyplot as plt

    from ..report.analysis import EMPTY, empty_figure, rows_of, save_figure

    table = data.analysis.get("drift", EMPTY)
    if table.empty:
        return empty_figure(outputs, "drift")
    fig, ax = plt.subplots(figsize=(6, 3.8))
    labels = list(dict.fromkeys(table["checkpoint"])) if "checkpoint" in table else [None]
    styles = ["-", "--", "-.", ":"]
    for i, label in enumerate(labels):
        rows = rows_of(table, label) if label else table
        ax.plot(
            rows["layer"], rows["hidden_cosine"], styles[i % 4], marker="o", markersize=3, label=label or "checkpoint"
        )
    ax.set(xlabel="layer (0: embeddings)", ylabel="hidden-state cosine to the reference")
    ax.legend(fontsize=7)
    return save_figure(fig, outputs)


ANALYSIS = Analysis("drift", DriftConfig, run, draw, flags=("n", "top_k"))
