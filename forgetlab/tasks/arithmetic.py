"""Arithmetic: one binary operation on small integers. A prior task a small instruct model partly knows."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..options import OptionError, option
from ..parsing import last_number
from .base import OPERATORS_HELP, GeneratedTask, Score


@dataclass(kw_only=True)
class ArithmeticTask(GeneratedTask):
    """One operation on small integers: a prior task a small instruct model partly knows."""

    tag = "arithmetic"
    operators: str = option("+-*", OPERATORS_HELP, pattern=r"^[-+*/]+$")
    min_operand: int = option(1, "smallest operand")
    max_operand: int = option(50, "largest operand")
    max_factor: int = option(12, "largest second operand of '*' (times tables)", minimum=1)

    def __post_init__(self):
        super().__post_init__()
        if "/" in self.operators:
            raise OptionError("operators", f"{self.operators!r}: arithmetic draws from '+-*' only")
        if self.min_operand > self.max_operand:
            raise OptionError("min_operand", f"{self.min_operand} is larger than max_operand ({self.max_operand})")

    def _generate(self, rng: random.Random):
        while True:
            op = rng.choice(self.operators)
            a = rng.randint(self.min_operand, self.max_operand)
            b = rng.randint(self.min_operand, self.max_factor if op == "*" else self.max_operand)
            if op == "-" and b > a:
                a, b = b, a
            value = a + b if op == "+" else a - b if op == "-" else a * b
            yield {"question": f"What is {a} {op} {b}?", "answer": str(value), "operands": [a, b], "operator": op}

    def reasoning(self, record: dict) -> str:
        if "operands" not in record:  # a record from a user's file: question and answer only
            return super().reasoning(record)
        a, b = record["operands"]
        return f"{a} {record['operator']} {b} = {record['answer']}"

    natural_answer = reasoning

    def example(self) -> dict:
        return {"question": "What is 12 + 7?", "answer": "19", "operands": [12, 7], "operator": "+"}

    def score(self, record: dict, completion: str) -> Score:
        # The marked answer (tags, or \boxed{} in the boxed format) when there is one; else the last number written.
        answer = self.marked_answer(completion)
        value = last_number(answer if answer is not None else completion)
        correct = value is not None and value == int(record["answer"])
        return Score(correct=float(correct), formatted=float(self.well_formed(completion)))
