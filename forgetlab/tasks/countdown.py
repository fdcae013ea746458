"""Countdown: combine N given numbers, each exactly once, with + - * (optionally /) to hit a target."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..arith import ExpressionError, Limits, evaluate, parse
from .puzzle import ExpressionPuzzle

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def _render(node) -> tuple[str, int]:
    """Infix text with only the parentheses precedence needs; returns (text, precedence)."""
    if isinstance(node, int):
        return str(node), 3
    op, left, right = node
    left_text, left_prec = _render(left)
    right_text, right_prec = _render(right)
    prec = _PRECEDENCE[op]
    if left_prec < prec:
        left_text = f"({left_text})"
    # a - (b + c) and a / (b * c) need parentheses on the right at equal precedence.
    if right_prec < prec or (right_prec == prec and op in "-/"):
        right_text = f"({right_text})"
    return f"{left_text} {op} {right_text}", prec


@dataclass
class CountdownTask(ExpressionPuzzle):
    kind = "countdown"
    numbers: int = 3
    min_number: int = 1
    max_number: int = 10
    operators: str = "+-*"
    min_target: int = 1
    max_target: int = 100

    def __post_init__(self):
        if self.numbers < 2:
            raise ValueError(f"task {self.name!r}: numbers must be at least 2, not {self.numbers}")
        if not set(self.operators) <= set("+-*/") or not self.operators:
            raise ValueError(f"task {self.name!r}: operators must be drawn from '+-*/', not {self.operators!r}")
        self.limits = Limits(allow_division="/" in self.operators, allow_unary_minus=False)

    def key(self, record: dict) -> str:
        return f"{sorted(record['numbers'])}={record['target']}"

    def _random_tree(self, rng: random.Random, values: list[int]):
        if len(values) == 1:
            return values[0]
        split = rng.randint(1, len(values) - 1)
        return (rng.choice(self.operators), self._random_tree(rng, values[:split]), self._random_tree(rng, values[split:]))

    def _generate(self, rng: random.Random):
        while True:
            values = [rng.randint(self.min_number, self.max_number) for _ in range(self.numbers)]
            solution, _ = _render(self._random_tree(rng, values))
            try:
                target = evaluate(parse(solution, self.limits), self.limits)
            except ExpressionError:  # division by zero
                continue
            if target.denominator != 1 or not self.min_target <= target <= self.max_target:
                continue
            shown = sorted(values) if rng.random() < 0.5 else rng.sample(values, len(values))
            yield {"question": self.describe(shown, int(target)), "answer": solution, "numbers": shown, "target": int(target)}

    def describe(self, numbers: list[int], target: int) -> str:
        ops = " ".join(self.operators)
        listed = ", ".join(map(str, numbers))
        return (
            f"Numbers: {listed}. Target: {target}. Write one expression that uses each number exactly once "
            f"with the operators {ops} and equals the target."
        )

    def question(self, record: dict) -> str:
        return record.get("question") or self.describe(record["numbers"], record["target"])

    def example(self) -> dict:
        return {"numbers": [2, 3, 4], "target": 14, "answer": "2 + 3 * 4"}

