"""MMLU multiple choice, generation-graded: the model writes a letter. Hub cais/mmlu (a subject or 'all') or
local files: jsonl with ``question``, ``choices`` (4), ``answer`` (index 0-3 or letter), ``subject``; or the
original headerless CSVs (question, A, B, C, D, letter), a folder of ``<subject>_test.csv`` files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..options import option
from .choices import LETTERS, ChoiceTask, answer_letter
from .files import HUB_CONFIG_HELP, HUB_ID_HELP, read_rows

OPTIONS = LETTERS[:4]
CSV_COLUMNS = ["question", *OPTIONS, "answer"]


@dataclass(kw_only=True)
class MMLUTask(ChoiceTask):
    """Multiple choice over 57 subjects, graded on the letter the model writes."""

    tag = "mmlu"
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
            {"question": r["question"], "choices": [r[x] for x in OPTIONS], "answer": r["answer"], "subject": subject}
            for r in rows
        ]

    def keep(self, record: dict) -> bool:
        return not self.subjects or record["subject"] in self.subjects

    def convert(self, row: dict, where: str) -> dict:
        choices = row.get("choices")
        if not isinstance(choices, list) or len(choices) != len(OPTIONS):
            raise ValueError(f"{where}: 'choices' must be a list of 4 options")
        letter = answer_letter(row["answer"], len(OPTIONS), where)
        return {
            "question": row["question"],
            "choices": list(map(str, choices)),
            "answer": letter,
            "subject": row.get("subject", ""),
        }

    def offered(self, record: dict) -> str:
        return OPTIONS  # every MMLU question has four

    def example(self) -> dict:
        return {
            "question": "What is the chemical symbol for water?",
            "choices": ["O2", "H2O", "CO2", "NaCl"],
            "answer": "B",
            "subject": "chemistry",
        }
