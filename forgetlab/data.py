"""Build a task split from its config entry (the same call serves the workflow and the CLI)."""

from __future__ import annotations

import random

from .io import read_jsonl
from .tasks import make_task

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
    """Records from a user's JSONL file, checked against the task's fields; ``n`` picks a seeded subset."""
    task = make_task(task_name, spec)
    rows = read_jsonl(path)
    if not rows:
        raise ValueError(f"{path}: no records")
    for number, row in enumerate(rows, 1):
        task.check_record(row, f"{path}:{number}", extra=("prompt",))
    if n is not None and n < len(rows):
        rows = random.Random(seed if seed is not None else spec.get("seed", 0)).sample(rows, n)
    for index, row in enumerate(rows):
        row.setdefault("id", f"{task_name}-{split}-{index:05d}")
        row["task"] = task_name
    return rows
