"""Hand layout the formatter keeps: a `# fmt: skip` marker stays only where ruff's own layout of the statement
would be at least three lines longer; anywhere else the formatter decides."""

import re
import subprocess

from .conftest import ROOT

MARKER = re.compile(r"\s*# fmt: skip$")
LONGER_BY = 3


def _growth_without(path, index: int) -> int:
    """How many lines ruff adds to `path` when the marker on line `index` is taken away."""
    lines = path.read_text().split("\n")
    lines[index] = MARKER.sub("", lines[index])
    source = "\n".join(lines)
    formatted = subprocess.run(
        ["ruff", "format", "--stdin-filename", str(path), "-"], input=source, capture_output=True, text=True, check=True
    ).stdout
    return formatted.count("\n") - source.count("\n")


def test_every_fmt_skip_marker_keeps_a_layout_much_shorter_than_ruffs():
    files = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    needless = [
        f"{name}:{index + 1} (ruff's layout is {growth} line(s) longer)"
        for name in files.stdout.split()
        for index, line in enumerate((ROOT / name).read_text().split("\n"))
        if MARKER.search(line) and (growth := _growth_without(ROOT / name, index)) < LONGER_BY
    ]
    assert not needless, "remove these `# fmt: skip` markers and run `ruff format`:\n" + "\n".join(needless)
