"""docs/presets.md against the presets: every row that names an option gives the value its preset file sets, and
every preset has its table."""

import re

import pytest
import yaml

from forgetlab.config import WorkflowConfig

from .conftest import ROOT

PAGE = ROOT / "docs" / "presets.md"


def _tables() -> dict[str, list[tuple[str, str]]]:
    """preset file -> (option path, preset value) of each row naming an option, from docs/presets.md."""
    tables, preset = {}, None
    for line in PAGE.read_text().splitlines():
        if match := re.match(r"## `config/(paper-[\w-]+\.yaml)`", line):
            preset = match.group(1)
            tables[preset] = []
        elif preset and line.startswith("| ") and not line.startswith("| setting"):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            option, value = cells[1], cells[3]
            if re.fullmatch(r"`[^`]+`", option):
                tables[preset].append((option.strip("`"), value))
    return tables


def _lookup(config: dict, path: str):
    """The value at a dotted path whose keys may hold dots themselves (model labels like qwen2.5-0.5b)."""
    node, rest = config, path
    while rest:
        keys = [key for key in node if rest == key or rest.startswith(f"{key}.")]
        assert keys, f"{path}: no {rest!r} in the preset"
        key = max(keys, key=len)
        node, rest = node[key], rest[len(key) + 1 :]
    return node


TABLES = _tables()


def test_every_preset_has_a_table():
    presets = sorted(path.name for path in (ROOT / "config").glob("paper-*.yaml"))
    assert sorted(TABLES) == presets and all(TABLES.values())


@pytest.mark.parametrize("preset", sorted(TABLES))
def test_each_row_gives_the_value_the_preset_sets(preset):
    raw = yaml.safe_load((ROOT / "config" / preset).read_text())
    config = WorkflowConfig.from_dict(raw).to_dict()  # with every default: a row may state one
    for option, shown in TABLES[preset]:
        value = _lookup(config, option)
        assert shown.startswith("`") and shown.endswith("`"), f"{preset} {option}: the preset cell is not a value"
        assert yaml.safe_load(shown.strip("`")) == value, f"{preset}: {option} is {value!r}, the table says {shown}"
