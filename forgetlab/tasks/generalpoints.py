"""GeneralPoints: four playing cards, reach 24 using each card's value once with + - * /.

In-distribution J, Q and K count as 10; out-of-distribution (``ood: true``) they count as 11, 12 and 13 and
every hand holds at least one face card. Only solvable hands are generated; answers are checked exactly.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from typing import ClassVar

from ..arith import ExpressionError, Limits, evaluate, literals, parse
from ..options import option
from .gp_reward import graded_reward
from .puzzle import ExpressionPuzzle

RANKS = ["A", "2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K"]
FACES = {"J", "Q", "K"}

# The study's verifier turn (RL_Heals_SFT, gym_cards): "You failed this trial because <reason>".
FAILED = "You failed this trial because"
NO_FORMULA = "no formula was found in your answer."
WRONG_NUMBERS = "your formula does not use each card's number exactly once."
ILLEGAL_FORMULA = "your formula is illegal."
INCORRECT_FORMULA = "your formula is incorrect."


def solve(values: list[int], target: int) -> str | None:
    """An expression over ``values`` (each once, + - * /) equal to ``target``, or None. Exact arithmetic."""

    def search(items: list[tuple[Fraction, str]]) -> str | None:
        if len(items) == 1:
            return items[0][1] if items[0][0] == target else None
        for i, j in combinations(range(len(items)), 2):
            (a, ta), (b, tb) = items[i], items[j]
            rest = [items[k] for k in range(len(items)) if k not in (i, j)]
            options = [
                (a + b, f"({ta} + {tb})"),
                (a * b, f"({ta} * {tb})"),
                (a - b, f"({ta} - {tb})"),
                (b - a, f"({tb} - {ta})"),
            ]
            if b:
                options.append((a / b, f"({ta} / {tb})"))
            if a:
                options.append((b / a, f"({tb} / {ta})"))
            for value, text in options:
                found = search(rest + [(value, text)])
                if found:
                    return found
        return None

    found = search([(Fraction(v), str(v)) for v in values])
    return found[1:-1] if found and found.startswith("(") else found


@dataclass(kw_only=True)
class GeneralPointsTask(ExpressionPuzzle):
    """Four playing cards: reach the target with + - * / using each card's value once."""

    tag = "generalpoints"
    required_fields: ClassVar[dict] = {"cards": (list,), **ExpressionPuzzle.required_fields}
    ood: bool = option(False, "J, Q, K count 11, 12, 13 (instead of 10) and every hand holds a face card")
    target: int = option(24, "the value to reach")
    cards: int = option(4, "cards per hand", minimum=2)

    def __post_init__(self):
        super().__post_init__()
        self.limits = Limits(allow_division=True, allow_unary_minus=False)

    def card_value(self, rank: str) -> int:
        if rank == "A":
            return 1
        if rank in FACES:
            return {"J": 11, "Q": 12, "K": 13}[rank] if self.ood else 10
        return int(rank)

    def feedback(self, record: dict, completion: str) -> str | None:
        """Why ``completion`` fails, as the study's environment tells the model; None when it is right. Checked in
        the scorer's order: an answer, a formula that parses, the hand's numbers, the target."""
        answer = self.answer(completion)
        if answer is None:
            return f"{FAILED} {NO_FORMULA}"
        if len(answer) > self.limits.max_chars:
            return f"{FAILED} {ILLEGAL_FORMULA}"
        try:
            node = parse(answer.split("=", 1)[0], self.limits)
            if Counter(literals(node)) != Counter(record["numbers"]):
                return f"{FAILED} {WRONG_NUMBERS}"
            value = evaluate(node, self.limits)
        except (ExpressionError, RecursionError):
            return f"{FAILED} {ILLEGAL_FORMULA}"
        return None if value == record["target"] else f"{FAILED} {INCORRECT_FORMULA}"

    def graded_reward(self, record: dict, completion: str) -> float:
        """The study's graded reward of ``completion`` (forgetlab.tasks.gp_reward): +5 right, -1 to -3 and more
        by what is wrong."""
        return graded_reward(
            self.answer(completion), record["numbers"], record["target"], record["answer"], self.limits
        )

    def key(self, record: dict) -> str:
        return ",".join(sorted(record["cards"]))

    def _generate(self, rng: random.Random):
        while True:
            hand = [rng.choice(RANKS) for _ in range(self.cards)]
            if self.ood and not FACES & set(hand):
                continue
            values = [self.card_value(rank) for rank in hand]
            solution = solve(values, self.target)
            if solution is None:
                continue
            yield {
                "question": self.describe(hand),
                "answer": solution,
                "cards": hand,
                "numbers": values,
                "target": self.target,
            }

    def describe(self, hand: list[str]) -> str:
        faces = "J, Q and K count as 11, 12 and 13" if self.ood else "J, Q and K count as 10"
        return (
            f"Cards: {', '.join(hand)}. A counts as 1 and {faces}. Write one equation that uses each card's "
            f"value exactly once with + - * / and parentheses and equals {self.target}."
        )

    def question(self, record: dict) -> str:
        return record.get("question") or self.describe(record["cards"])

    def example(self) -> dict:
        hand = ["Q", "2", "3", "4"] if self.ood else ["K", "2", "3", "4"]
        values = [self.card_value(rank) for rank in hand]
        return {"cards": hand, "numbers": values, "target": self.target, "answer": solve(values, self.target)}
