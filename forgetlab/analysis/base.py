"""What an analysis module declares, and what it is given to run.

An analysis of a checkpoint against its reference is one module: its option class (the config section
``analysis.<name>``), ``run`` (an :class:`AnalysisInputs` -> ``{summary, rows}``) and ``draw`` (its figure, from
the rows), bound in an :class:`Analysis` that :mod:`forgetlab.analysis.registry` lists. Importing an analysis
module imports no torch or matplotlib: they load inside ``run`` and ``draw``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass

from ..options import Options, option

__all__ = ["Analysis", "AnalysisInputs", "PromptsConfig"]


@dataclass(kw_only=True)
class PromptsConfig(Options):
    """Prompts of a task a representation analysis reads: the checkpoint's own evaluation items."""

    task: str | None = option(None, "task (null: analysis.task)")
    n: int = option(16, "items (the first n of the task's evaluation)", minimum=1)


@dataclass(frozen=True)
class Analysis:
    name: str
    options: type[Options]  # its config section analysis.<name>; summary(options) is its one-line description
    run: Callable[[AnalysisInputs], dict]  # -> {"summary": {...}, "rows": [...]}
    draw: Callable[..., list[dict]]  # (FigureData, output paths) -> what each panel shows
    # whether it reads a task's evaluation items (prompts, right or wrong); the others read the weights alone
    reads_items: bool = True
    # whether it compares the evaluation samples of the two (their eval/<task>.samples.jsonl) instead of models
    reads_samples: bool = False
    # whether it reads the two models' spectra (the workflow writes each model's once: analysis_spectrum)
    reads_spectra: bool = False
    # its options that `forgetlab analyse` sets as flags (--top-k for top_k)
    flags: tuple[str, ...] = ()


@dataclass
class AnalysisInputs:
    """A checkpoint, its reference and the analysis' options (its config section, built); the representation
    analyses also get the task and its evaluation ``rows`` (:func:`forgetlab.analysis.run.analysis_rows`)."""

    reference_dir: str | os.PathLike
    model_dir: str | os.PathLike
    options: Options
    task: object = None  # a forgetlab.tasks.Task
    rows: list[dict] | None = None
    style: str | None = None
    chat: bool = True
    system_prompt: str | None = None
    device: str = "auto"
    # the reference's and the checkpoint's stored spectra folders (None: each weight's is computed when read)
    spectra: tuple = (None, None)

    @functools.cached_property
    def tokenizer(self):
        from ..models import load_tokenizer

        return load_tokenizer(self.reference_dir)

    def items(self, name: str) -> list[dict]:
        """The task's rows, or an error naming the analysis that needs them."""
        if self.task is None or self.rows is None:
            raise ValueError(f"the {name} analysis reads a task's items: give a task")
        return self.rows

    def models(self, **load) -> tuple:
        """(reference, checkpoint), loaded on the job's device."""
        return self.load("reference", **load), self.load("model", **load)

    def load(self, which: str, **load):
        """The reference or the checkpoint (``which``: 'reference' or 'model') alone, on the job's device."""
        from ..models import load_model, resolve_device

        folder = {"reference": self.reference_dir, "model": self.model_dir}[which]
        return load_model(folder, resolve_device(self.device), **load)

    def prompts(self, rows: list[dict]) -> list[list[int]]:
        """Token ids of each row's prompt as the evaluation showed it."""
        from ..evaluate.likelihood import encode_prompt

        return [encode_prompt(self.tokenizer, row["prompt"], self.chat, self.system_prompt) for row in rows]

    @staticmethod
    def right_or_wrong(rows: list[dict]) -> list[str] | None:
        """Whether the checkpoint answered each item right, where the rows carry its evaluation scores."""
        if "correct" not in rows[0]:
            return None
        return ["right" if row["correct"] >= 0.5 else "wrong" for row in rows]
