"""MMLU multiple choice, generation-graded: the model writes a letter. Hub cais/mmlu (a subject or 'all') or
local files: jsonl with ``question``, ``choices`` (4), ``answer`` (index 0-3 or letter), ``subject``; or the
original headerless CSVs (question, A, B, C, D, letter), a folder of ``<subject>_test.csv`` files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..options import option
from ..parsing import choice_letter
from .base import Score
from .files import HUB_CONFIG_HELP, HUB_ID_HELP, FileTask, read_rows

LETTERS = "ABCD"
CSV_COLUMNS = ["question", "A", "B", "C", "D", "answer"]


@dataclass(kw_only=True)
class MMLUTask(FileTask):
    """Multiple choice over 57 subjects, graded on the letter the model writes."""

    tag = "mmlu"
    required_fields: ClassVar[dict] = {"question": (str,), "choices": (list,), "answer": (str,)}
    hub_id: str = option("cais/mmlu", HUB_ID_HELP)
    hub_config: str | None = option("all", HUB_CONFIG_HELP)
    subjects: list[str] | None = option(None, "keep only these subjects (null: all)")
    columns = ("question", "answer")
    hub_splits: ClassVar[dict] = {"train": "auxiliary_train", "test": "test"}
    local_aliases: ClassVar[dict] = {"train": ("dev", "auxiliary_train", "val")}
    group_field = "subject"

    def read(self, path: Path) -> list[dict]:
        if path.suffix != ".csv":
            return read_rows(path)
        subject = path.stem.rsplit("_", 1)[0]
        rows = read_rows(path, CSV_COLUMNS)
        return [
            {"question": r["question"], "choices": [r[x] for x in LETTERS], "answer": r["answer"], "subject": subject}
            for r in rows
        ]

    def keep(self, record: dict) -> bool:
        return not self.subjects or record["subject"] in self.subjects

    def convert(self, row: dict, where: str) -> dict:
        choices = row.get("choices")
        if not isinstance(choices, list) or len(choices) != 4:
            raise ValueError(f"{where}: 'choices' must be a list of 4 options")
        answer = row["answer"]
        text = str(answer).strip().upper()
        letter = LETTERS[int(text)] if text.isdigit() and int(text) < len(LETTERS) else text
        if letter not in LETTERS:
            raise ValueError(f"{where}: answer {answer!r} is neither an index 0-3 nor a letter A-D")
        return {
            "question": row["question"],
            "choices": list(map(str, choices)),
            "answer": letter,
            "subject": row.get("subject", ""),
        }

    def question(self, record: dict) -> str:
        options = "\n".join(f"{letter}. {text}" for letter, text in zip(LETTERS, record["choices"]))
        return f"{record['question']}\n{options}\nAnswer with the letter of the correct option."

    def reasoning(self, record: dict) -> str:
        return f"The correct option is {record['answer']}."

    def natural_answer(self, record: dict) -> str:
        return f"The answer is ({record['answer']})."

    def example(self) -> dict:
        return {
            "question": "What is the chemical symbol for water?",
            "choices": ["O2", "H2O", "CO2", "NaCl"],
            "answer": "B",
            "subject": "chemistry",
        }

    def score(self, record: dict, completion: str) -> Score:
        marked = self.marked_answer(completion)
        correct = choice_letter(completion if marked is None else marked, LETTERS) == record["answer"]
        return Score(correct=float(correct), formatted=float(self.well_formed(completion)))
