"""The user's own items: a JSONL (or JSON/CSV) file of ``prompt`` (or ``question``) and ``answer``, scored by a
chosen scorer: ``exact`` text, ``number`` (final numeric value), ``choice`` (option letter), ``expression``
(the value of the answered arithmetic expression)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..arith import safe_evaluate
from ..options import OptionError, option
from ..parsing import choice_letter, final_number, parse_number
from .base import Score
from .files import FileTask

SCORERS = ("exact", "number", "choice", "expression")


@dataclass(kw_only=True)
class JsonlTask(FileTask):
    """Your own items: a file of prompt (or question) and answer."""

    tag = "jsonl"
    scorer: str = option("exact", "how an answer is checked: exact text, final number, option letter, or the "
                         "value of an arithmetic expression", enum=list(SCORERS))  # fmt: skip
    columns = ("answer",)

    def __post_init__(self):
        super().__post_init__()
        if not self.source:
            raise OptionError("source", "a jsonl task needs a 'source' file or folder")

    def convert(self, row: dict, where: str) -> dict:
        question = row.get("question", row.get("prompt"))
        if question is None:
            raise ValueError(f"{where}: row has neither 'question' nor 'prompt'")
        return {**row, "question": str(question), "answer": str(row["answer"])}

    def example(self) -> dict:
        return {"question": "What is 2 + 2?", "answer": "4"}

    def score(self, record: dict, completion: str) -> Score:
        expected = record["answer"].strip()
        marked = self.marked_answer(completion)
        text = marked if marked is not None else completion
        if self.scorer == "exact":
            correct = text.strip().lower() == expected.lower()
        elif self.scorer == "number":
            correct = final_number(text) == parse_number(expected)
        elif self.scorer == "choice":
            correct = choice_letter(text, "ABCDEFGHIJ") == expected.upper()
        else:
            value = safe_evaluate(text.split("=", 1)[0])
            correct = value is not None and value == Fraction(expected)
        return Score(correct=float(correct), formatted=float(self.well_formed(completion)))
