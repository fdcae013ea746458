"""Task records from files: the workflow's own data files and a user's items, checked field by field."""

from __future__ import annotations

import dataclasses
import os
import random

from .io import read_jsonl
from .tasks import Task
from .tasks.files import FileTask

__all__ = ["load_source_records", "read_records"]


def read_records(task: Task, path: str | os.PathLike) -> list[dict]:
    """The records in a JSONL file, each checked for the fields ``task`` needs (the error names file:line)."""
    records = read_jsonl(path)
    if not records:
        raise ValueError(f"{path}: no records")
    for number, record in enumerate(records, 1):
        task.check_record(record, f"{path}:{number}")
    return records


def load_source_records(task: Task, path: str, split: str, n: int | None = None, seed: int | None = None) -> list[dict]:
    """Records from a user's file: a dataset task (gsm8k, mmlu, jsonl) reads it in its own schema; a generated
    task reads its record fields (``question`` may be left out: it is written from the fields). ``n`` picks a
    seeded subset."""
    seed = task.seed if seed is None else seed
    if isinstance(task, FileTask):
        return dataclasses.replace(task, source=path).build(split, n, seed)
    rows = read_jsonl(path)
    if not rows:
        raise ValueError(f"{path}: no records")
    for number, row in enumerate(rows, 1):
        task.check_record(row, f"{path}:{number}")
        row.setdefault("question", row.get("prompt") or task.question(row))
    if n is not None and n < len(rows):
        rows = random.Random(seed).sample(rows, n)
    return task.finish(rows, split)
