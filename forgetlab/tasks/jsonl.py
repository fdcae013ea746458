"""The user's own items: a JSONL (or JSON/CSV) file of ``prompt`` (or ``question``) and ``answer``, scored by a
chosen scorer: ``exact`` text, ``number`` (final numeric value), ``choice`` (option letter), ``expression``
(the value of the answered arithmetic expression). ``question_field`` and ``answer_field`` read a dataset with
other column names as it is, dotted paths reaching into nested rows."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..arith import safe_evaluate
from ..options import OptionError, option
from ..parsing import choice_letter, final_number, parse_number
from .base import Score
from .files import ANSWER_FIELD_HELP, QUESTION_FIELD_HELP, FileTask, field_at

SCORERS = ("exact", "number", "choice", "expression")


@dataclass(kw_only=True)
class JsonlTask(FileTask):
    """Your own items: a file (or a hub dataset) of prompt (or question) and answer."""

    tag = "jsonl"
    scorer: str = option("exact", "how an answer is checked: exact text, final number, option letter, or the "
                         "value of an arithmetic expression", enum=list(SCORERS))  # fmt: skip
    question_field: str | None = option(None, QUESTION_FIELD_HELP)
    answer_field: str = option("answer", ANSWER_FIELD_HELP)

    def __post_init__(self):
        super().__post_init__()
        if not self.source and not self.hub_id:
            raise OptionError("source", "a jsonl task needs a 'source' file or folder, or a 'hub_id'")

    def convert(self, row, where: str) -> dict:
        if self.question_field:
            question = self._field(row, self.question_field, where)
        else:
            question = row.get("question", row.get("prompt")) if isinstance(row, dict) else None
            if question is None:
                raise ValueError(f"{where}: row has neither 'question' nor 'prompt'")
        fields = row if isinstance(row, dict) else {}  # a list row (chat turns) has no named fields to keep
        return {**fields, "question": str(question), "answer": str(self._field(row, self.answer_field, where))}

    def _field(self, row, path: str, where: str):
        try:
            return field_at(row, path)
        except KeyError:
            raise ValueError(f"{where}: row has no {path!r} field (task {self.name!r})") from None

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
