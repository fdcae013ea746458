"""Which checkpoints the analysis stage reads and writes: the reference of each checkpoint, the restore variants,
the task each analysis reads. Plain bookkeeping over a resolved config (no torch), shared by the workflow and
its checks."""

from __future__ import annotations

from ..lineages import BASE, checkpoint_lineage, checkpoint_steps, lineage_stage, split_checkpoint
from .registry import ANALYSES

__all__ = [
    "analysed_checkpoints", "analyses_step", "analysis_task", "control_label", "realigned_checkpoints",
    "reference_of", "restore_label", "restore_labels", "restore_variants", "restored_lineages",
]  # fmt: skip


def restore_label(mode: str, fraction: float | None = None, span: str | None = None, control: bool = False) -> str:
    """Folder name of a restore: directions-0.2, layers-0-7, components-0.2-random, ..."""
    amount = span if mode == "layers" and span else f"{fraction:g}"
    return f"{mode}-{amount}" + ("-random" if control else "")


def restore_variants(restore: dict) -> dict[str, dict]:
    """label -> {mode, fraction, span} of every restore the config asks for (its random control, when asked
    for, is written by the same job under ``control_label``)."""
    variants = {}
    for mode in restore["modes"]:
        amounts = [(fraction, None) for fraction in restore["fractions"]]
        if mode == "layers":
            amounts += [(None, span) for span in restore["layers"]]
        for fraction, span in amounts:
            variants[restore_label(mode, fraction, span)] = {"mode": mode, "fraction": fraction, "span": span}
    return variants


def control_label(label: str) -> str:
    return f"{label}-random"


def restore_labels(restore: dict) -> list[str]:
    """Every restored checkpoint's label: each restore, then each random control."""
    labels = list(restore_variants(restore))
    return labels + [control_label(label) for label in labels] if restore["control"] else labels


def restored_lineages(config: dict, lineages: list[str]) -> list[str]:
    """The trained lineages whose final checkpoint gets the restore experiments."""
    chosen = config["analysis"]["restore"]["lineages"]
    return [lineage for lineage in lineages if lineage != BASE and (chosen is None or lineage in chosen)]


def reference_of(checkpoint: str, reference: str) -> str:
    """The checkpoint path a checkpoint is compared with: the base, its lineage's parent, or a named one."""
    if reference == "base":
        return BASE
    if reference == "parent":
        lineage = checkpoint_lineage(checkpoint)
        return lineage.rsplit("/", 1)[0] if lineage != BASE else BASE
    return reference


def realigned_checkpoints(config: dict, lineages: list[str]) -> list[str]:
    """The checkpoints the re-alignment test trains from: the final model of each chosen lineage, then (the
    control) their references."""
    analysis = config["analysis"]
    if "realign" not in analysis["run"]:
        return []
    chosen = analysis["realign"]["lineages"] or analysis["lineages"]
    found = [lineage for lineage in lineages if lineage != BASE and (chosen is None or lineage in chosen)]
    if analysis["realign"]["control"]:
        found += [reference_of(lineage, analysis["reference"]) for lineage in found]
    return list(dict.fromkeys(found))


def analysed_checkpoints(config: dict, lineages: list[str]) -> list[tuple[str, int]]:
    """(checkpoint path, step) of every checkpoint the analyses run on: each trained lineage's final model, and
    with ``checkpoints: all`` its kept steps; never the reference itself."""
    analysis = config["analysis"]
    found = []
    for lineage in lineages:
        if lineage == BASE or (analysis["lineages"] is not None and lineage not in analysis["lineages"]):
            continue
        spec = config["stages"][lineage_stage(lineage)]
        steps = checkpoint_steps(spec["steps"], spec["save_every"]) if analysis["checkpoints"] == "all" else []
        found += [(f"{lineage}/steps/{step}", step) for step in steps] + [(lineage, spec["steps"])]
    return [(path, step) for path, step in found if reference_of(path, analysis["reference"]) != path]


def analyses_step(config: dict, name: str, checkpoint: str) -> bool:
    """Whether analysis ``name`` runs on ``checkpoint``: a lineage's final model always, a kept step unless
    ``analysis.steps`` leaves the analysis out."""
    steps = config["analysis"]["steps"]
    return split_checkpoint(checkpoint)[1] is None or steps is None or name in steps


def analysis_task(config: dict, name: str) -> str | None:
    """The task an analysis (or the re-alignment test) reads (a weight analysis: only the one its own options
    name, if any)."""
    analysis = config["analysis"]
    if name != "realign" and not (ANALYSES[name].reads_items or ANALYSES[name].reads_samples):
        return analysis[name].get("task")
    fallback = config["figures"]["prior_task"] or config["evaluate"]["tasks"][0]
    return analysis[name]["task"] or analysis["task"] or fallback
