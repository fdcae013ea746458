"""What every task provides: records for a split, a reference completion, a score for a completion."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from ..prompts import reference_completion, render_prompt

__all__ = ["Task", "Score", "split_rng"]


@dataclass(frozen=True)
class Score:
    correct: float
    formatted: float


def split_rng(seed: int, split: str, name: str) -> random.Random:
    """A generator per (seed, split, task) so that splits are independent and reproducible."""
    return random.Random(zlib.crc32(f"{name}/{split}/{seed}".encode()))


@dataclass
class Task:
    """Base class. Subclasses set ``kind`` and implement ``_generate``, ``reference`` and ``score``."""

    name: str
    # How many test items are reserved (and kept out of train) whatever test n is asked for.
    test_pool_size: int = 200
    # The prompt format of the records' ``prompt`` field; stages and evaluations may choose another.
    format: str = "answer"
    kind: ClassVar[str] = "task"
    # A record field that evaluation breaks accuracy down by (MMLU: subject).
    group_field: ClassVar[str | None] = None

    def build(self, split: str, n: int, seed: int = 0) -> list[dict]:
        """``n`` distinct records of ``split``; train never repeats a test item (same seed)."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {split!r}")
        if split == "test" and n > self.test_pool_size:
            raise ValueError(f"task {self.name!r}: test n={n} exceeds test_pool_size={self.test_pool_size}")
        excluded: set[str] = set()
        if split == "train":  # the whole test pool is kept out of train, whatever test n is used
            test_pool = self._unique(self._generate(split_rng(seed, "test", self.name)), self.test_pool_size)
            excluded = {self.key(record) for record in test_pool}
        records = self._unique(self._generate(split_rng(seed, split, self.name)), n, excluded)
        return self.finish(records, split)

    def finish(self, records: list[dict], split: str) -> list[dict]:
        """Give records their id, task name and ``prompt`` in the task's format."""
        for index, record in enumerate(records):
            record.setdefault("id", f"{self.name}-{split}-{index:05d}")
            record["task"] = self.name
            record["prompt"] = render_prompt(self, record, self.format)
        return records

    def _unique(self, stream, n: int, excluded: set[str] = frozenset()) -> list[dict]:
        seen, records = set(excluded), []
        for attempt, record in enumerate(stream):
            if attempt > 50 * n + 1000:
                raise ValueError(f"task {self.name!r} cannot produce {n} distinct problems; widen its ranges")
            key = self.key(record)
            if key not in seen:
                seen.add(key)
                records.append(record)
            if len(records) == n:
                break
        return records

    # Fields a record must carry for ``score`` (checked when records come from a user's file).
    required_fields: ClassVar[tuple[str, ...]] = ("answer",)

    def check_record(self, record: dict, where: str, extra: tuple[str, ...] = ()) -> None:
        """Raise ValueError naming the first missing field and ``where`` (file:line) the record came from."""
        for name in (*extra, *self.required_fields):
            if name not in record:
                raise ValueError(f"{where}: record has no {name!r} field (task {self.name!r} needs {list(self.required_fields)})")

    def key(self, record: dict) -> str:
        return record["question"]

    def _generate(self, rng: random.Random) -> Iterator[dict]:
        """An endless stream of candidate records (with ``question`` and ``answer``)."""
        raise NotImplementedError

    # -- how a record is shown and answered (used by prompt formats) --
    def question(self, record: dict) -> str:
        return record["question"]

    def answer_text(self, record: dict) -> str:
        return str(record["answer"])

    def reasoning(self, record: dict) -> str:
        """Worked reasoning for think-format references; tasks with real solutions override it."""
        return f"The answer is {self.answer_text(record)}."

    def natural_answer(self, record: dict) -> str:
        return f"The answer is {self.answer_text(record)}."

    def example(self) -> dict:
        """A fixed solved record shown in one-shot prompts."""
        raise NotImplementedError

    def reference(self, record: dict, style: str | None = None) -> str:
        """The completion SFT trains on, in ``style`` (default: the task's format)."""
        return reference_completion(self, record, style or self.format)

    def for_format(self, style: str) -> "Task":
        """The task as scored under ``style`` (tasks that insist on tags relax that for 'natural')."""
        return self

    def score(self, record: dict, completion: str) -> Score:
        raise NotImplementedError
