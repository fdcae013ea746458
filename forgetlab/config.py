"""Cross-field checks of a workflow config and the lineage bookkeeping the DAG is built from.

The JSON schema (config/schema.yaml) checks keys and types; this module checks what a schema cannot:
that every name a stage, lineage, evaluation or figure refers to is defined.
"""

from __future__ import annotations

import itertools
import re

__all__ = [
    "ConfigError", "check_config", "checkpoint_steps", "expand_sweeps", "lineage_paths", "lineage_stage", "seed_group",
]  # fmt: skip

BASE = "base"
BACKENDS = ("auto", "hf", "vllm")  # generation engines (forgetlab.evaluate.engines)


class ConfigError(ValueError):
    """A config value refers to something that does not exist; the message names the field."""


def _require(name: str, defined: dict, field: str, kind: str) -> None:
    if name not in defined:
        raise ConfigError(f"{field}: {kind} {name!r} is not defined (defined {kind}s: {sorted(defined)})")


def check_config(config: dict) -> None:
    """Raise :class:`ConfigError` naming the first field that refers to an undefined model/task/stage."""
    tasks, stages = config["tasks"], config["stages"]
    for name, stage in stages.items():
        _require(stage["task"], tasks, f"stages.{name}.task", "task")
        if stage["method"] == "sft" and "rewards" in stage:
            raise ConfigError(f"stages.{name}.rewards: only GRPO stages take rewards")
    for i, lineage in enumerate(config["lineages"]):
        for j, stage in enumerate(lineage):
            _require(stage, stages, f"lineages[{i}][{j}]", "stage")
    for i, task in enumerate(config["evaluate"]["tasks"]):
        _require(task, tasks, f"evaluate.tasks[{i}]", "task")
    for i, task in enumerate(config["evaluate"].get("kl", {}).get("tasks", [])):
        _require(task, tasks, f"evaluate.kl.tasks[{i}]", "task")
    for key in ("new_task", "prior_task"):
        if key in config.get("figures", {}):
            _require(config["figures"][key], tasks, f"figures.{key}", "task")


def lineage_paths(config: dict) -> list[str]:
    """Every checkpoint the config implies, as 'base', 'base/s1', 'base/s1/s2', ... (prefixes included)."""
    paths = [BASE]
    for lineage in config["lineages"]:
        for depth in range(1, len(lineage) + 1):
            path = "/".join([BASE, *lineage[:depth]])
            if path not in paths:
                paths.append(path)
    return paths


def lineage_stage(lineage: str) -> str:
    """The last stage of a lineage path ('base' for the base model)."""
    return lineage.rsplit("/", 1)[-1]


def checkpoint_steps(stage: dict) -> list[int]:
    """Steps whose weights a stage keeps besides its final model: every ``save_every`` steps before the last."""
    every = stage.get("save_every") or 0
    return list(range(every, stage["steps"], every)) if every else []


def _value_label(value) -> str:
    """1e-05 -> '1e-5', 0.0001 -> '1e-4', 3 -> '3': short, path-safe labels for swept values."""
    if isinstance(value, str):
        value = float(value)  # YAML reads 1e-5 as a string
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return re.sub(r"e([-+])0*(\d)", lambda m: f"e{'-' if m.group(1) == '-' else ''}{m.group(2)}", text)


def _variants(name: str, stage: dict, shared: dict) -> list[tuple[str, dict, object]]:
    """(label, spec, swept seed or None) of every variant of a stage: the product of its own sweep and the
    config-wide one; the seed goes last in the label, e.g. grpo-countdown-lr1e-5-s0."""
    grid = {**shared, **stage.get("sweep", {})}
    spec = {key: value for key, value in stage.items() if key != "sweep"}
    keys = sorted(key for key in grid if key != "seed") + (["seed"] if "seed" in grid else [])
    variants = []
    for values in itertools.product(*(grid[key] for key in keys)):
        setting = dict(zip(keys, values))
        parts = [f"{key.replace('_', '')}{_value_label(value)}" for key, value in setting.items() if key != "seed"]
        if "seed" in setting:
            parts.append(f"s{setting['seed']}")
        variants.append(("-".join([name, *parts]), {**spec, **setting}, setting.get("seed")))
    return variants


def expand_sweeps(config: dict) -> dict:
    """The config with every swept stage replaced by its variants and every lineage by its variant chains.

    ``sweep:`` at the top level applies to every stage, ``stages.<name>.sweep`` to one; each maps an option
    to the list of values to try. Variants of different stages in a lineage combine as a product, except
    seeds: a seed-s child trains from the seed-s parent, so three seeds give three chains, not nine.
    ``seed_groups`` maps each stage label to its label without the seed part, for intervals over seeds.
    """
    shared = config.get("sweep") or {}
    if not shared and not any("sweep" in stage for stage in config["stages"].values()):
        return config
    variants = {name: _variants(name, stage, shared) for name, stage in config["stages"].items()}
    lineages = []
    for lineage in config["lineages"]:
        for chain in itertools.product(*(variants[name] for name in lineage)):
            if len({seed for _, _, seed in chain if seed is not None}) <= 1:
                lineages.append([label for label, _, _ in chain])
    stages = {label: spec for name in config["stages"] for label, spec, _ in variants[name]}
    groups = {label: label.rsplit("-s", 1)[0] if seed is not None else label for name in variants for label, _, seed in variants[name]}
    return {**config, "stages": stages, "lineages": lineages, "sweep": {}, "seed_groups": groups}


def seed_group(lineage: str, groups: dict[str, str]) -> str:
    """A lineage path with every stage label reduced to its seed group ('base/sft-s1' -> 'base/sft')."""
    return "/".join(groups.get(part, part) for part in lineage.split("/"))
