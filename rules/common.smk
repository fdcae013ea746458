import json
import os
import re

import yaml
from snakemake.utils import validate

from forgetlab.config import check_config, checkpoint_steps, expand_sweeps, lineage_paths, lineage_stage


validate(config, schema="../config/schema.yaml")
check_config(config)
# Sweeps become stage variants and lineage chains; validating again checks every swept value.
config.update(expand_sweeps(config))
SEED_GROUPS = config.pop("seed_groups", {})
validate(config, schema="../config/schema.yaml")

MODELS = list(config["models"])
STAGES = list(config["stages"])
TASKS = list(config["tasks"])
LINEAGES = lineage_paths(config)
EVAL_TASKS = config["evaluate"]["tasks"]
KL_TASKS = config["evaluate"]["kl"].get("tasks", EVAL_TASKS)
HARNESS_TASKS = config["evaluate"]["harness"]["tasks"]
EVALSCOPE_TASKS = config["evaluate"]["evalscope"]["tasks"]
EVAL_FORMATS = config["evaluate"]["formats"]
FIGURES = ["forgetting", "training", "kl_forgetting", "curves"]
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
    checkpoint=f"base(?:/(?:{_choice(STAGES)}))*(?:/steps/[0-9]+)?",
    step="[0-9]+",
    evaluation=f"(?:{_choice(EVAL_TASKS)})(?:\\.(?:{_choice(EVAL_FORMATS) or '(?!)'}))?",
    benchmark=_choice(HARNESS_TASKS + EVALSCOPE_TASKS) or "(?!)",


def _existing(entries):
    """In figures-only mode keep the entries whose file exists, so nothing upstream is scheduled."""
    if not config["figures_only"]:
        return entries
    return [entry for entry in entries if os.path.exists(entry["path"])]


def _evaluation_names(lineage):
    """(folder, name, task, format) of every metrics file of one checkpoint."""
    names = [("eval", task, task, None) for task in EVAL_TASKS]
    names += [("eval", f"{task}.{style}", task, style) for task in EVAL_TASKS for style in EVAL_FORMATS]
    if lineage != "base":
        names += [("kl", task, task, None) for task in KL_TASKS]
    names += [("harness", benchmark, benchmark, None) for benchmark in HARNESS_TASKS]
    return names + [("evalscope", benchmark, benchmark, None) for benchmark in EVALSCOPE_TASKS]


def checkpoints():
    """(model, lineage, step, folder) of every checkpoint: the base, each stage's intermediate steps (when
    it keeps them) and its final model."""
    for model in MODELS:
        for lineage in LINEAGES:
            if lineage == "base":
                yield model, lineage, 0, f"results/{model}/base"
                continue
            spec = resolved_stage(lineage_stage(lineage))
            for step in checkpoint_steps(spec):
                yield model, lineage, step, f"results/{model}/{lineage}/steps/{step}"
            yield model, lineage, spec["steps"], f"results/{model}/{lineage}"


def eval_entries():
    """One dict per metrics file (generation evals, KL of trained checkpoints, lm-eval benchmarks): the
    table's identifying columns plus its path."""
    entries = [
        {"model": model, "lineage": lineage, "stage": lineage_stage(lineage), "step": step, "task": task,
         "format": style, "seed": resolved_stage(lineage_stage(lineage)).get("seed") if lineage != "base" else None,
         "path": f"{folder}/{kind}/{name}.json"}
        for model, lineage, step, folder in checkpoints()
        for kind, name, task, style in _evaluation_names(lineage)
    ]  # fmt: skip
    return _existing(entries)


def lineage_tasks():
    """Lineage -> the tasks its stages trained on (the others are prior tasks for it)."""
    return {lineage: [config["stages"][stage]["task"] for stage in lineage.split("/")[1:]] for lineage in LINEAGES}


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


def resolved_stage(name):
    """A stage's config as its training job sees it (evaluate.every_steps fills a missing save_every)."""
    spec = _science(config["stages"][name])
    if "save_every" not in spec and config["evaluate"].get("every_steps"):
        spec["save_every"] = config["evaluate"]["every_steps"]
    return spec


def stage_spec(wildcards):
    return resolved_stage(wildcards.stage)


def model_spec(wildcards):
    return _science(config["models"][wildcards.model])


def task_spec(name):
    return canonical(config["tasks"][name])


def evaluation_task(wildcards):
    name = wildcards.evaluation
    return name if name in TASKS else name.rsplit(".", 1)[0]


def evaluation_format(wildcards):
    task = evaluation_task(wildcards)
    return wildcards.evaluation[len(task) + 1 :] or None


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
