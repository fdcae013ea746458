"""Concept dimensions: the MLP neurons that read or write a concept, located in the reference and followed into
the checkpoint.

Input side (as the concept-vector locator of the rl-discover-forgetting seed): the cosine between a concept's
mean input embedding and each row of a layer's up_proj. Output side (the ConceptVectors reading): each neuron's
down_proj column projected onto the concept's unembedding vectors. For each concept, layer and side, the top-n
neurons of each model are compared: the overlap (Jaccard) of the two sets, and for the reference's neurons the
cosine between their old and new weight vectors and the change of their norm.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

from ..options import Options, option
from .base import Analysis
from .weights import WeightReader

__all__ = ["ANALYSIS", "ConceptsConfig", "concept_analysis", "concept_scores"]

_MLP = re.compile(r"(?:^|\.)layers\.(\d+)\.mlp\.(up|down)_proj\.weight$")


def _unit(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=axis, keepdims=True), 1e-12)


def concept_scores(vectors: np.ndarray, concept: np.ndarray) -> np.ndarray:
    """Cosine of every neuron vector (rows of ``vectors``) with the concept direction."""
    return _unit(vectors) @ _unit(concept)


def _embeddings(reader: WeightReader) -> tuple[np.ndarray, np.ndarray]:
    """(input embeddings, output embeddings); tied models share one matrix."""
    names = reader.names()
    inputs = next(n for n in names if n.endswith("embed_tokens.weight"))
    outputs = next((n for n in names if n.endswith("lm_head.weight")), inputs)
    matrix = reader.load(inputs)
    return matrix, matrix if outputs == inputs else reader.load(outputs)


def _mlp_weights(reader: WeightReader) -> dict[tuple[int, str], str]:
    return {(int(m.group(1)), m.group(2)): name for name in reader.names() if (m := _MLP.search(name))}


@dataclass(kw_only=True)
class ConceptsConfig(Options):
    """MLP neurons that read (up_proj) or write (down_proj) a concept: located in the reference, followed into
    the checkpoint."""

    words: list[str] = option(help="concepts as words", factory=lambda: ["number", "answer", "add", "multiply"])
    task: str | None = option(None, "also the reference answers of this task's first n_answers items")
    n_answers: int = option(8, "how many answers of that task", minimum=1)
    top_n: int = option(20, "neurons per concept, layer and side", minimum=1)


def concept_analysis(
    reference_dir: str | os.PathLike, model_dir: str | os.PathLike, concepts: dict[str, list[int]], top_n: int
) -> dict:
    """``concepts``: name -> its token ids. ``rows``: one per (concept, layer, side) with ``jaccard``, ``cosine``
    and ``norm_change``; ``summary``: their means."""
    if not concepts:
        raise ValueError("concept analysis needs at least one concept (config analysis.concepts.words)")
    reference, checkpoint = WeightReader(reference_dir), WeightReader(model_dir)
    embed_in, embed_out = _embeddings(reference)
    directions = {name: (embed_in[ids].mean(0), embed_out[ids].mean(0)) for name, ids in concepts.items() if ids}
    rows = []
    for (layer, kind), name in sorted(_mlp_weights(reference).items()):
        before, after = reference.load(name), checkpoint.load(name)
        # up_proj rows read the residual stream; down_proj columns write to it
        before, after = (before, after) if kind == "up" else (before.T, after.T)
        side = "input" if kind == "up" else "output"
        for concept, (inward, outward) in directions.items():
            direction = inward if kind == "up" else outward
            top_before = np.argsort(-concept_scores(before, direction))[:top_n]
            top_after = np.argsort(-concept_scores(after, direction))[:top_n]
            shared = len(set(top_before) & set(top_after))
            old, new = before[top_before], after[top_before]
            rows.append({
                "concept": concept, "layer": layer, "side": side, "jaccard": shared / (2 * top_n - shared),
                "cosine": float(np.mean(np.sum(_unit(old) * _unit(new), axis=1))),
                "norm_change": float(np.mean(np.linalg.norm(new, axis=1) / np.linalg.norm(old, axis=1) - 1)),
            })  # fmt: skip
    if not rows:
        raise ValueError(f"{model_dir}: no mlp up_proj / down_proj weights, or no concept has tokens")
    summary = {
        f"concepts_{key}": float(np.mean([row[key] for row in rows])) for key in ("jaccard", "cosine", "norm_change")
    }
    summary["concepts_count"] = len(directions)
    return {"summary": summary, "rows": rows}


def run(inputs) -> dict:
    """The config's words, and the reference answers of the task's first items when it names a task."""
    options, tokenizer = inputs.options, inputs.tokenizer
    answers = [inputs.task.answer_text(row) for row in inputs.rows[: options.n_answers]] if options.task else []
    # a word's tokens as it appears inside a sentence (after a space)
    words = [*options.words, *answers]
    concepts = {text: tokenizer(f" {text}", add_special_tokens=False)["input_ids"] for text in words}
    return concept_analysis(inputs.reference_dir, inputs.model_dir, concepts, options.top_n)


def draw(data, outputs: list) -> list[dict]:
    """Overlap (Jaccard) of each concept's top-n neurons between reference and checkpoint per layer, mean over
    concepts, for the neurons that read (up_proj) and write (down_proj) the concept."""
    from ..report.analysis import EMPTY, empty_figure, panels, rows_of, save_figure

    table = data.analysis.get("concepts", EMPTY)
    if table.empty:
        return empty_figure(outputs, "concept")
    fig, axes, labels = panels(table)
    for column, label in enumerate(labels):
        rows, ax = rows_of(table, label), axes[0][column]
        for side, style, weights in (("input", "-", "up_proj rows"), ("output", "--", "down_proj columns")):
            mean = rows[rows["side"] == side].groupby("layer")["jaccard"].mean()
            ax.plot(mean.index, mean.to_numpy(), style, color="black", label=f"{side}: {weights}")
        ax.set(title=label, xlabel="layer", ylabel="top-n neuron overlap (Jaccard)", ylim=(-0.02, 1.02))
    axes[0][0].legend(fontsize=7)
    return save_figure(fig, outputs)


ANALYSIS = Analysis("concepts", ConceptsConfig, run, draw, reads_items=False, flags=("top_n", "words"))
