"""How far a long computation has come, as short lines on stderr (a job's log): ``eval arithmetic: 16/48 items,
12 s, 24 s left``. A line after the first batch (so the pace shows early), after the last, and in between at most
one every ``EVERY_SECONDS``."""

from __future__ import annotations

import sys
import time

__all__ = ["EVERY_SECONDS", "Progress", "pace", "progress_of"]

EVERY_SECONDS = 10.0


class Progress:
    """Counts ``total`` items done batch by batch under ``label`` and says so on stderr."""

    def __init__(self, label: str, total: int, unit: str = "items"):
        self.label, self.total, self.unit = label, total, unit
        self.done = self.lines = 0
        self.start = self.shown = time.monotonic()

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if self.lines and self.done < self.total and now - self.shown < EVERY_SECONDS:
            return
        line = f"{self.label}: {self.done}/{self.total} {self.unit}, {pace(self.done, self.total, now - self.start)}"
        print(line, file=sys.stderr, flush=True)
        self.shown, self.lines = now, self.lines + 1


def progress_of(on: bool, label: str, total: int, unit: str = "items") -> Progress | None:
    """A Progress when ``on``; None (silent) otherwise."""
    return Progress(label, total, unit) if on else None


def pace(done: int, total: int, elapsed: float) -> str:
    """Time so far and, before the end, the time left at the pace so far: ``12 s, 24 s left``."""
    if not 0 < done < total:
        return seconds(elapsed)
    return f"{seconds(elapsed)}, {seconds(elapsed * (total - done) / done)} left"


def seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"
