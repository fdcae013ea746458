"""The task registry: a config's ``kind`` names a Task class; adding a task is one module plus one line here."""

from __future__ import annotations

from .arithmetic import ArithmeticTask
from .base import SPLITS, GeneratedTask, Score, Task, check_split
from .countdown import CountdownTask
from .generalpoints import GeneralPointsTask
from .gsm8k import GSM8KTask
from .jsonl import JsonlTask
from .math_reasoning import MathTask
from .mmlu import MMLUTask
from .mmlu_pro import MMLUProTask
from .sciknoweval import SciKnowEvalTask
from .toolalpaca import ToolAlpacaTask

__all__ = ["SPLITS", "TASK_KINDS", "GeneratedTask", "Score", "Task", "check_split", "make_task"]

TASK_KINDS: dict[str, type[Task]] = {
    cls.tag: cls
    for cls in (
        CountdownTask,
        ArithmeticTask,
        GeneralPointsTask,
        GSM8KTask,
        MMLUTask,
        JsonlTask,
        MMLUProTask,
        MathTask,
        SciKnowEvalTask,
        ToolAlpacaTask,
    )
}
Task.variants = TASK_KINDS


def make_task(name: str, spec: dict) -> Task:
    """The task called ``name`` from its config entry ``spec`` ({kind: ..., options...}), checked: an unknown
    kind or option raises ConfigError naming ``tasks.<name>`` and the nearest valid name."""
    return Task.from_dict(spec, f"tasks.{name}", name=name)
