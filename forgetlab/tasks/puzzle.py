"""Shared by the arithmetic puzzles (countdown, GeneralPoints): write one expression that uses exactly the
given numbers and equals the target. Checked by the bounded exact evaluator, never by running code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import ClassVar

from ..arith import ExpressionError, Limits, evaluate, literals, parse
from ..options import option
from ..parsing import last_expression
from .base import GeneratedTask, Score


@dataclass(kw_only=True)
class ExpressionPuzzle(GeneratedTask):
    required_fields: ClassVar[dict] = {"numbers": (list,), "target": (int,), "answer": (str,)}
    limits = Limits()

    require_tags: bool = option(
        True,
        "false: a completion whose answer is not marked (<answer> tags; \\boxed{} in the boxed format) is read from "
        "its last expression (the marking still decides the format score)",
    )

    def is_solution(self, expression: str, numbers: list[int], target: int) -> bool:
        """True when ``expression`` uses exactly ``numbers`` and evaluates to ``target``."""
        if len(expression) > self.limits.max_chars:
            return False
        try:
            node = parse(expression.split("=", 1)[0], self.limits)
            return Counter(literals(node)) == Counter(numbers) and evaluate(node, self.limits) == target
        except (ExpressionError, RecursionError):
            return False

    def answer(self, completion: str, marked: str | None = None) -> str | None:
        """The expression a completion answers with (its ``marked`` answer when given), or None."""
        marked = self.marked_answer(completion) if marked is None else marked
        return marked if marked is not None or self.require_tags else last_expression(completion)

    def score(self, record: dict, completion: str) -> Score:
        marked = self.marked_answer(completion)
        answer = self.answer(completion, marked)
        correct = answer is not None and self.is_solution(answer, record["numbers"], record["target"])
        # Without a marked answer the format check cannot pass: skip its scan of the whole text.
        formatted = marked is not None and self.well_formed(completion)
        return Score(correct=float(correct), formatted=float(formatted))

    def reasoning(self, record: dict) -> str:
        """A record's worked ``reasoning`` where it has one (a task's example), else its solution = the target."""
        return record.get("reasoning") or f"{record['answer']} = {record['target']}"

    def natural_answer(self, record: dict) -> str:
        return self.reasoning(record)

    def for_format(self, style: str) -> ExpressionPuzzle:
        task = super().for_format(style)
        return replace(task, require_tags=False) if style == "natural" else task
