"""GSM8K grade-school math: hub openai/gsm8k (config main) or local files with ``question`` and ``answer``
(a worked solution whose final value follows ``####``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ..options import option
from ..parsing import final_number, has_answer_format, parse_number
from .base import Score
from .files import HUB_CONFIG_HELP, HUB_ID_HELP, FileTask

_CALCULATOR = re.compile(r"<<[^>]*>>")


@dataclass(kw_only=True)
class GSM8KTask(FileTask):
    """Grade-school math word problems; the final number is scored."""

    tag = "gsm8k"
    hub_id: str = option("openai/gsm8k", HUB_ID_HELP)
    hub_config: str | None = option("main", HUB_CONFIG_HELP)
    columns = ("question", "answer")

    def convert(self, row: dict, where: str) -> dict:
        worked, _, final = str(row["answer"]).rpartition("####")
        value = parse_number(final)
        if value is None:
            raise ValueError(f"{where}: answer has no final value after '####'")
        return {
            "question": row["question"],
            "answer": _number_text(value),
            "solution": _CALCULATOR.sub("", worked).strip(),
        }

    def reasoning(self, record: dict) -> str:
        return record.get("solution") or super().reasoning(record)

    def natural_answer(self, record: dict) -> str:
        return f"{self.reasoning(record)}\nThe answer is {record['answer']}."

    def example(self) -> dict:
        return {
            "question": "Tom has 3 boxes with 4 apples each. He eats 2 apples. How many apples are left?",
            "answer": "10",
            "solution": "3 boxes * 4 apples = 12 apples. 12 - 2 = 10.",
        }

    def score(self, record: dict, completion: str) -> Score:
        value = final_number(completion)
        correct = value is not None and value == Fraction(str(record["answer"]).replace(",", ""))
        return Score(correct=float(correct), formatted=float(has_answer_format(completion)))


def _number_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(float(value))
