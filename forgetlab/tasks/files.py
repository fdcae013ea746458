"""Tasks whose items come from a dataset: the Hugging Face hub for real runs, or local files in the same schema."""

from __future__ import annotations

import csv
import json
import os
import random
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..options import option
from .base import Task

__all__ = [
    "ANSWER_FIELD_HELP", "HUB_CONFIG_HELP", "HUB_ID_HELP", "QUESTION_FIELD_HELP", "FileTask", "HeldOutTask",
    "field_at", "read_rows", "row_field",
]  # fmt: skip

# The hub options of every dataset kind (each with its own default)
HUB_ID_HELP = "hub dataset id, read with datasets.load_dataset (toolalpaca: empty reads its release from GitHub)"
HUB_CONFIG_HELP = "hub dataset config (subset; MMLU: a subject, or all)"
# Where a row keeps its question and answer (kinds that read other datasets' columns)
QUESTION_FIELD_HELP = (
    "field holding the question; a dotted path reaches into nested rows (0.value: the value of the row's first "
    "element); null: question, else prompt"
)
ANSWER_FIELD_HELP = "field holding the reference answer; a dotted path reaches into nested rows (1.ground_truth.value)"


def row_field(row: dict, name: str, where: str):
    """``row[name]``; a ValueError naming the file:line and the field when the row lacks it."""
    if not isinstance(row, dict) or row.get(name) is None:
        raise ValueError(f"{where}: row has no {name!r} field")
    return row[name]


def field_at(row, path: str):
    """The value at dotted ``path`` in ``row`` (keys of objects, indexes of lists); KeyError naming the missing
    step when there is none (a null counts as missing)."""
    value = row
    for step in path.split("."):
        if isinstance(value, dict) and value.get(step) is not None:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value) and value[int(step)] is not None:
            value = value[int(step)]
        else:
            raise KeyError(step)
    return value


def read_rows(path: str | os.PathLike, columns: list[str] | None = None) -> list[dict]:
    """Rows of a .jsonl, .json (list) or .csv file; headerless CSV takes ``columns`` as its header."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix == ".csv":
        with open(path, newline="") as handle:
            reader = csv.reader(handle)
            if columns is None:
                header = next(reader)
                return [dict(zip(header, row)) for row in reader]
            return [dict(zip(columns, row)) for row in reader]
    if path.suffix == ".json":
        with open(path) as handle:
            rows = json.load(handle)
        if not isinstance(rows, list):
            raise ValueError(f"{path}: expected a JSON list of objects")
        return rows
    from ..io import read_jsonl

    return read_jsonl(path)


@dataclass(kw_only=True)
class FileTask(Task):
    """Base for dataset-backed tasks. ``source``: a local file, or a folder holding ``{split}.jsonl``;
    without it the items come from the hub (``hub_id``, ``hub_config``, the split mapped by ``hub_splits``)."""

    source: str | None = option(
        None, "local file, or folder with <split>.jsonl (or <split>/, *_<split>.*); null: the hub"
    )
    hub_id: str = option("", HUB_ID_HELP)
    hub_config: str | None = option(None, HUB_CONFIG_HELP)
    columns: ClassVar[tuple[str, ...]] = ()
    hub_splits: ClassVar[dict[str, str]] = {"train": "train", "test": "test"}
    # Other names a local folder may use for a split (MMLU's original release has dev/ and test/).
    local_aliases: ClassVar[dict[str, tuple[str, ...]]] = {}

    def build(self, split: str, n: int | None = None, seed: int | None = None) -> list[dict]:
        """``n`` records of ``split`` (default n_train / n_test; all when the file holds fewer), a seeded subset."""
        n, seed = self.size(split, n), self.seed if seed is None else seed
        records = []
        for where, rows in self.load(split):
            if not rows:
                raise ValueError(f"{where}: no rows")
            for column in self.columns:
                if column not in rows[0]:
                    raise ValueError(
                        f"{where}: column {column!r} is missing (task {self.name!r} needs {list(self.columns)})"
                    )
            records += [
                record for index, row in enumerate(rows) for record in self.records_of(row, f"{where}:{index + 1}")
            ]
        records = [record for record in records if self.keep(record) and self.in_split(record, split)]
        if n < len(records):
            picked = sorted(random.Random(seed).sample(range(len(records)), n))
            records = [records[i] for i in picked]
        return self.finish(records, split)

    def keep(self, record: dict) -> bool:
        """Whether a converted record belongs to the task (MMLU keeps the configured subjects)."""
        return True

    def in_split(self, record: dict, split: str) -> bool:
        """Whether a record read for ``split`` belongs to it (all do, unless both splits read the same rows)."""
        return True

    def load(self, split: str) -> list[tuple[str, list[dict]]]:
        """(where the rows came from, rows) per file of ``split``."""
        if self.source:
            path = Path(self.source)
            if path.is_dir():
                matches = self._split_files(path, split)
                if not matches:
                    raise FileNotFoundError(f"{path}: no {split}.jsonl, {split}/ or *_{split}.* for task {self.name!r}")
                return [(str(match), self.read(match)) for match in matches]
            return [(str(path), self.read(path))]
        hub_split = self.hub_splits[split]
        return [(f"hub:{self.hub_id}/{self.hub_config or ''}[{hub_split}]", self.load_hub(hub_split))]

    def _split_files(self, folder: Path, split: str) -> list[Path]:
        for name in (split, *self.local_aliases.get(split, ())):
            if (folder / name).is_dir():
                return sorted(p for p in (folder / name).iterdir() if p.suffix in (".jsonl", ".json", ".csv"))
            matches = sorted(folder.glob(f"{name}.*")) or sorted(folder.glob(f"*_{name}.*"))
            if matches:
                return matches
        return []

    def read(self, path: Path) -> list[dict]:
        return read_rows(path)

    def load_hub(self, split: str) -> list[dict]:
        from datasets import load_dataset

        return list(load_dataset(self.hub_id, self.hub_config, split=split))

    def records_of(self, row: dict, where: str) -> list[dict]:
        """The task records of one dataset row: its conversion (ToolAlpaca: one per instance of an API)."""
        return [self.convert(row, where)]

    def convert(self, row: dict, where: str) -> dict:
        """A task record from one dataset row."""
        raise NotImplementedError


@dataclass(kw_only=True)
class HeldOutTask(FileTask):
    """A dataset task whose train and test may read the same rows (a hub dataset with one split, or one local
    file): then a hash of each question puts it in test with probability ``test_fraction``, else in train, so the
    two never share a question, whatever the seed or n."""

    test_fraction: float = option(
        0.1,
        "share of the questions held out for test when train and test read the same rows (a hub dataset with one "
        "split, or one local file); a folder's own train and test files are used as they are",
        exclusiveMinimum=0,
        exclusiveMaximum=1,
    )

    def shares_rows(self) -> bool:
        if self.source:
            return not Path(self.source).is_dir()
        return self.hub_splits["train"] == self.hub_splits["test"]

    def in_split(self, record: dict, split: str) -> bool:
        if not self.shares_rows():
            return True
        held_out = zlib.crc32(record["question"].encode()) % 100_000 < self.test_fraction * 100_000
        return held_out == (split == "test")
