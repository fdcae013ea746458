"""Snakemake internals, written against Snakemake 9.x."""

from __future__ import annotations

__all__ = ["local_cores"]


def local_cores(workflow) -> int | None:
    """The cores a local run was given (``-c N``), read from ``workflow.global_resources['_cores']``; None for an
    executor without a core limit (it reports sys.maxsize) or where Snakemake keeps the number elsewhere."""
    cores = getattr(workflow.global_resources.get("_cores"), "value", workflow.global_resources.get("_cores"))
    return cores if isinstance(cores, int) and 0 < cores < 4096 else None
