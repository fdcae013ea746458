"""One workflow job's inputs and settings, from its wildcards' values (the targets themselves:
:mod:`forgetlab.targets`). Plain functions of a resolved config, tested without Snakemake."""

from __future__ import annotations

from .analysis import plan
from .analysis.registry import ANALYSES
from .analysis.weights import MATRICES
from .lineages import BASE
from .targets import (
    REVERSE,
    checkpoint_dir,
    data_path,
    evaluated_checkpoints,
    kl_samples_path,
    model_dir,
    realign_data_path,
    realigned_of,
    spectrum_dir,
)
from .tracking import run_name

__all__ = [
    "analysis_inputs", "divergence_task", "evaluation_format", "evaluation_task", "kl_inputs", "kl_sampling",
    "realign_inputs", "replay_data", "replay_task", "restore_inputs", "science", "spectrum_matrices", "stage_data",
    "tracked_run",
]  # fmt: skip


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
    return dict(n=kl["n"], max_new_tokens=kl["max_new_tokens"], seed=kl["seed"], source=kl["source"],
                style=evaluate["format"], chat=evaluate["chat"], system_prompt=evaluate["system_prompt"],
                oneshot_example=evaluate["oneshot_example"], device=config["device"])  # fmt: skip


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
    if ANALYSES[analysis].reads_spectra:
        inputs |= spectra(model, reference, checkpoint)
    if task:
        inputs["samples"] = f"{checkpoint_dir(model, checkpoint)}/eval/{task}.samples.jsonl"
    return inputs


def spectra(model: str, reference: str, checkpoint: str) -> dict[str, str]:
    """The stored spectra of a checkpoint and its reference, which every weight analysis and restore reads."""
    return {"reference_spectrum": spectrum_dir(model, reference), "model_spectrum": spectrum_dir(model, checkpoint)}


def spectrum_matrices(config: dict) -> list[str]:
    """The linear maps whose spectra are stored: those the weight analyses compare (restores use the svd
    analysis' matrices), in layer order."""
    analysis = config["analysis"]
    wanted = {matrix for name in ("svd", "update") for matrix in analysis[name]["matrices"]}
    return [matrix for matrix in MATRICES if matrix in wanted]


def restore_inputs(config: dict, model: str, lineage: str) -> dict[str, str]:
    """A restore experiment's inputs: the lineage's final checkpoint, the reference it puts weights back from,
    and both models' spectra."""
    reference = plan.reference_of(lineage, config["analysis"]["reference"])
    return {"reference": model_dir(model, reference), "model": model_dir(model, lineage)} | spectra(
        model, reference, lineage
    )


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


def realign_inputs(config: dict, model: str, parent: str, task: str) -> dict[str, str]:
    """A re-alignment job's inputs: the checkpoint, and the examples of its reference (the reference itself: the
    control)."""
    references = {plan.reference_of(path, config["analysis"]["reference"]) for path in realigned_of(config)}
    reference = parent if parent in references else plan.reference_of(parent, config["analysis"]["reference"])
    return {"model": model_dir(model, parent), "data": realign_data_path(model, reference, task)}


def tracked_run(config: dict, model: str, checkpoint: str) -> tuple[str, int, str]:
    """(run, step, key prefix) a checkpoint's metrics are logged at in the trackers: its lineage's run
    (forgetlab.tracking.run_name) at the step it was saved, the base at step 0 of its own; a restored or realigned
    checkpoint at its lineage's step, its keys under its variant ('restored/<label>/eval/<task>/accuracy')."""
    folder = checkpoint_dir(model, checkpoint)
    for found in evaluated_checkpoints(config):
        if found.folder == folder:
            return run_name(model, found.lineage), found.step, f"{found.variant}/" if found.variant else ""
    raise ValueError(f"{checkpoint!r} of model {model!r} is not a checkpoint of the config's lineages")
