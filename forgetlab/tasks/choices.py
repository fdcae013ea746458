"""Multiple choice with up to ten options, graded on the letter the model writes (MMLU, MMLU-Pro, SciKnowEval)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..parsing import choice_letter
from .base import Score
from .files import FileTask

__all__ = ["LETTERS", "ChoiceTask", "answer_letter"]

LETTERS = "ABCDEFGHIJ"


def answer_letter(value, count: int, where: str) -> str:
    """The letter of a row's answer, given as a letter or a 0-based index, among ``count`` options."""
    text = str(value).strip().upper()
    letter = LETTERS[int(text)] if text.isdigit() and int(text) < len(LETTERS) else text
    if letter not in LETTERS[:count]:
        raise ValueError(f"{where}: answer {value!r} is not one of the {count} options ({LETTERS[:count]})")
    return letter


@dataclass(kw_only=True)
class ChoiceTask(FileTask):
    """Records with ``question``, ``choices`` (a list of option texts) and ``answer`` (the letter)."""

    required_fields: ClassVar[dict] = {"question": (str,), "choices": (list,), "answer": (str,)}

    def question(self, record: dict) -> str:
        options = "\n".join(f"{letter}. {text}" for letter, text in zip(LETTERS, record["choices"]))
        return f"{record['question']}\n{options}\nAnswer with the letter of the correct option."

    def reasoning(self, record: dict) -> str:
        return record.get("solution") or f"The correct option is {record['answer']}."

    def natural_answer(self, record: dict) -> str:
        return f"The answer is ({record['answer']})."

    def offered(self, record: dict) -> str:
        """The letters a record's question offers: only those count ("J" cannot answer a four-option question)."""
        return LETTERS[: len(record["choices"])]

    def score(self, record: dict, completion: str) -> Score:
        # the marked answer (tags; the last \boxed{} in the boxed format) when there is one
        marked = self.marked_answer(completion)
        letter = choice_letter(completion if marked is None else marked, self.offered(record))
        return Score(correct=float(letter == record["answer"]), formatted=float(self.well_formed(completion)))
