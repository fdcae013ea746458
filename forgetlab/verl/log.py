"""verl's metrics as forgetlab's step log: one JSON line per optimizer step, under the names TRL logs (so the
training, curves and report figures read a verl stage as any other), verl's own metrics kept beside them."""

from __future__ import annotations

import math
import os

from ..io import write_jsonl
from .names import LOG_NAMES

__all__ = ["step_rows", "write_step_log"]


def step_rows(entries: list[dict], num_iterations: int) -> list[dict]:
    """The entries of verl's file logger (``{"step": batch, "data": {metric: value}}``) as forgetlab's step log, by
    step; a step logged again (a resumed attempt redoes the batches after its save) keeps its latest entry. A verl
    step is a batch, trained on for ``num_iterations`` optimizer steps, and forgetlab counts those."""
    latest = {entry["step"]: entry for entry in entries}
    rows = []
    for batch, entry in sorted(latest.items()):
        data = {key: value for key, value in entry["data"].items() if _number(value)}
        row = {"step": batch * num_iterations}
        row |= {name: data[key] for key, name in LOG_NAMES.items() if key in data}
        rows.append(row | {f"verl/{key}": value for key, value in data.items()})
    return rows


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def write_step_log(entries: list[dict], path: str | os.PathLike, num_iterations: int) -> None:
    """verl's logged entries as forgetlab's step log at ``path``, written whole."""
    write_jsonl(step_rows(entries, num_iterations), path)
