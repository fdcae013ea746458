"""Lineages and sweeps: the structure the DAG is built from (which checkpoints exist, which stage made each).

A lineage is 'base' followed by stage labels ('base/sft-countdown/grpo-countdown'); every prefix of a
configured lineage is a checkpoint too. A recovery lineage trains its last stage from a kept step of the stage
before it: 'base/sft-countdown/steps/10/grpo-countdown'.
"""

from __future__ import annotations

import itertools
import re

__all__ = [
    "BASE",
    "branch_points",
    "checkpoint_lineage",
    "checkpoint_steps",
    "expand_sweeps",
    "lineage_method",
    "lineage_paths",
    "lineage_stage",
    "lineage_stages",
    "recovery_paths",
    "seed_group",
    "split_checkpoint",
    "variant_label",
]

BASE = "base"
_STEP = re.compile(r"/steps/(\d+)")


def lineage_paths(lineages: list[list[str]], recovery_steps: list[int] = ()) -> list[str]:
    """Every trained lineage the config implies, as 'base', 'base/s1', 'base/s1/s2', ... (prefixes included,
    once), then the recovery lineages of ``recovery_steps`` (:func:`recovery_paths`)."""
    paths = [BASE]
    for lineage in lineages:
        for depth in range(1, len(lineage) + 1):
            path = "/".join([BASE, *lineage[:depth]])
            if path not in paths:
                paths.append(path)
    return paths + [path for path in recovery_paths(lineages, recovery_steps) if path not in paths]


def recovery_paths(lineages: list[list[str]], steps: list[int]) -> list[str]:
    """For each lineage of two or more stages and each of ``steps``: its last stage trained from that kept step
    of the stage before it ('base/sft/steps/10/grpo'), so RL's effect can be read against how far SFT went."""
    return [
        "/".join([BASE, *lineage[:-1], "steps", str(step), lineage[-1]])
        for lineage in lineages
        if len(lineage) > 1
        for step in steps
    ]


def split_checkpoint(checkpoint: str) -> tuple[str, int | None]:
    """(lineage, kept step or None for its final model) of a checkpoint path: 'base/sft/steps/40' ->
    ('base/sft', 40); 'base/sft/steps/10/grpo' -> ('base/sft/steps/10/grpo', None)."""
    match = re.fullmatch(r"(.*?)/steps/(\d+)", checkpoint)
    return (match.group(1), int(match.group(2))) if match else (checkpoint, None)


def lineage_stages(lineage: str) -> list[str]:
    """The stage labels of a lineage in training order (the kept steps recovery branches from left out)."""
    return _STEP.sub("", lineage).split("/")[1:]


def branch_points(lineage: str) -> list[tuple[str, int | None]]:
    """(ancestor lineage, step its child starts from or None for the final model) from the base down to the
    lineage itself: 'base/sft/steps/10/grpo' -> [('base', None), ('base/sft', 10), ('base/sft/steps/10/grpo',
    None)]."""
    parts, points = lineage.split("/"), []
    for depth, part in enumerate(parts):
        if part == "steps" or (depth and parts[depth - 1] == "steps"):
            continue
        step = parts[depth + 2] if depth + 2 < len(parts) and parts[depth + 1] == "steps" else None
        points.append(("/".join(parts[: depth + 1]), int(step) if step else None))
    return points


def lineage_stage(lineage: str) -> str:
    """The last stage of a lineage path ('base' for the base model)."""
    return lineage.rsplit("/", 1)[-1]


def lineage_method(lineage: str, stages: dict[str, dict]) -> str:
    """How a lineage was trained: its stages' methods in order ('sft', 'grpo', 'sft+grpo' for RL after SFT;
    'base' for the base model). Sweeps of one method share it, so figures colour and fit per method."""
    methods = [stages[stage]["method"] for stage in lineage_stages(lineage)]
    return "+".join(methods) or BASE


def checkpoint_lineage(checkpoint: str) -> str:
    """The lineage a checkpoint path belongs to: 'base/sft/steps/40' -> 'base/sft'."""
    return split_checkpoint(checkpoint)[0]


def checkpoint_steps(steps: int, every: int) -> list[int]:
    """Steps whose weights a stage of ``steps`` steps keeps besides its final model: every ``every`` steps."""
    return list(range(every, steps, every)) if every else []


def _value_label(value) -> str:
    """1e-05 -> '1e-5', 0.0001 -> '1e-4', 3 -> '3': short, path-safe labels for swept values."""
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return re.sub(r"e([-+])0*(\d)", lambda m: f"e{'-' if m.group(1) == '-' else ''}{m.group(2)}", text)


def variant_label(name: str, setting: dict) -> str:
    """The label of one swept variant: the options in name order, the seed last (grpo-countdown-lr1e-5-s0;
    a nested option replay.ratio reads replayratio0.25)."""
    swept = sorted((key, value) for key, value in setting.items() if key != "seed")
    parts = [f"{re.sub('[_.]', '', key)}{_value_label(value)}" for key, value in swept]
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
        variants.append((variant_label(name, setting), _with_setting(spec, setting), setting.get("seed")))
    return variants


def _with_setting(spec: dict, setting: dict) -> dict:
    """``spec`` with the swept values set; a dotted key (replay.ratio) sets an option of a nested section."""
    spec = dict(spec)
    for key, value in setting.items():
        head, _, rest = key.partition(".")
        spec[head] = {**(spec.get(head) or {}), rest: value} if rest else value
    return spec


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
