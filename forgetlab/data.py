"""Build a task split from its config entry (the same call serves the workflow and the CLI)."""

from __future__ import annotations

import random
from dataclasses import replace

from .io import read_jsonl
from .tasks import make_task
from .tasks.files import FileTask

__all__ = ["build_split", "load_source_records", "DEFAULT_SIZES"]

DEFAULT_SIZES = {"train": 256, "test": 32}


def build_split(task_name: str, spec: dict, split: str, n: int | None = None, seed: int | None = None) -> list[dict]:
    """Records of ``split`` for the task ``task_name`` configured by ``spec``; ``n``/``seed`` override it."""
    if split not in DEFAULT_SIZES:
        raise ValueError(f"split must be one of {sorted(DEFAULT_SIZES)}, not {split!r}")
    task = make_task(task_name, spec)
    n = n if n is not None else spec.get(f"n_{split}", DEFAULT_SIZES[split])
    seed = seed if seed is not None else spec.get("seed", 0)
    return task.build(split, n, seed)


def load_source_records(
    task_name: str, spec: dict, path: str, split: str, n: int | None = None, seed: int | None = None
) -> list[dict]:
    """Records from a user's file: a dataset task (gsm8k, mmlu, jsonl) reads it in its own schema; a generated
    task reads its record fields (plus ``question`` or ``prompt``). ``n`` picks a seeded subset."""
    task = make_task(task_name, spec)
    seed = seed if seed is not None else spec.get("seed", 0)
    if isinstance(task, FileTask):
        return replace(task, source=path).build(split, n, seed)
    rows = read_jsonl(path)
    if not rows:
        raise ValueError(f"{path}: no records")
    for number, row in enumerate(rows, 1):
        task.check_record(row, f"{path}:{number}")
        row.setdefault("question", row.get("prompt"))
        if row["question"] is None:
            row["question"] = task.question(row)  # generated tasks can describe a record from its fields
    if n is not None and n < len(rows):
        rows = random.Random(seed).sample(rows, n)
    return task.finish(rows, split)
