"""Arithmetic: one binary operation on small integers. A prior task a small instruct model partly knows."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..parsing import extract_tag, has_answer_format, last_number
from .base import Score, Task


@dataclass
class ArithmeticTask(Task):
    kind = "arithmetic"
    operators: str = "+-*"
    min_operand: int = 1
    max_operand: int = 50
    max_factor: int = 12  # the second operand of '*' stays small, as in times tables

    def __post_init__(self):
        if not self.operators or not set(self.operators) <= set("+-*"):
            raise ValueError(f"task {self.name!r}: operators must be drawn from '+-*', not {self.operators!r}")

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
        a, b = record["operands"]
        return f"{a} {record['operator']} {b} = {record['answer']}"

    natural_answer = reasoning

    def example(self) -> dict:
        return {"question": "What is 12 + 7?", "answer": "19", "operands": [12, 7], "operator": "+"}

    def score(self, record: dict, completion: str) -> Score:
        # The tagged answer when there is one; otherwise the last number the model wrote.
        answer = extract_tag(completion)
        value = last_number(answer if answer is not None else completion)
        correct = value is not None and value == int(record["answer"])
        return Score(correct=float(correct), formatted=float(has_answer_format(completion)))
