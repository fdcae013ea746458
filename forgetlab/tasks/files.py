"""Tasks whose items come from a dataset: the Hugging Face hub for real runs, or local files in the same schema."""

from __future__ import annotations

import csv
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..options import option
from .base import Task

__all__ = ["HUB_CONFIG_HELP", "HUB_ID_HELP", "FileTask", "read_rows"]

# The hub options of every dataset kind (each with its own default)
HUB_ID_HELP = "hub dataset id, read with datasets.load_dataset"
HUB_CONFIG_HELP = "hub dataset config (subset; MMLU: a subject, or all)"


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
            records += [self.convert(row, f"{where}:{index + 1}") for index, row in enumerate(rows)]
        records = [record for record in records if self.keep(record)]
        if n < len(records):
            picked = sorted(random.Random(seed).sample(range(len(records)), n))
            records = [records[i] for i in picked]
        return self.finish(records, split)

    def keep(self, record: dict) -> bool:
        """Whether a converted record belongs to the task (MMLU keeps the configured subjects)."""
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

    def convert(self, row: dict, where: str) -> dict:
        """A task record from one dataset row."""
        raise NotImplementedError
