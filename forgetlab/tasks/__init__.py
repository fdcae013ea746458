"""The task registry: a config's ``kind`` names a Task class; adding a task is one module plus one line here."""

from __future__ import annotations

import dataclasses
import difflib

from .arithmetic import ArithmeticTask
from .base import Score, Task
from .countdown import CountdownTask
from .generalpoints import GeneralPointsTask
from .gsm8k import GSM8KTask
from .jsonl import JsonlTask
from .mmlu import MMLUTask

__all__ = ["DATA_KEYS", "TASK_KINDS", "Score", "Task", "make_task"]

# Keys of a task's config entry that say how much data to build, not how the task behaves.
DATA_KEYS = {"n_train", "n_test", "seed"}

TASK_KINDS: dict[str, type[Task]] = {cls.kind: cls for cls in (CountdownTask, ArithmeticTask, GeneralPointsTask, GSM8KTask, MMLUTask, JsonlTask)}


def make_task(name: str, spec: dict) -> Task:
    """Build the task called ``name`` from its config ``spec`` ({kind: ..., options...})."""
    spec = {key: value for key, value in spec.items() if key not in DATA_KEYS}
    kind = spec.pop("kind", name)
    if kind not in TASK_KINDS:
        close = difflib.get_close_matches(kind, TASK_KINDS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"task {name!r}: unknown kind {kind!r}; known kinds: {sorted(TASK_KINDS)}.{hint}")
    cls = TASK_KINDS[kind]
    known = {field.name for field in dataclasses.fields(cls)} - {"name"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError(f"task {name!r} ({kind}): unknown option(s) {unknown}; allowed: {sorted(known)}")
    return cls(name=name, **spec)
