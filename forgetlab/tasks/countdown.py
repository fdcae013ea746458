"""Countdown: combine N given numbers, each exactly once, with + - * (optionally /) to hit a target."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..arith import ExpressionError, Limits, evaluate, parse
from ..options import OptionError, option
from .base import OPERATORS_HELP
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


@dataclass(kw_only=True)
class CountdownTask(ExpressionPuzzle):
    """Combine the given numbers, each exactly once, with the operators to hit the target."""

    tag = "countdown"
    expressions: str = option(
        "tree",
        "how a problem's target is made: tree (a random expression tree over the numbers) or left_assoc "
        "(((a op b) op c) ..., the countdown seed's generator)",
        enum=["tree", "left_assoc"],
    )
    target_in_numbers: bool = option(
        True, "false: a target equal to one of the given numbers is redrawn (the countdown seed keeps none)"
    )
    split_by: str = option(
        "pool",
        "how train and test differ: pool (test items reserved, kept out of train) or parity (as the countdown "
        "seed: train problems hold an odd number, test problems only even ones)",
        enum=["pool", "parity"],
    )
    numbers: int = option(3, "how many numbers each problem gives", minimum=2)
    min_number: int = option(1, "smallest number drawn")
    max_number: int = option(10, "largest number drawn")
    operators: str = option("+-*", OPERATORS_HELP, pattern=r"^[-+*/]+$")
    min_target: int = option(1, "smallest target kept")
    max_target: int = option(100, "largest target kept")

    def __post_init__(self):
        super().__post_init__()
        if self.min_number > self.max_number:
            raise OptionError("min_number", f"{self.min_number} is larger than max_number ({self.max_number})")
        if self.min_target > self.max_target:
            raise OptionError("min_target", f"{self.min_target} is larger than max_target ({self.max_target})")
        self.limits = Limits(allow_division="/" in self.operators, allow_unary_minus=False)

    def key(self, record: dict) -> str:
        return f"{sorted(record['numbers'])}={record['target']}"

    def in_split(self, record: dict, split: str) -> bool:
        if self.split_by == "pool":
            return True
        all_even = all(number % 2 == 0 for number in record["numbers"])
        return all_even if split == "test" else not all_even

    def _random_tree(self, rng: random.Random, values: list[int]):
        if self.expressions == "left_assoc":  # ((a op b) op c) ...: the numbers in order, left to right
            tree = values[0]
            for value in values[1:]:
                tree = (rng.choice(self.operators), tree, value)
            return tree
        if len(values) == 1:
            return values[0]
        split = rng.randint(1, len(values) - 1)
        return (
            rng.choice(self.operators),
            self._random_tree(rng, values[:split]),
            self._random_tree(rng, values[split:]),
        )

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
            if not self.target_in_numbers and target in values:
                continue
            shown = sorted(values) if rng.random() < 0.5 else rng.sample(values, len(values))
            yield {
                "question": self.describe(shown, int(target)),
                "answer": solution,
                "numbers": shown,
                "target": int(target),
            }

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
        """The countdown seed's worked example (RL_GRPO grpo/prompts.py:5-18): its numbers, target, expression and
        reasoning, the think block on lines of its own as the seed writes it."""
        return {
            "numbers": [3, 5, 2],
            "target": 13,
            "answer": "5 * 2 + 3",
            "reasoning": "\nI need to reach 13 using [3, 5, 2].\nTry 3 + 5 + 2 = 10. Too small, need multiplication.\n"
            "Try 3 * 5 + 2 = 17. Too large.\nTry 5 * 2 + 3 = 13. Yes!\n",
        }
