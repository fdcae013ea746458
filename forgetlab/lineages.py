"""Lineages and sweeps: the structure the DAG is built from (which checkpoints exist, which stage made each).

A lineage is 'base' followed by stage labels ('base/sft-countdown/grpo-countdown'); every prefix of a
configured lineage is a checkpoint too.
"""

from __future__ import annotations

import itertools
import re

__all__ = [
    "BASE",
    "checkpoint_lineage",
    "checkpoint_steps",
    "expand_sweeps",
    "lineage_method",
    "lineage_paths",
    "lineage_stage",
    "seed_group",
    "variant_label",
]

BASE = "base"


def lineage_paths(lineages: list[list[str]]) -> list[str]:
    """Every checkpoint the lineages imply, as 'base', 'base/s1', 'base/s1/s2', ... (prefixes included, once)."""
    paths = [BASE]
    for lineage in lineages:
        for depth in range(1, len(lineage) + 1):
            path = "/".join([BASE, *lineage[:depth]])
            if path not in paths:
                paths.append(path)
    return paths


def lineage_stage(lineage: str) -> str:
    """The last stage of a lineage path ('base' for the base model)."""
    return lineage.rsplit("/", 1)[-1]


def lineage_method(lineage: str, stages: dict[str, dict]) -> str:
    """How a lineage was trained: its stages' methods in order ('sft', 'grpo', 'sft+grpo' for RL after SFT;
    'base' for the base model). Sweeps of one method share it, so figures colour and fit per method."""
    methods = [stages[stage]["method"] for stage in lineage.split("/")[1:]]
    return "+".join(methods) or BASE


def checkpoint_lineage(checkpoint: str) -> str:
    """The lineage a checkpoint path belongs to: 'base/sft/steps/40' -> 'base/sft'."""
    return checkpoint.split("/steps/")[0]


def checkpoint_steps(steps: int, every: int) -> list[int]:
    """Steps whose weights a stage of ``steps`` steps keeps besides its final model: every ``every`` steps."""
    return list(range(every, steps, every)) if every else []


def _value_label(value) -> str:
    """1e-05 -> '1e-5', 0.0001 -> '1e-4', 3 -> '3': short, path-safe labels for swept values."""
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return re.sub(r"e([-+])0*(\d)", lambda m: f"e{'-' if m.group(1) == '-' else ''}{m.group(2)}", text)


def variant_label(name: str, setting: dict) -> str:
    """The label of one swept variant: the options in name order, the seed last (grpo-countdown-lr1e-5-s0)."""
    parts = [f"{key.replace('_', '')}{_value_label(value)}" for key, value in sorted(setting.items()) if key != "seed"]
    if "seed" in setting:
        parts.append(f"s{setting['seed']}")
    return "-".join([name, *parts])


def _variants(name: str, stage: dict) -> list[tuple[str, dict, object]]:
    """(label, spec, swept seed or None) of every combination of the stage's ``sweep`` grid."""
    grid = stage.get("sweep") or {}
    spec = {key: value for key, value in stage.items() if key != "sweep"}
    keys = sorted(grid)
    variants = []
    for values in itertools.product(*(grid[key] for key in keys)):
        setting = dict(zip(keys, values))
        variants.append((variant_label(name, setting), {**spec, **setting}, setting.get("seed")))
    return variants


def expand_sweeps(stages: dict[str, dict], lineages: list[list[str]]) -> tuple[dict, list, dict]:
    """(stages, lineages, seed groups) with every swept stage replaced by its variants.

    Each stage's ``sweep`` maps an option to the values to try. Variants of different stages in a lineage
    combine as a product, except seeds: a seed-s child trains from the seed-s parent, so three seeds give three
    chains, not nine. The seed groups map each stage label to its label without the seed part, for intervals
    over seeds.
    """
    variants = {name: _variants(name, stage) for name, stage in stages.items()}
    chains = []
    for lineage in lineages:
        for chain in itertools.product(*(variants[name] for name in lineage)):
            if len({seed for _, _, seed in chain if seed is not None}) <= 1:
                chains.append([label for label, _, _ in chain])
    expanded = {label: spec for name in stages for label, spec, _ in variants[name]}
    groups = {
        label: label.rsplit("-s", 1)[0] if seed is not None else label
        for name in variants
        for label, _, seed in variants[name]
    }
    return expanded, chains, groups


def seed_group(lineage: str, groups: dict[str, str]) -> str:
    """A lineage path with every stage label reduced to its seed group ('base/sft-s1' -> 'base/sft')."""
    return "/".join(groups.get(part, part) for part in lineage.split("/"))
