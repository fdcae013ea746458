"""How attention moved: per layer and head, over a set of prompts, the Jensen-Shannon divergence between the
reference's and the checkpoint's attention distributions, the change in their entropy, and the attention mass
on the first token (the sink). Prompts are grouped (e.g. items the checkpoint still answers right vs those it
now gets wrong) so the two can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Analysis, PromptsConfig

__all__ = ["ANALYSIS", "AttentionConfig", "attention_analysis"]

_EPS = 1e-12


@dataclass(kw_only=True)
class AttentionConfig(PromptsConfig):
    """Per layer and head: JS divergence of the attention distributions, entropy and first-token mass change,
    on items the checkpoint answers right and wrong."""


def _entropy(p):
    return -(p * (p + _EPS).log()).sum(-1)


def _js(p, q):
    """Jensen-Shannon divergence (nats) between the distributions along the last axis."""
    m = 0.5 * (p + q)
    return 0.5 * (
        (p * ((p + _EPS).log() - (m + _EPS).log())).sum(-1) + (q * ((q + _EPS).log() - (m + _EPS).log())).sum(-1)
    )


def attention_analysis(reference, model, prompts: list[list[int]], groups: list[str] | None = None) -> dict:
    """``rows``: one per (group, layer, head) with ``js``, ``entropy_ref``, ``entropy``, ``entropy_change``,
    ``sink_ref``, ``sink`` (means over query positions after the first, then over prompts); group ``all`` holds
    every prompt. ``summary``: the means over layers and heads, per group."""
    import torch

    from .forward import forward_each

    if not prompts:
        raise ValueError("attention analysis needs at least one prompt")
    groups = groups or ["all"] * len(prompts)
    totals: dict[str, dict] = {}
    counts: dict[str, int] = {}
    maps = zip(
        forward_each(reference, prompts, batch_size=4, attentions=True),
        forward_each(model, prompts, batch_size=4, attentions=True),
    )
    for group, (before, after) in zip(groups, maps):
        # [layers, heads, T, T]; query rows after the first (which can only attend to itself)
        p, q = torch.stack(before["attentions"])[:, :, 1:], torch.stack(after["attentions"])[:, :, 1:]
        values = {
            "js": _js(p, q).mean(-1), "entropy_ref": _entropy(p).mean(-1), "entropy": _entropy(q).mean(-1),
            "sink_ref": p[..., 0].mean(-1), "sink": q[..., 0].mean(-1),
        }  # fmt: skip
        for name in {"all", group}:
            bucket = totals.setdefault(name, {key: torch.zeros_like(value) for key, value in values.items()})
            for key, value in values.items():
                bucket[key] += value
            counts[name] = counts.get(name, 0) + 1
    rows, summary = [], {}
    for group, bucket in totals.items():
        means = {key: (value / counts[group]).cpu().numpy() for key, value in bucket.items()}
        layers, heads = means["js"].shape
        for layer in range(layers):
            for head in range(heads):
                row = {key: float(value[layer, head]) for key, value in means.items()}
                rows.append({"group": group, "layer": layer, "head": head, **row,
                             "entropy_change": row["entropy"] - row["entropy_ref"]})  # fmt: skip
        suffix = "" if group == "all" else f"_{group}"
        summary[f"attention_js{suffix}"] = float(np.mean(means["js"]))
        summary[f"attention_entropy_change{suffix}"] = float(np.mean(means["entropy"] - means["entropy_ref"]))
        summary[f"attention_sink_change{suffix}"] = float(np.mean(means["sink"] - means["sink_ref"]))
        summary[f"attention_prompts{suffix}"] = counts[group]
    return {"summary": summary, "rows": rows}


def run(inputs) -> dict:
    rows = inputs.items("attention")
    reference, model = inputs.models(attn_implementation="eager")  # attention maps: the eager implementation
    return attention_analysis(reference, model, inputs.prompts(rows), inputs.right_or_wrong(rows))


def draw(data, outputs: list) -> list[dict]:
    """Jensen-Shannon divergence (nats) between the reference's and the checkpoint's attention, layer x head."""
    from ..report.analysis import EMPTY, empty_figure, panels, rows_of, save_figure

    table = data.analysis.get("attention", EMPTY)
    rows = table[table["group"] == "all"] if not table.empty else table
    if rows.empty:
        return empty_figure(outputs, "attention")
    fig, axes, labels = panels(rows)
    top = rows["js"].max()
    for column, label in enumerate(labels):
        grid = rows_of(rows, label).pivot_table(index="layer", columns="head", values="js")
        image = axes[0][column].imshow(grid.to_numpy(), aspect="auto", origin="lower", cmap="Greys", vmin=0, vmax=top)
        axes[0][column].set(title=label, xlabel="head", ylabel="layer")
    fig.colorbar(image, ax=axes[0].tolist(), label="attention JS divergence (nats)")
    return save_figure(fig, outputs)


ANALYSIS = Analysis("attention", AttentionConfig, run, draw, flags=("n",))
