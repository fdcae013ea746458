"""Cross-field checks of a workflow config and the lineage bookkeeping the DAG is built from.

The JSON schema (config/schema.yaml) checks keys and types; this module checks what a schema cannot:
that every name a stage, lineage, evaluation or figure refers to is defined.
"""

from __future__ import annotations

__all__ = ["ConfigError", "check_config", "lineage_paths", "lineage_stage"]

BASE = "base"


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
