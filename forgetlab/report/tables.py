"""Tidy metric tables: one row per (model, lineage, task, metric)."""

from __future__ import annotations

import pandas as pd

__all__ = ["TABLE_COLUMNS", "metrics_table"]

TABLE_COLUMNS = ["model", "lineage", "stage", "step", "task", "metric", "value", "ci_low", "ci_high", "seed"]


def metrics_table(entries: list[dict], metrics: list[dict]) -> pd.DataFrame:
    """Long table from evaluation metrics.

    ``entries[i]`` identifies ``metrics[i]`` (model, lineage, stage, task, optional step and seed); every
    numeric metric ``m`` becomes a row, with ``m_ci`` as its interval when present.
    """
    rows = []
    for entry, result in zip(entries, metrics, strict=True):
        for name, value in result.items():
            if name.endswith("_ci") or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            low, high = result.get(f"{name}_ci", (None, None))
            rows.append(
                {
                    "model": entry["model"],
                    "lineage": entry["lineage"],
                    "stage": entry["stage"],
                    "step": entry.get("step"),
                    "task": entry["task"],
                    "metric": name,
                    "value": value,
                    "ci_low": low,
                    "ci_high": high,
                    "seed": entry.get("seed"),
                }
            )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)
