import json
import os
import re

from snakemake.utils import validate

from forgetlab.config import check_config, lineage_paths, lineage_stage


validate(config, schema="../config/schema.yaml")
check_config(config)

MODELS = list(config["models"])
STAGES = list(config["stages"])
TASKS = list(config["tasks"])
LINEAGES = lineage_paths(config)
EVAL_TASKS = config["evaluate"]["tasks"]
KL_TASKS = config["evaluate"]["kl"].get("tasks", EVAL_TASKS)
HARNESS_TASKS = config["evaluate"]["harness"]["tasks"]
FIGURES = ["forgetting", "training", "kl_forgetting"]


def _choice(names):
    return "|".join(map(re.escape, names))


wildcard_constraints:
    model=_choice(MODELS),
    task=_choice(TASKS),
    stage=_choice(STAGES),
    split="train|test",
    parent=f"base(?:/(?:{_choice(STAGES)}))*",
    lineage=f"base(?:/(?:{_choice(STAGES)}))*",
    benchmark=_choice(HARNESS_TASKS) or "(?!)",


def _existing(entries):
    """In figures-only mode keep the entries whose file exists, so nothing upstream is scheduled."""
    if not config["figures_only"]:
        return entries
    return [entry for entry in entries if os.path.exists(entry["path"])]


def eval_entries():
    """One dict per metrics file (generation eval of every checkpoint, KL of every trained one): the
    table's identifying columns plus its path."""
    entries = [(m, l, t, f"results/{m}/{l}/eval/{t}.json") for m in MODELS for l in LINEAGES for t in EVAL_TASKS]
    entries += [(m, l, t, f"results/{m}/{l}/kl/{t}.json") for m in MODELS for l in LINEAGES if l != "base" for t in KL_TASKS]
    entries += [(m, l, b, f"results/{m}/{l}/harness/{b}.json") for m in MODELS for l in LINEAGES for b in HARNESS_TASKS]
    return _existing(
        [{"model": m, "lineage": l, "stage": lineage_stage(l), "task": t, "path": path} for m, l, t, path in entries]
    )


def train_log_entries():
    return _existing(
        [
            {"model": m, "lineage": l, "path": f"results/{m}/{l}/train_log.jsonl"}
            for m in MODELS
            for l in LINEAGES
            if l != "base"
        ]
    )


def paths(entries):
    return [entry["path"] for entry in entries]


def figure_targets():
    return expand("results/figures/{figure}.{ext}", figure=FIGURES, ext=["png", "pdf"])


def canonical(value):
    """Key-sorted copy of a config entry: Snakemake compares params by repr, and reordering keys in a
    config file must not make targets stale."""
    return json.loads(json.dumps(value, sort_keys=True))


def stage_spec(wildcards):
    return canonical(config["stages"][wildcards.stage])


def task_spec(name):
    return canonical(config["tasks"][name])


def stage_train_data(wildcards):
    return f"results/data/{stage_spec(wildcards)['task']}/train.jsonl"
