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
    "OVERLAP_TABLE", "RESULTS", "Checkpoint", "analyses_of", "analysis_entries", "analysis_tables",
    "checkpoint_dir", "checkpoint_models", "data_path", "eval_entries", "evaluated_checkpoints", "evaluation_names",
    "existing", "figure_paths", "figure_targets", "figures_of", "item_paths", "kl_samples_path", "lineage_seed",
    "lineage_tasks", "lineages_of", "model_dir", "overlap_checkpoints", "overlap_targets", "paths",
    "realign_data_path", "realign_references", "realign_task_of", "realigned_of", "restore_labels_of",
    "restore_references", "restored_lineages_of", "restores_of", "spectrum_dir", "stages_on", "train_log_entries",
    "wildcard_patterns",
]  # fmt: skip

RESULTS = "results"
REVERSE = ".reverse"  # kl/<task>.reverse.json: KL(checkpoint || base)


# -- where each file lives --


def checkpoint_dir(model: str, checkpoint: str) -> str:
    """A checkpoint's folder: results/{model}/<lineage>[/steps/{step}][/restored/{label}]."""
    return f"{RESULTS}/{model}/{checkpoint}"


def model_dir(model: str, checkpoint: str) -> str:
    """A checkpoint's HF folder (a sub-folder: Snakemake forbids outputs inside another rule's directory output)."""
    return f"{checkpoint_dir(model, checkpoint)}/model"


def spectrum_dir(model: str, checkpoint: str) -> str:
    """A checkpoint's stored weight spectra, which its weight analyses and restores read."""
    return f"{checkpoint_dir(model, checkpoint)}/spectrum"


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


def stages_on(config: dict, engine: str) -> str:
    """The stage wildcard of the training rule of ``engine`` (trl: SFT and every TRL stage; verl: engine: verl
    stages), so each stage's model has one rule."""
    return (
        _choice(label for label, stage in config["stages"].items() if stage.get("engine", "trl") == engine) or _NOTHING
    )


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


OVERLAP_TABLE = f"{RESULTS}/tables/update_overlap.csv"


def overlap_checkpoints(config: dict) -> list[tuple[str, str, str]]:
    """(model, lineage, model folder) of the final models whose updates from the base are compared pairwise
    (update_overlap.csv): every analysed lineage, when the update analysis runs on two or more."""
    checkpoints = plan.analysed_checkpoints(config, lineages_of(config))
    finals = [path for path, _ in checkpoints if split_checkpoint(path)[1] is None]
    if "update" not in analyses_of(config) or len(finals) < 2:
        return []
    return [(model, path, model_dir(model, path)) for model in config["models"] for path in [BASE, *finals]]


def overlap_targets(config: dict) -> list[str]:
    return [OVERLAP_TABLE] if overlap_checkpoints(config) else []


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
