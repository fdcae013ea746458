"""SciKnowEval's multiple-choice questions of one domain (default Chemistry). Hub hicai-zju/SciKnowEval (one split,
test: train and test are held apart by ``test_fraction``) or local files in its schema, as the SciKnowEval
repository's README and raw_data files show it: ``question``, ``choices`` ({text: [...], label: [A, B, ...]}),
``answerKey`` (a label), ``type`` (mcq-4-choices, mcq-2-choices, true_or_false, open-ended-qa, filling, ...; a
one-element list in some rows), ``domain`` (Biology, Chemistry, Material, Physics), ``details`` ({level: L1..L5,
task, subtask}). Only the mcq types are kept; the others are graded by text overlap or a judge model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..options import option
from .choices import LETTERS, ChoiceTask, answer_letter
from .files import HUB_CONFIG_HELP, HUB_ID_HELP, HeldOutTask, row_field


@dataclass(kw_only=True)
class SciKnowEvalTask(ChoiceTask, HeldOutTask):
    """SciKnowEval multiple choice of one domain, graded on the letter the model writes; metrics break accuracy
    down by level (L1 memory ... L5 application)."""

    tag = "sciknoweval"
    hub_id: str = option("hicai-zju/SciKnowEval", HUB_ID_HELP)
    hub_config: str | None = option(None, HUB_CONFIG_HELP)
    domain: str = option("Chemistry", "keep this domain's questions: Biology, Chemistry, Material or Physics")
    levels: list[str] | None = option(None, "keep only these levels (null: all), e.g. [L3]")
    columns = ("question", "type", "domain")
    hub_splits: ClassVar[dict] = {"train": "test", "test": "test"}
    group_field = "level"

    def keep(self, record: dict) -> bool:
        return (
            record["type"].startswith("mcq")
            and record["domain"].lower() == self.domain.lower()
            and (not self.levels or record["level"] in self.levels)
        )

    def convert(self, row: dict, where: str) -> dict:
        kind = row_field(row, "type", where)
        kind = str(kind[0] if isinstance(kind, list) and kind else kind)
        details = row.get("details") or {}
        record = {"type": kind, "domain": str(row_field(row, "domain", where)), "level": details.get("level", "")}
        if not kind.startswith("mcq"):
            return record  # dropped by keep; its fields follow other schemas
        choices = row_field(row, "choices", where)
        texts, labels = choices.get("text"), choices.get("label")
        if not isinstance(texts, list) or not isinstance(labels, list) or len(texts) != len(labels):
            raise ValueError(f"{where}: 'choices' must hold lists 'text' and 'label' of one length")
        if not 2 <= len(texts) <= len(LETTERS):
            raise ValueError(f"{where}: 'choices' must hold 2 to {len(LETTERS)} options")
        key = row_field(row, "answerKey", where)
        if key not in labels:
            raise ValueError(f"{where}: answerKey {key!r} is not one of the labels {labels}")
        # options are shown as A, B, ... in their order, whatever the dataset's labels
        return {
            **record,
            "question": str(row_field(row, "question", where)),
            "choices": list(map(str, texts)),
            "answer": answer_letter(labels.index(key), len(texts), where),
            "subtask": details.get("subtask", ""),
        }

    def example(self) -> dict:
        return {
            "question": "Which gas makes up most of the Earth's atmosphere?",
            "choices": ["Oxygen", "Nitrogen", "Argon", "Carbon dioxide"],
            "answer": "B",
            "type": "mcq-4-choices",
            "domain": "Chemistry",
            "level": "L1",
        }
