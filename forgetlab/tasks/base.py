"""What every task provides: records for a split, a reference completion, a score for a completion."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import ClassVar

from ..options import OptionError, Options, option
from ..parsing import extract_tag, has_answer_format, last_boxed
from ..prompts import FORMATS, reference_completion, render_prompt

__all__ = ["SPLITS", "GeneratedTask", "Score", "Task", "check_split", "split_rng"]

SPLITS = ("train", "test")
# One option of several kinds: one meaning, one help text (the schema shows it once).
OPERATORS_HELP = "operators the problems use: countdown any of + - * /, arithmetic + - * (its answers stay integers)"
_TYPE_NAMES = {str: "text", int: "an integer", float: "a number", list: "a list", dict: "an object"}


@dataclass(frozen=True)
class Score:
    correct: float
    formatted: float
    # correct under each of the task's ``extractions``, by name
    extractions: dict[str, float] = field(default_factory=dict)

    def fields(self) -> dict[str, float]:
        """The score as fields of a sample row: correct, formatted, correct_<name> for each extraction."""
        named = {f"correct_{name}": value for name, value in self.extractions.items()}
        return {"correct": self.correct, "formatted": self.formatted, **named}


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, not {split!r}")


def split_rng(seed: int, split: str, name: str) -> random.Random:
    """A generator per (seed, split, task) so that splits are independent and reproducible."""
    return random.Random(zlib.crc32(f"{name}/{split}/{seed}".encode()))


@dataclass(kw_only=True)
class Task(Options):
    """A task (``tasks.<label>``): records for each split, a reference completion, a score for a completion.

    Subclasses set ``tag`` (the config's ``kind``) and implement ``build``, ``example`` and ``score``.
    """

    discriminator: ClassVar[str] = "kind"
    discriminator_help: ClassVar[str] = "what the task is (one module of forgetlab/tasks each)"
    internal: ClassVar[tuple[str, ...]] = ("name", "boxed")
    # A record field that evaluation breaks accuracy down by (MMLU: subject).
    group_field: ClassVar[str | None] = None
    # Answer extractions every completion is also scored by, side by side (GSM8K: lm-eval's strict and flexible);
    # evaluation reports each as accuracy_<name>.
    extractions: ClassVar[tuple[str, ...]] = ()
    # Fields a record must carry to be shown, answered and scored: name -> accepted JSON types.
    required_fields: ClassVar[dict[str, tuple[type, ...]]] = {"question": (str,), "answer": (str, int, float)}

    name: str
    boxed: bool = False  # completions answer within \boxed{}, not in tags (the boxed format: for_format)
    format: str = option(
        "answer",
        "prompt format of the records' prompt field (a stage or an evaluation may ask for another)",
        enum=list(FORMATS),
    )
    n_train: int = option(256, "training records (results/data/<task>/train.jsonl)", minimum=1)
    n_test: int = option(32, "evaluation records (results/data/<task>/test.jsonl)", minimum=1)
    seed: int = option(0, "seed of the records drawn: generated items, or a dataset's subset")
    verify_iter: int = option(
        1,
        "tries per question: after a wrong answer the verifier says why (a user turn) and the model answers again, "
        "in evaluation and RL rollouts, up to this many times (only tasks with a verifier's feedback: generalpoints)",
        minimum=1,
    )

    def __post_init__(self):
        super().__post_init__()
        if self.verify_iter > 1 and type(self).feedback is Task.feedback:
            raise OptionError("verify_iter", f"task kind {self.tag!r} gives no verifier feedback: only 1 try")

    def build(self, split: str, n: int | None = None, seed: int | None = None) -> list[dict]:
        """The records of ``split``: ``n`` of them (default n_train / n_test), drawn with ``seed``."""
        raise NotImplementedError

    def size(self, split: str, n: int | None = None) -> int:
        check_split(split)
        return n if n is not None else getattr(self, f"n_{split}")

    def finish(self, records: list[dict], split: str) -> list[dict]:
        """Give records their id, task name and ``prompt`` in the task's format."""
        for index, record in enumerate(records):
            record.setdefault("id", f"{self.name}-{split}-{index:05d}")
            record["task"] = self.name
            record["prompt"] = render_prompt(self, record, self.format)
        return records

    def check_record(self, record, where: str) -> None:
        """Raise ValueError naming ``where`` (file:line) and the first field the record lacks or has wrong."""
        if not isinstance(record, dict):
            raise ValueError(f"{where}: a record must be a JSON object, not {type(record).__name__}")
        needed = list(self.required_fields)
        for name, types in self.required_fields.items():
            if name not in record:
                raise ValueError(
                    f"{where}: record has no {name!r} field (task {self.name!r} ({self.tag}) needs {needed})"
                )
            value = record[name]
            if not isinstance(value, types) or isinstance(value, bool):
                wanted = " or ".join(_TYPE_NAMES[t] for t in types)
                raise ValueError(f"{where}: field {name!r} must be {wanted}, not {value!r} (task {self.name!r})")

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

    def for_format(self, style: str) -> Task:
        """The task as scored under ``style``: boxed reads the answer from the last \\boxed{} (tasks that insist on
        tags also relax that for 'natural')."""
        boxed = style == "boxed"
        return self if self.boxed == boxed else replace(self, boxed=boxed)

    def marked_answer(self, completion: str) -> str | None:
        """The answer a completion marks: the last \\boxed{} in the boxed format, else the last <answer> block."""
        return last_boxed(completion) if self.boxed else extract_tag(completion)

    def well_formed(self, completion: str) -> bool:
        """The format score: a \\boxed{} answer in the boxed format, else one well-formed <answer> block (optionally
        after one <think> block)."""
        return last_boxed(completion) is not None if self.boxed else has_answer_format(completion)

    def score(self, record: dict, completion: str) -> Score:
        raise NotImplementedError

    def feedback(self, record: dict, completion: str) -> str | None:
        """The verifier's message on a wrong ``completion`` (a user turn before the next try), None when right."""
        raise NotImplementedError


@dataclass(kw_only=True)
class GeneratedTask(Task):
    """A task whose items are generated in code: deterministic by seed, train never repeats a test item."""

    test_pool_size: int = option(
        200,
        "test items reserved (and kept out of train) whatever n_test is, so a larger n_test never overlaps train",
        minimum=1,
    )

    def __post_init__(self):
        super().__post_init__()
        if self.n_test > self.test_pool_size:
            raise OptionError("n_test", f"{self.n_test} exceeds test_pool_size ({self.test_pool_size})")

    def build(self, split: str, n: int | None = None, seed: int | None = None) -> list[dict]:
        n, seed = self.size(split, n), self.seed if seed is None else seed
        if split == "test" and n > self.test_pool_size:
            raise ValueError(f"task {self.name!r}: test n={n} exceeds test_pool_size={self.test_pool_size}")
        excluded: set[str] = set()
        if split == "train":  # the whole test pool is kept out of train, whatever test n is used
            test_pool = self._unique(self._stream(seed, "test"), self.test_pool_size)
            excluded = {self.key(record) for record in test_pool}
        records = self._unique(self._stream(seed, split), n, excluded)
        return self.finish(records, split)

    def _stream(self, seed: int, split: str) -> Iterator[dict]:
        return (record for record in self._generate(split_rng(seed, split, self.name)) if self.in_split(record, split))

    def in_split(self, record: dict, split: str) -> bool:
        """Whether a generated item may belong to ``split`` (every item, unless a task splits by content)."""
        return True

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

    def key(self, record: dict) -> str:
        return record["question"]

    def _generate(self, rng: random.Random) -> Iterator[dict]:
        """An endless stream of candidate records (with ``question`` and ``answer``)."""
        raise NotImplementedError
