"""MMLU-Pro: harder multiple choice with up to ten options (A-J) over 14 categories. Hub TIGER-Lab/MMLU-Pro
(splits test and validation, the latter 70 questions with worked answers) or local files in its schema:
``question``, ``options`` (list), ``answer`` (letter; ``answer_index`` when absent), ``category``, ``cot_content``
(a worked answer, "A: Let's think step by step. ... The answer is (X).", empty in the test split)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..options import option
from .choices import LETTERS, ChoiceTask, answer_letter
from .files import HUB_CONFIG_HELP, HUB_ID_HELP, row_field


@dataclass(kw_only=True)
class MMLUProTask(ChoiceTask):
    """MMLU-Pro multiple choice, graded on the letter the model writes; think-format references reason with the
    record's worked answer where it has one."""

    tag = "mmlu_pro"
    hub_id: str = option("TIGER-Lab/MMLU-Pro", HUB_ID_HELP)
    hub_config: str | None = option(None, HUB_CONFIG_HELP)
    categories: list[str] | None = option(None, "keep only these categories (null: all), e.g. [math, physics]")
    columns = ("question", "options")
    # the hub has no train split: its 70 validation questions (with worked answers) stand in
    hub_splits: ClassVar[dict] = {"train": "validation", "test": "test"}
    local_aliases: ClassVar[dict] = {"train": ("validation",)}
    group_field = "category"

    def keep(self, record: dict) -> bool:
        return not self.categories or record["category"] in self.categories

    def convert(self, row: dict, where: str) -> dict:
        options = row_field(row, "options", where)
        if not isinstance(options, list) or not 2 <= len(options) <= len(LETTERS):
            raise ValueError(f"{where}: 'options' must be a list of 2 to {len(LETTERS)} options")
        answer = row.get("answer", row.get("answer_index"))
        if answer is None:
            raise ValueError(f"{where}: row has neither 'answer' nor 'answer_index'")
        cot = str(row.get("cot_content") or "").strip()
        return {
            "question": str(row_field(row, "question", where)),
            "choices": list(map(str, options)),
            "answer": answer_letter(answer, len(options), where),
            "category": row.get("category", ""),
            "solution": cot.removeprefix("A:").strip(),
        }

    def example(self) -> dict:
        return {
            "question": "Which planet is closest to the Sun?",
            "choices": ["Venus", "Earth", "Mercury", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune", "Moon", "Sun"],
            "answer": "C",
            "category": "physics",
            "solution": "Mercury orbits nearest to the Sun. The answer is (C).",
        }
