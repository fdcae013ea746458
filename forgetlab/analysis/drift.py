"""How the outputs and hidden states moved on prior-task text: along each sequence (a prompt and its reference
answer), the Jensen-Shannon divergence and the top-k overlap of the two models' next-token distributions, and per
layer the cosine between their hidden states."""

from __future__ import annotations

import numpy as np
import torch

from .forward import forward_each

__all__ = ["drift_analysis"]

_EPS = 1e-12


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean cosine over positions, skipping positions where a state is zero (a padding token's embedding)."""
    norms = a.norm(dim=-1) * b.norm(dim=-1)
    kept = norms > 1e-8
    return float(((a * b).sum(-1)[kept] / norms[kept]).mean()) if kept.any() else 1.0


def drift_analysis(reference, model, sequences: list[tuple[list[int], int]], top_k: int = 10) -> dict:
    """``sequences``: (token ids, where the answer starts). ``rows``: one per layer (0 is the embeddings) with
    the mean hidden-state cosine; ``summary``: next-token JS and top-k overlap over prompt and answer positions,
    and the mean hidden cosine."""
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
