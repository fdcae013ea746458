import os
import re

import yaml
from snakemake.utils import validate

from forgetlab.analysis.plan import (
    analysed_checkpoints,
    analysis_task,
    reference_of,
    restore_labels,
    restore_variants,
    restored_lineages,
)
from forgetlab.compat.snakemake import local_cores
from forgetlab.config import resolve_config
from forgetlab.lineages import (
    BASE, checkpoint_lineage, checkpoint_steps, lineage_method, lineage_paths, lineage_stage, lineage_stages,
    seed_group,
)  # fmt: skip
from forgetlab.report import FIGURE_FORMATS, FIGURES as FIGURE_KINDS, active_figures
from forgetlab.resources import job_request
from forgetlab.tasks import SPLITS

# The whole config is checked before anything runs (every option of every task kind and training method, every
# name a section refers to), with every default filled in and every sweep expanded into stage variants.
_resolved, SEED_GROUPS = resolve_config(config)
config.clear()
config.update(_resolved)

MODELS = list(config["models"])
STAGES = list(config["stages"])
TASKS = list(config["tasks"])
LINEAGES = lineage_paths(config["lineages"], config["recovery"]["from_steps"])
EVAL_TASKS = config["evaluate"]["tasks"]
KL_TASKS = config["evaluate"]["kl"]["tasks"]
KL_DIRECTIONS = ["", ".reverse"] if config["evaluate"]["kl"]["reverse"] else [""]
HARNESS_TASKS = config["evaluate"]["harness"]["tasks"]
EVALSCOPE_TASKS = config["evaluate"]["evalscope"]["tasks"]
EVAL_FORMATS = config["evaluate"]["formats"]
ANALYSIS = config["analysis"]
ANALYSES = [name for name in ANALYSIS["run"] if name != "restore"]
RESTORES = restore_variants(ANALYSIS["restore"]) if "restore" in ANALYSIS["run"] else {}
RESTORE_LABELS = restore_labels(ANALYSIS["restore"]) if RESTORES else []
RESTORED_LINEAGES = restored_lineages(config, LINEAGES) if RESTORES else []
FIGURES = active_figures(ANALYSIS["run"])
# config/cluster.yaml next to the Snakefile, unless the config names another file
with open(config["cluster_file"] or os.path.join(workflow.basedir, "config", "cluster.yaml")) as handle:
    CLUSTER = yaml.safe_load(handle) or {}
validate(CLUSTER, schema="../config/cluster.schema.yaml")


def _choice(names):
    return "|".join(map(re.escape, names))


# a lineage: stages from the base, a recovery stage branching from a kept step (base/sft/steps/10/grpo)
_LINEAGE = f"base(?:/(?:{_choice(STAGES)})(?:/steps/[0-9]+/(?:{_choice(STAGES)}))*)*"


wildcard_constraints:
    model=_choice(MODELS),
    task=_choice(TASKS),
    stage=_choice(STAGES),
    split=_choice(SPLITS),
    parent=f"{_LINEAGE}(?:/steps/[0-9]+)?",
    lineage=_LINEAGE,
    checkpoint=f"{_LINEAGE}(?:/steps/[0-9]+)?(?:/restored/(?:{_choice(RESTORE_LABELS) or '(?!)'}))?",
    step="[0-9]+",
    evaluation=f"(?:{_choice(EVAL_TASKS)})(?:\\.(?:{_choice(EVAL_FORMATS) or '(?!)'}))?",
    divergence=f"(?:{_choice(TASKS)})(?:\\.reverse)?",
    benchmark=_choice(HARNESS_TASKS + EVALSCOPE_TASKS) or "(?!)",
    analysis=_choice(ANALYSES) or "(?!)",
    restore=_choice(RESTORES) or "(?!)",


def _existing(entries):
    """In figures-only mode keep the entries whose file exists, and their per-item samples only where those
    exist (else the deltas' intervals are unpaired), so nothing upstream is scheduled."""
    if not config["figures_only"]:
        return entries
    return [
        {**entry, "items": entry["items"] if entry.get("items") and os.path.exists(entry["items"]) else None}
        for entry in entries
        if os.path.exists(entry["path"])
    ]


def _evaluation_names(lineage, variant=None):
    """(folder, name, task, format) of every metrics file of one checkpoint."""
    names = [("eval", task, task, None) for task in EVAL_TASKS]
    names += [("eval", f"{task}.{style}", task, style) for task in EVAL_TASKS for style in EVAL_FORMATS]
    if lineage != BASE and (variant is None or ANALYSIS["restore"]["kl"]):
        names += [("kl", f"{task}{direction}", task, None) for task in KL_TASKS for direction in KL_DIRECTIONS]
    names += [("harness", benchmark, benchmark, None) for benchmark in HARNESS_TASKS]
    return names + [("evalscope", benchmark, benchmark, None) for benchmark in EVALSCOPE_TASKS]


def checkpoints():
    """(model, lineage, step, folder, variant) of every checkpoint that is evaluated: the base, each stage's
    intermediate steps (when it keeps them) and its final model, and the restore experiments made of it."""
    for model in MODELS:
        for lineage in LINEAGES:
            if lineage == BASE:
                yield model, lineage, 0, f"results/{model}/{BASE}", None
                continue
            spec = config["stages"][lineage_stage(lineage)]
            for step in checkpoint_steps(spec["steps"], spec["save_every"]):
                yield model, lineage, step, f"results/{model}/{lineage}/steps/{step}", None
            yield model, lineage, spec["steps"], f"results/{model}/{lineage}", None
            if lineage in RESTORED_LINEAGES:
                for label in RESTORE_LABELS:
                    yield model, lineage, spec[
                        "steps"
                    ], f"results/{model}/{lineage}/restored/{label}", f"restored/{label}"


def _seed(lineage):
    return None if lineage == BASE else config["stages"][lineage_stage(lineage)]["seed"]


def analysis_inputs(wildcards):
    """The checkpoint, its reference and, for the analyses that read a task, the checkpoint's own evaluation
    samples of that task (which items it still answers right)."""
    reference = reference_of(wildcards.checkpoint, ANALYSIS["reference"])
    inputs = {
        "reference": f"results/{wildcards.model}/{reference}/model",
        "model": f"results/{wildcards.model}/{wildcards.checkpoint}/model",
    }
    task = analysis_task(config, wildcards.analysis)
    if task:
        inputs["samples"] = f"results/{wildcards.model}/{wildcards.checkpoint}/eval/{task}.samples.jsonl"
    return inputs


def analysis_entries(names=None):
    """One dict per analysis result (analysis/<name>.json of every analysed checkpoint)."""
    return _existing(
        [
            {"model": model, "lineage": checkpoint_lineage(path), "stage": lineage_stage(checkpoint_lineage(path)),
             "method": lineage_method(checkpoint_lineage(path), config["stages"]),
             "step": step, "task": analysis_task(config, name) or "weights", "format": None,
             "seed": _seed(checkpoint_lineage(path)), "variant": None, "analysis": name, "checkpoint": path,
             "path": f"results/{model}/{path}/analysis/{name}.json"}
            for model in MODELS
            for path, step in analysed_checkpoints(config, LINEAGES)
            for name in names or ANALYSES
        ]
    )  # fmt: skip


def eval_entries():
    """One dict per metrics file (generation evals, KL of trained checkpoints, lm-eval benchmarks, analysis
    summaries): the table's identifying columns plus its path."""
    entries = [
        {"model": model, "lineage": lineage, "stage": lineage_stage(lineage),
         "method": lineage_method(lineage, config["stages"]), "step": step, "task": task,
         "format": style, "seed": _seed(lineage), "variant": variant, "path": f"{folder}/{kind}/{name}.json",
         "items": f"{folder}/{kind}/{name}.samples.jsonl" if kind == "eval" else None}
        for model, lineage, step, folder, variant in checkpoints()
        for kind, name, task, style in _evaluation_names(lineage, variant)
    ]  # fmt: skip
    return _existing(entries) + analysis_entries()


def restore_references():
    """Lineage -> the checkpoint its restore experiments take weights from (recovery is measured against it)."""
    return {lineage: reference_of(lineage, ANALYSIS["reference"]) for lineage in RESTORED_LINEAGES}


def lineage_tasks():
    """Lineage -> the tasks its stages trained on (the others are prior tasks for it)."""
    return {lineage: [config["stages"][stage]["task"] for stage in lineage_stages(lineage)] for lineage in LINEAGES}


def train_log_entries():
    return _existing(
        [
            {"model": m, "lineage": l, "group": seed_group(l, SEED_GROUPS), "path": f"results/{m}/{l}/train_log.jsonl"}
            for m in MODELS
            for l in LINEAGES
            if l != BASE
        ]
    )


def paths(entries):
    return [entry["path"] for entry in entries]


def item_paths(entries):
    """The per-item samples of the entries that have them (paired intervals of the deltas)."""
    return [entry["items"] for entry in entries if entry.get("items")]


def figure_targets():
    return expand("results/figures/{figure}.{ext}", figure=FIGURES, ext=FIGURE_FORMATS)


def figure_outputs(name):
    """A figure's files, the PNG in the report with its caption (report/<name>.rst) under its category."""
    paths = {ext: f"results/figures/{name}.{ext}" for ext in FIGURE_FORMATS}
    paths["png"] = report(paths["png"], caption=f"../report/{name}.rst", category=FIGURE_KINDS[name].category)
    return list(paths.values())


def checkpoint_models():
    """Checkpoint name (its path under results/) -> its model folder, for every evaluated checkpoint."""
    return {folder.removeprefix("results/"): f"{folder}/model" for _, _, _, folder, _ in checkpoints()}


def _science(spec):
    """A resolved config entry without its SLURM request: asking for more memory must not make a checkpoint
    stale."""
    return {key: value for key, value in spec.items() if key != "resources"}


def stage_spec(wildcards):
    return _science(config["stages"][wildcards.stage])


def model_spec(wildcards):
    return _science(config["models"][wildcards.model])


def task_spec(name):
    return config["tasks"][name]


def evaluation_task(wildcards):
    name = wildcards.evaluation
    return name if name in TASKS else name.rsplit(".", 1)[0]


def divergence_task(wildcards):
    """The task of kl/<task>.json (forward KL) or kl/<task>.reverse.json."""
    return wildcards.divergence.removesuffix(".reverse")


# how KL completions are sampled (the base's for forward KL, the checkpoint's for reverse KL)
KL_SAMPLING = dict(
    n=config["evaluate"]["kl"]["n"],
    max_new_tokens=config["evaluate"]["kl"]["max_new_tokens"],
    seed=config["evaluate"]["kl"]["seed"],
    style=config["evaluate"]["format"],
    chat=config["evaluate"]["chat"],
    device=config["device"],
)


def kl_inputs(wildcards):
    """Both models, the task's test records and, for forward KL, the base's samples of the task."""
    task = divergence_task(wildcards)
    inputs = {
        "base": f"results/{wildcards.model}/base/model",
        "model": f"results/{wildcards.model}/{wildcards.checkpoint}/model",
        "data": f"results/data/{task}/test.jsonl",
    }
    if not wildcards.divergence.endswith(".reverse"):
        inputs["samples"] = f"results/{wildcards.model}/base/kl_samples/{task}.pt"
    return inputs


def evaluation_format(wildcards):
    task = evaluation_task(wildcards)
    return wildcards.evaluation[len(task) + 1 :] or None


def stage_train_data(wildcards):
    return f"results/data/{stage_spec(wildcards)['task']}/train.jsonl"


def _replayed(wildcards):
    return (stage_spec(wildcards)["replay"] or {}).get("task")


def stage_replay_data(wildcards):
    """The training records of the task a stage replays (none without replay)."""
    return [f"results/data/{_replayed(wildcards)}/train.jsonl"] if _replayed(wildcards) else []


def replay_task_spec(wildcards):
    return task_spec(_replayed(wildcards)) if _replayed(wildcards) else None


def _request(family, wildcards):
    """The SLURM request of one job of a family (train, evaluate, prepare): the family's default, overridden
    by the model's entry (a 7B run asks for more than a 0.5B one) and, for training, by the stage's."""
    overrides = [(config["models"][wildcards.model]["resources"] or {}).get(family)]
    if family == "train":
        overrides.append(config["stages"][wildcards.stage]["resources"])
    return job_request(family, config["resources"], *overrides)


def train_threads(wildcards):
    """Half the cores of a local run: the DAG's parallel training branches (SFT beside RL from the base, the
    recovery stages beside each other) then train side by side, which on 2 cores did 15% more SFT steps per
    second than one 2-thread job after the other. A cluster job gets the cores it requests."""
    cores = local_cores(workflow)
    if cores:
        return max(1, cores // 2)
    return _request("train", wildcards)["cpus_per_task"]


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
