"""Replay: the stage's records with a fixed share of a prior task's records mixed in, as many as the stage
consumes, so the share the trainer sees is exact rather than left to sampling."""

from __future__ import annotations

import random

__all__ = ["mix_replay"]


def mix_replay(records: list[dict], replayed: list[dict], ratio: float, count: int, seed: int = 0) -> list[dict]:
    """``count`` records in a seeded order, round(ratio * count) of them from ``replayed`` and the rest from
    ``records``, each source cycled when it has fewer. Every record keeps its ``task`` field, by which it is
    prompted, referenced and rewarded as its own task."""
    if not records or not replayed:
        raise ValueError("replay needs records of both the stage's task and the replayed task")
    n_replay = round(ratio * count)
    chosen = [records[i % len(records)] for i in range(count - n_replay)]
    chosen += [replayed[i % len(replayed)] for i in range(n_replay)]
    random.Random(seed).shuffle(chosen)
    return chosen
