"""One analysis of a checkpoint against its reference, as the workflow and ``forgetlab analyse`` run it."""

from __future__ import annotations

import os

from ..evaluate.likelihood import encode_prompt
from ..models import load_model, load_tokenizer, resolve_device
from ..prompts import render_prompt
from ..tasks import Task

__all__ = ["analysis_rows", "run_analysis"]


def analysis_rows(task: Task, records: list[dict], style: str | None, n: int) -> list[dict]:
    """The first ``n`` items as an evaluation shows them: each record with its rendered ``prompt`` (evaluation
    samples already carry theirs, and whether the checkpoint got it ``correct``); one row per item."""
    rows = [row for row in records if row.get("sample", 0) == 0][:n]
    if not rows:
        raise ValueError(f"no items of task {task.name!r} to analyse")
    return [{**row, "prompt": row.get("prompt") or render_prompt(task, row, style or task.format)} for row in rows]


def _concepts(tokenizer, words: list[str], answers: list[str]) -> dict[str, list[int]]:
    """Concept name -> token ids, as the word appears inside a sentence (after a space)."""
    return {text: tokenizer(f" {text}", add_special_tokens=False)["input_ids"] for text in [*words, *answers]}


def run_analysis(
    name: str,
    reference_dir: str | os.PathLike,
    model_dir: str | os.PathLike,
    settings: dict,
    task: Task | None = None,
    rows: list[dict] | None = None,
    style: str | None = None,
    chat: bool = True,
    device: str = "auto",
) -> dict:
    """{summary, rows} of the analysis ``name`` (svd, concepts, attention, drift, probe) with its config section
    ``settings``; the representation analyses read ``rows`` (see :func:`analysis_rows`) of ``task``."""
    from .attention import attention_analysis
    from .concepts import concept_analysis
    from .drift import drift_analysis
    from .probe import probe_analysis
    from .svd import svd_analysis

    if name == "svd":
        return svd_analysis(reference_dir, model_dir, settings["fraction"], settings["matrices"], settings["seed"])
    tokenizer = load_tokenizer(reference_dir)
    if name == "concepts":
        answers = [task.answer_text(row) for row in rows[: settings["n_answers"]]] if settings["task"] else []
        return concept_analysis(
            reference_dir, model_dir, _concepts(tokenizer, settings["words"], answers), settings["top_n"]
        )
    if task is None or rows is None:
        raise ValueError(f"the {name} analysis reads a task's items: give a task")
    device = resolve_device(device)
    extra = {"attn_implementation": "eager"} if name == "attention" else {}
    reference, model = load_model(reference_dir, device, **extra), load_model(model_dir, device, **extra)
    prompts = [encode_prompt(tokenizer, row["prompt"], chat) for row in rows]
    if name == "attention":
        groups = ["right" if row["correct"] >= 0.5 else "wrong" for row in rows] if "correct" in rows[0] else None
        return attention_analysis(reference, model, prompts, groups)
    if name == "drift":
        answers = [tokenizer(task.reference(row, style), add_special_tokens=False)["input_ids"] for row in rows]
        sequences = [(prompt + answer, len(prompt)) for prompt, answer in zip(prompts, answers)]
        return drift_analysis(reference, model, sequences, settings["top_k"])
    if name == "probe":
        label = settings["label"]
        if label == "correct":
            if "correct" not in rows[0]:
                raise ValueError("probe label 'correct' needs the checkpoint's evaluation samples (--samples)")
            labels = ["right" if row["correct"] >= 0.5 else "wrong" for row in rows]
        else:
            missing = [i for i, row in enumerate(rows) if label not in row]
            if missing:
                raise ValueError(
                    f"probe label {label!r}: item {missing[0] + 1} of task {task.name!r} has no such field"
                )
            labels = [row[label] for row in rows]
        return probe_analysis(reference, model, prompts, labels, settings["seed"])
    raise ValueError(f"unknown analysis {name!r}")
