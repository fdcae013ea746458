"""The workflow's targets: which checkpoints, metrics, logs and figures a resolved config implies, and where each
file lives (the target scheme: ``results/{model}/<lineage>/...``, relative to the workflow's directory).

Plain functions of the config :func:`forgetlab.config.resolve_config` returns, so the DAG's shape is tested without
Snakemake; rules/common.smk passes them the values of a job's wildcards.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

from .analysis import plan
from .analysis.registry import ANALYSES
from .lineages import (
    BASE,
    checkpoint_lineage,
    checkpoint_steps,
    lineage_method,
    lineage_paths,
    lineage_stage,
    lineage_stages,
    seed_group,
    split_checkpoint,
)
from .report import FIGURE_FORMATS, active_figures
from .tasks import SPLITS

__all__ = [
    "RESULTS",
    "Checkpoint",
    "analyses_of",
    "analysis_entries",
    "analysis_inputs",
    "analysis_tables",
    "checkpoint_dir",
    "checkpoint_models",
    "data_path",
    "divergence_task",
    "eval_entries",
    "evaluated_checkpoints",
    "evaluation_format",
    "evaluation_names",
    "evaluation_task",
    "existing",
    "figure_paths",
    "figure_targets",
    "figures_of",
    "item_paths",
    "kl_inputs",
    "kl_samples_path",
    "kl_sampling",
    "lineage_seed",
    "lineage_tasks",
    "lineages_of",
    "model_dir",
    "paths",
    "realign_data_path",
    "realign_inputs",
    "realign_references",
    "realign_task_of",
    "realigned_of",
    "replay_data",
    "replay_task",
    "restore_labels_of",
    "restore_references",
    "restored_lineages_of",
    "restores_of",
    "science",
    "stage_data",
    "train_log_entries",
    "wildcard_patterns",
]

RESULTS = "results"
REVERSE = ".reverse"  # kl/<task>.reverse.json: KL(checkpoint || base)


# -- where each file lives --


def checkpoint_dir(model: str, checkpoint: str) -> str:
    """A checkpoint's folder: results/{model}/<lineage>[/steps/{step}][/restored/{label}]."""
    return f"{RESULTS}/{model}/{checkpoint}"


def model_dir(model: str, checkpoint: str) -> str:
    """A checkpoint's HF folder (a sub-folder: Snakemake forbids outputs inside another rule's directory output)."""
    return f"{checkpoint_dir(model, checkpoint)}/model"


def data_path(task: str, split: str) -> str:
    return f"{RESULTS}/data/{task}/{split}.jsonl"


def kl_samples_path(model: str, task: str) -> str:
    return f"{checkpoint_dir(model, BASE)}/kl_samples/{task}.pt"


def figure_paths(name: str) -> dict[str, str]:
    """Format -> file of one figure."""
    return {ext: f"{RESULTS}/figures/{name}.{ext}" for ext in FIGURE_FORMATS}


# -- what a config runs --


def lineages_of(config: dict) -> list[str]:
    """Every lineage path: the base, each configured lineage and its prefixes, the recovery lineages."""
    return lineage_paths(config["lineages"], config["recovery"]["from_steps"])


def analyses_of(config: dict) -> list[str]:
    """The analyses that write analysis/<name>.json (restore and realign write checkpoints instead)."""
    return [name for name in config["analysis"]["run"] if name in ANALYSES]


def restores_of(config: dict) -> dict[str, dict]:
    """label -> restore variant, when the analysis runs restore experiments."""
    analysis = config["analysis"]
    return plan.restore_variants(analysis["restore"]) if "restore" in analysis["run"] else {}


def restore_labels_of(config: dict) -> list[str]:
    """Every restored checkpoint's label (random controls included)."""
    return plan.restore_labels(config["analysis"]["restore"]) if restores_of(config) else []


def realign_task_of(config: dict) -> str | None:
    """The prior task the re-alignment test re-aligns to, when it runs."""
    return plan.analysis_task(config, "realign") if "realign" in config["analysis"]["run"] else None


def realigned_of(config: dict) -> list[str]:
    """The checkpoints the re-alignment test trains from (their references, the control, last)."""
    return plan.realigned_checkpoints(config, lineages_of(config))


def realign_data_path(model: str, reference: str, task: str) -> str:
    """The re-alignment examples a reference provides (its own correct completions, or the task's answers)."""
    return f"{checkpoint_dir(model, reference)}/realign/{task}.jsonl"


def realign_inputs(config: dict, model: str, parent: str, task: str) -> dict[str, str]:
    """A re-alignment job's inputs: the checkpoint, and the examples of its reference (the reference itself: the
    control)."""
    references = {plan.reference_of(path, config["analysis"]["reference"]) for path in realigned_of(config)}
    reference = parent if parent in references else plan.reference_of(parent, config["analysis"]["reference"])
    return {"model": model_dir(model, parent), "data": realign_data_path(model, reference, task)}


def realign_references(config: dict) -> dict[str, str]:
    """Realigned checkpoint -> the checkpoint its realignment is measured against (for the control: itself)."""
    reference = config["analysis"]["reference"]
    return {path: plan.reference_of(path, reference) if path != BASE else BASE for path in realigned_of(config)}


def restored_lineages_of(config: dict) -> list[str]:
    return plan.restored_lineages(config, lineages_of(config)) if restores_of(config) else []


def figures_of(config: dict) -> list[str]:
    return active_figures(config["analysis"]["run"])


def _choice(names) -> str:
    return "|".join(map(re.escape, names))


# a wildcard with no value in this config matches nothing, rather than anything
_NOTHING = "(?!)"


def wildcard_patterns(config: dict) -> dict[str, str]:
    """Each wildcard's regex, built from the config's labels, so no two rules match one file."""
    stages, evaluate = _choice(config["stages"]), config["evaluate"]
    # stages from the base; a recovery stage branches from a kept step (base/sft/steps/10/grpo)
    lineage = f"base(?:/(?:{stages})(?:/steps/[0-9]+/(?:{stages}))*)*"
    benchmarks = evaluate["harness"]["tasks"] + evaluate["evalscope"]["tasks"]
    return {
        "model": _choice(config["models"]),
        "task": _choice(config["tasks"]),
        "stage": stages,
        "split": _choice(SPLITS),
        "parent": f"{lineage}(?:/steps/[0-9]+)?",
        "lineage": lineage,
        "checkpoint": f"{lineage}(?:/steps/[0-9]+)?(?:/restored/(?:{_choice(restore_labels_of(config)) or _NOTHING})"
        f"|/realigned/(?:{re.escape(realign_task_of(config) or '') or _NOTHING}))?",
        "step": "[0-9]+",
        "evaluation": f"(?:{_choice(evaluate['tasks'])})(?:\\.(?:{_choice(evaluate['formats']) or _NOTHING}))?",
        "divergence": f"(?:{_choice(config['tasks'])})(?:\\.reverse)?",
        "benchmark": _choice(benchmarks) or _NOTHING,
        "analysis": _choice(analyses_of(config)) or _NOTHING,
        "restore": _choice(restores_of(config)) or _NOTHING,
    }


class Checkpoint(NamedTuple):
    """An evaluated checkpoint: its model, lineage, step counted in its last stage, folder, and restore variant
    (``restored/<label>``, else None)."""

    model: str
    lineage: str
    step: int
    folder: str
    variant: str | None = None


def evaluated_checkpoints(config: dict) -> list[Checkpoint]:
    """Every checkpoint that is evaluated: the base, each stage's kept steps and its final model, and the restore
    experiments made of it."""
    lineages, restored, labels = lineages_of(config), restored_lineages_of(config), restore_labels_of(config)
    found = []
    for model in config["models"]:
        for lineage in lineages:
            if lineage == BASE:
                found.append(Checkpoint(model, lineage, 0, checkpoint_dir(model, BASE)))
                continue
            spec = config["stages"][lineage_stage(lineage)]
            for step in checkpoint_steps(spec["steps"], spec["save_every"]):
                found.append(Checkpoint(model, lineage, step, checkpoint_dir(model, f"{lineage}/steps/{step}")))
            found.append(Checkpoint(model, lineage, spec["steps"], checkpoint_dir(model, lineage)))
            if lineage in restored:
                for label in labels:
                    folder = checkpoint_dir(model, f"{lineage}/restored/{label}")
                    found.append(Checkpoint(model, lineage, spec["steps"], folder, f"restored/{label}"))
        found += _realigned(config, model)
    return found


def _realigned(config: dict, model: str) -> list[Checkpoint]:
    """The re-alignment test's checkpoints: each realigned from a checkpoint, at that checkpoint's step."""
    task, found = realign_task_of(config), []
    for path in realigned_of(config):
        lineage, step = split_checkpoint(path)
        step = 0 if lineage == BASE else step if step is not None else config["stages"][lineage_stage(lineage)]["steps"]
        found.append(
            Checkpoint(model, lineage, step, checkpoint_dir(model, f"{path}/realigned/{task}"), f"realigned/{task}")
        )
    return found


def evaluation_names(config: dict, lineage: str, variant: str | None = None) -> list[tuple[str, str, str, str | None]]:
    """(folder, name, task, format) of every metrics file of one checkpoint: <folder>/<name>.json. A variant made of
    a checkpoint is evaluated in its tasks' own formats: a realigned one on the task it was re-aligned to, a
    restored one on ``analysis.restore.tasks``."""
    evaluate = config["evaluate"]
    if variant is not None and variant.startswith("realigned/"):
        return [("eval", variant.removeprefix("realigned/"), variant.removeprefix("realigned/"), None)]
    if variant is not None:
        tasks = config["analysis"]["restore"]["tasks"] or evaluate["tasks"]
        names = [("eval", task, task, None) for task in tasks]
    else:
        names = [("eval", task, task, None) for task in evaluate["tasks"]]
        names += [("eval", f"{task}.{style}", task, style) for task in evaluate["format_tasks"]
                  for style in evaluate["formats"]]  # fmt: skip
    # KL to the base: none for the base itself, and for a restore only when asked for
    if lineage != BASE and (variant is None or config["analysis"]["restore"]["kl"]):
        directions = ["", REVERSE] if evaluate["kl"]["reverse"] else [""]
        kl_tasks = evaluate["kl"]["tasks"]
        names += [("kl", f"{task}{direction}", task, None) for task in kl_tasks for direction in directions]
    names += [("harness", benchmark, benchmark, None) for benchmark in evaluate["harness"]["tasks"]]
    return names + [("evalscope", benchmark, benchmark, None) for benchmark in evaluate["evalscope"]["tasks"]]


def lineage_seed(config: dict, lineage: str) -> int | None:
    return None if lineage == BASE else config["stages"][lineage_stage(lineage)]["seed"]


def existing(entries: list[dict], figures_only: bool) -> list[dict]:
    """In figures-only mode the entries whose file exists, with their per-item samples only where those exist
    (else the deltas' intervals are unpaired), so nothing upstream is scheduled; otherwise every entry."""
    if not figures_only:
        return entries
    return [
        {**entry, "items": entry["items"] if entry.get("items") and os.path.exists(entry["items"]) else None}
        for entry in entries
        if os.path.exists(entry["path"])
    ]


def analysis_entries(config: dict, names: list[str] | None = None) -> list[dict]:
    """One dict per analysis result (analysis/<name>.json of every analysed checkpoint): the table's identifying
    columns plus its path."""
    entries = []
    for model in config["models"]:
        for path, step in plan.analysed_checkpoints(config, lineages_of(config)):
            lineage = checkpoint_lineage(path)
            entries += [
                {"model": model, "lineage": lineage, "stage": lineage_stage(lineage),
                 "method": lineage_method(lineage, config["stages"]), "step": step,
                 "task": plan.analysis_task(config, name) or "weights", "format": None,
                 "seed": lineage_seed(config, lineage), "variant": None, "analysis": name, "checkpoint": path,
                 "path": f"{checkpoint_dir(model, path)}/analysis/{name}.json"}
                for name in names or analyses_of(config)
                if plan.analyses_step(config, name, path)
            ]  # fmt: skip
    return existing(entries, config["figures_only"])


def eval_entries(config: dict) -> list[dict]:
    """One dict per metrics file (generation evals, KL of trained checkpoints, lm-eval benchmarks, analysis
    summaries): the table's identifying columns plus its path, and ``items``, the per-item samples of a
    generation eval."""
    entries = [
        {"model": model, "lineage": lineage, "stage": lineage_stage(lineage),
         "method": lineage_method(lineage, config["stages"]), "step": step, "task": task,
         "format": style, "seed": lineage_seed(config, lineage), "variant": variant,
         "path": f"{folder}/{kind}/{name}.json",
         "items": f"{folder}/{kind}/{name}.samples.jsonl" if kind == "eval" else None}
        for model, lineage, step, folder, variant in evaluated_checkpoints(config)
        for kind, name, task, style in evaluation_names(config, lineage, variant)
    ]  # fmt: skip
    return existing(entries, config["figures_only"]) + analysis_entries(config)


def train_log_entries(config: dict, seed_groups: dict[str, str]) -> list[dict]:
    """One dict per trained lineage's step log: model, lineage, its seed group (bands over seeds) and path."""
    entries = [
        {"model": model, "lineage": lineage, "group": seed_group(lineage, seed_groups),
         "path": f"{checkpoint_dir(model, lineage)}/train_log.jsonl"}
        for model in config["models"]
        for lineage in lineages_of(config)
        if lineage != BASE
    ]  # fmt: skip
    return existing(entries, config["figures_only"])


def analysis_tables(config: dict, name: str) -> list[str]:
    """Every analysed checkpoint's rows of one analysis (analysis/<name>.csv beside each summary)."""
    return [entry["path"].removesuffix(".json") + ".csv" for entry in analysis_entries(config, [name])]


def paths(entries: list[dict]) -> list[str]:
    return [entry["path"] for entry in entries]


def item_paths(entries: list[dict]) -> list[str]:
    """The per-item samples of the entries that have them (paired intervals of the deltas)."""
    return [entry["items"] for entry in entries if entry.get("items")]


def restore_references(config: dict) -> dict[str, str]:
    """Lineage -> the checkpoint its restore experiments take weights from (recovery is measured against it)."""
    reference = config["analysis"]["reference"]
    return {lineage: plan.reference_of(lineage, reference) for lineage in restored_lineages_of(config)}


def lineage_tasks(config: dict) -> dict[str, list[str]]:
    """Lineage -> the tasks its stages trained on (the others are prior tasks for it)."""
    stages = config["stages"]
    return {lineage: [stages[stage]["task"] for stage in lineage_stages(lineage)] for lineage in lineages_of(config)}


def figure_targets(config: dict) -> list[str]:
    return [path for name in figures_of(config) for path in figure_paths(name).values()]


def checkpoint_models(config: dict) -> dict[str, str]:
    """Checkpoint name (its path under results/) -> its model folder, for every evaluated checkpoint."""
    return {
        checkpoint.folder.removeprefix(f"{RESULTS}/"): f"{checkpoint.folder}/model"
        for checkpoint in evaluated_checkpoints(config)
    }


# -- one job's inputs and settings, from its wildcards' values --


def science(spec: dict) -> dict:
    """A resolved config entry without its SLURM request: asking for more memory must not make a checkpoint
    stale."""
    return {key: value for key, value in spec.items() if key != "resources"}


def evaluation_task(evaluation: str, tasks) -> str:
    """The task of eval/<evaluation>.json: a task name, or <task>.<format> for a further format."""
    return evaluation if evaluation in tasks else evaluation.rsplit(".", 1)[0]


def evaluation_format(evaluation: str, tasks) -> str | None:
    """The further format of eval/<task>.<format>.json; None for the evaluation's own format."""
    return evaluation[len(evaluation_task(evaluation, tasks)) + 1 :] or None


def divergence_task(divergence: str) -> str:
    """The task of kl/<task>.json (forward KL) or kl/<task>.reverse.json."""
    return divergence.removesuffix(REVERSE)


def kl_sampling(config: dict) -> dict:
    """How KL completions are sampled (the base's for forward KL, the checkpoint's for reverse KL)."""
    kl, evaluate = config["evaluate"]["kl"], config["evaluate"]
    return dict(n=kl["n"], max_new_tokens=kl["max_new_tokens"], seed=kl["seed"], style=evaluate["format"],
                chat=evaluate["chat"], device=config["device"])  # fmt: skip


def kl_inputs(model: str, checkpoint: str, divergence: str) -> dict[str, str]:
    """Both models, the task's test records and, for forward KL, the base's samples of the task."""
    task = divergence_task(divergence)
    inputs = {"base": model_dir(model, BASE), "model": model_dir(model, checkpoint), "data": data_path(task, "test")}
    if not divergence.endswith(REVERSE):
        inputs["samples"] = kl_samples_path(model, task)
    return inputs


def analysis_inputs(config: dict, model: str, checkpoint: str, analysis: str) -> dict[str, str]:
    """The checkpoint, its reference and, for the analyses that read a task, the checkpoint's own evaluation
    samples of that task (which items it still answers right)."""
    reference = plan.reference_of(checkpoint, config["analysis"]["reference"])
    task = plan.analysis_task(config, analysis)
    if ANALYSES[analysis].reads_samples:
        return {
            path: f"{checkpoint_dir(model, at)}/eval/{task}.samples.jsonl"
            for path, at in (("reference", reference), ("model", checkpoint))
        }
    inputs = {"reference": model_dir(model, reference), "model": model_dir(model, checkpoint)}
    if task:
        inputs["samples"] = f"{checkpoint_dir(model, checkpoint)}/eval/{task}.samples.jsonl"
    return inputs


def stage_data(config: dict, stage: str) -> str:
    """The training records of a stage's task."""
    return data_path(config["stages"][stage]["task"], "train")


def replay_task(config: dict, stage: str) -> str | None:
    """The prior task a stage replays, or None."""
    return (config["stages"][stage]["replay"] or {}).get("task")


def replay_data(config: dict, stage: str) -> list[str]:
    """The training records of the task a stage replays (none without replay)."""
    task = replay_task(config, stage)
    return [data_path(task, "train")] if task else []
