"""verl's metrics as forgetlab's step log: one JSON line per optimizer step, under the names TRL logs (so the
training, curves and report figures read a verl stage as any other), verl's own metrics kept beside them."""

from __future__ import annotations

import json
import math
import os

from ..io import atomic_path, json_text
from .names import LOG_NAMES

__all__ = ["step_rows", "write_step_log"]


def step_rows(verl_lines: list[str], num_iterations: int) -> list[dict]:
    """The rows of verl's file logger (``{"step": batch, "data": {metric: value}}`` per line) as forgetlab's step
    log; a verl step is a batch, trained on for ``num_iterations`` optimizer steps, and forgetlab counts those."""
    rows = []
    for line in verl_lines:
        if not line.strip():
            continue
        entry = json.loads(line)
        data = {key: value for key, value in entry["data"].items() if _number(value)}
        row = {"step": entry["step"] * num_iterations}
        row |= {name: data[key] for key, name in LOG_NAMES.items() if key in data}
        rows.append(row | {f"verl/{key}": value for key, value in data.items()})
    return rows


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def write_step_log(verl_log: str | os.PathLike, path: str | os.PathLike, num_iterations: int) -> int:
    """verl's log file as forgetlab's step log at ``path``, written whole; the number of rows."""
    with open(verl_log) as handle:
        rows = step_rows(handle.readlines(), num_iterations)
    with atomic_path(path) as tmp:
        tmp.write_text("".join(json_text(row) + "\n" for row in rows))
    return len(rows)
