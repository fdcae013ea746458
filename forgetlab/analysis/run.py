"""One analysis of a checkpoint against its reference, as the workflow and ``forgetlab analyse`` run it."""

from __future__ import annotations

import os

from ..prompts import render_prompt
from ..tasks import Task
from .base import AnalysisInputs
from .registry import analysis_named

__all__ = ["analysis_rows", "run_analysis"]


def analysis_rows(
    task: Task, records: list[dict], style: str | None, n: int, oneshot_example: str = "user"
) -> list[dict]:
    """The first ``n`` items as an evaluation shows them: each record with its rendered ``prompt`` (evaluation
    samples already carry theirs, and whether the checkpoint got it ``correct``); one row per item."""
    rows = [row for row in records if row.get("sample", 0) == 0][:n]
    if not rows:
        raise ValueError(f"no items of task {task.name!r} to analyse")
    return [
        {**row, "prompt": row.get("prompt") or render_prompt(task, row, style or task.format, oneshot_example)}
        for row in rows
    ]


def run_analysis(
    name: str,
    reference_dir: str | os.PathLike,
    model_dir: str | os.PathLike,
    settings: dict,
    task: Task | None = None,
    rows: list[dict] | None = None,
    style: str | None = None,
    chat: bool = True,
    system_prompt: str | None = None,
    device: str = "auto",
    spectra: tuple = (None, None),
) -> dict:
    """{summary, rows} of the registered analysis ``name`` with its config section ``settings``; the
    representation analyses read ``rows`` (see :func:`analysis_rows`) of ``task``, the weight analyses the
    models' stored ``spectra`` folders (None: computed)."""
    analysis = analysis_named(name)
    options = analysis.options.from_dict(settings, f"analysis.{name}")
    inputs = AnalysisInputs(reference_dir, model_dir, options, task, rows, style, chat, system_prompt, device, spectra)
    return analysis.run(inputs)
