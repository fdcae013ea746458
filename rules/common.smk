import json
import os
import re

import yaml
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
# config/cluster.yaml next to the Snakefile, unless the config names another file
with open(config.get("cluster_file") or os.path.join(workflow.basedir, "config", "cluster.yaml")) as handle:
    CLUSTER = yaml.safe_load(handle) or {}
validate(CLUSTER, schema="../config/cluster.schema.yaml")


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


def _science(spec):
    """A config entry without its SLURM request: asking for more memory must not make a checkpoint stale."""
    return canonical({key: value for key, value in spec.items() if key != "resources"})


def stage_spec(wildcards):
    return _science(config["stages"][wildcards.stage])


def model_spec(wildcards):
    return _science(config["models"][wildcards.model])


def task_spec(name):
    return canonical(config["tasks"][name])


def stage_train_data(wildcards):
    return f"results/data/{stage_spec(wildcards)['task']}/train.jsonl"


def _request(family, wildcards):
    """The SLURM request of one job of a family (train, evaluate, prepare): the family's default, overridden
    by the model's entry (a 7B run asks for more than a 0.5B one) and, for training, by the stage's."""
    request = dict(config["resources"][family])
    request.update(config["models"][wildcards.model].get("resources", {}).get(family, {}))
    if family == "train":
        request.update(config["stages"][wildcards.stage].get("resources", {}))
    return request


def job_resources(family):
    """Resources in the SLURM plugin's names (gpu, gpu_model, mem_mb, runtime, ...), resolved per job. Memory and
    runtime grow with each retry; GPU jobs go to the GPU partition of config/cluster.yaml. Local runs
    ignore all of it."""
    gpus = lambda wildcards: _request(family, wildcards)["gpu"]
    resources = {
        "gpu": gpus,
        "mem_mb": lambda wildcards, attempt: _request(family, wildcards)["mem_mb"] * attempt,
        "runtime": lambda wildcards, attempt: _request(family, wildcards)["runtime"] * attempt,
        "cpus_per_task": lambda wildcards: _request(family, wildcards)["cpus_per_task"],
        "slurm_partition": lambda wildcards: CLUSTER["gpu_partition" if gpus(wildcards) else "partition"],
    }
    if CLUSTER.get("gpu_model"):
        resources["gpu_model"] = lambda wildcards: CLUSTER["gpu_model"] if gpus(wildcards) else ""
    if CLUSTER.get("account"):
        resources["slurm_account"] = CLUSTER["account"]
    for key in ("constraint", "qos"):
        if CLUSTER.get(key):
            resources[key] = CLUSTER[key]
    return resources
