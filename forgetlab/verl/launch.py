"""One verl stage from end to end: the prompts and the reward spec written, verl's trainer run on this node or on
a Ray cluster across the allocation, each kept step and the final one merged into HF folders with verl's own
model merger, and verl's metrics turned into the step log."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import forgetlab

from ..compat.verl import check_version
from ..data import read_records
from ..io import atomic_dir, claim_folder, read_json, read_jsonl, write_json
from ..lineages import checkpoint_steps
from ..prompts import prompt_ids
from ..tasks import make_task
from ..tracking.config import TrackingConfig
from ..tracking.runs import environment as tracker_variables
from ..train.config import StageConfig
from .cluster import RayCluster, allocation_nodes
from .data import verl_rows, write_rows
from .log import write_step_log
from .reward import write_spec
from .settings import StageFiles, batches, hydra_overrides, verl_settings

__all__ = ["longest_prompt", "merge_command", "run_verl_stage"]


def longest_prompt(rows: list[dict], model_dir: str) -> int:
    """The longest prompt of ``rows`` in tokens, as verl renders it (the chat template, generation prompt added)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    return max(len(prompt_ids(tokenizer, row["prompt"])) for row in rows)


def merge_command(actor_dir: str | os.PathLike, target_dir: str | os.PathLike) -> list[str]:
    """verl's model merger: an actor's FSDP shards of one save as an HF model folder."""
    return [sys.executable, "-m", "verl.model_merger", "merge", "--backend", "fsdp", "--local_dir", str(actor_dir),
            "--target_dir", str(target_dir)]  # fmt: skip


def _merge(actor_dir: Path, target: Path, parent: Path) -> None:
    """The merged model at ``target``, whole or not at all, with the parent's tokenizer files where verl's merge
    left them out (every forgetlab model folder can be loaded on its own)."""
    if not actor_dir.is_dir():
        raise FileNotFoundError(f"{actor_dir}: verl saved no checkpoint of this step")
    with atomic_dir(target) as tmp:
        subprocess.run(merge_command(actor_dir, tmp), check=True)
        for path in parent.iterdir():
            tokenizer_file = path.name.startswith(("tokenizer", "special_tokens", "chat_template"))
            if tokenizer_file and not (tmp / path.name).exists():
                shutil.copy2(path, tmp / path.name)


def _environment(log: Path, trackers: TrackingConfig, run: str) -> dict:
    """The trainer's environment: forgetlab importable by verl's reward workers (it loads reward.py by path), this
    attempt's metrics in a file of their own (verl's file logger truncates the file it opens), and the trackers'
    folders and run ids as forgetlab's TRL stages and evaluations use them (so a lineage is one run)."""
    root = str(Path(forgetlab.__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "VERL_FILE_LOGGER_PATH": str(log)}
    if trackers.report_to:
        Path(trackers.dir).mkdir(parents=True, exist_ok=True)
        env |= tracker_variables(trackers, run)
        if "TENSORBOARD_LOGGING_DIR" in env:  # verl's TensorBoard writer reads a variable of its own
            env["TENSORBOARD_DIR"] = env["TENSORBOARD_LOGGING_DIR"]
    return env


def run_verl_stage(
    stage_spec: dict,
    task_name: str,
    task_specs: dict[str, dict],
    data: str,
    *,
    model_dir: str,
    out_dir: str,
    log_path: str,
    checkpoint_dir: str,
    work_dir: str,
    gpus: int,
    nodes: int = 1,
    cpus: int = 8,
    experiment: str = "stage",
    tracking: dict | None = None,
) -> Path:
    """Train ``stage_spec`` (a verl stage) on the task records in ``data`` from ``model_dir``; ``task_specs``:
    every task it scores (name -> spec). verl's saves live in ``work_dir``, where a rerun resumes; the outputs
    are the merged final model, the kept steps (``checkpoint_dir/<step>``) and the step log. ``tracking`` (the
    config's section) names trackers that also receive verl's metrics, as run ``experiment``."""
    check_version()
    stage = StageConfig.from_dict(stage_spec, "stage")
    tasks = {name: make_task(name, spec) for name, spec in task_specs.items()}
    # absolute paths: verl's workers run elsewhere (on several nodes, work_dir must be on a shared filesystem)
    work = Path(work_dir).resolve()
    claim_folder(work, trained_from(stage_spec, task_specs, data, model_dir), "saves of verl")
    rows = verl_rows(stage, tasks, read_records(tasks[task_name], data))
    tries = max(task.verify_iter for task in tasks.values())
    files = StageFiles(
        model=str(Path(model_dir).resolve()), train=str(work / "train.parquet"), reward_spec=str(work / "reward.json"),
        work=str(work / "checkpoints"), experiment=experiment,
        agent_loops=str(work / "agent_loops.yaml") if tries > 1 else None,
    )  # fmt: skip
    write_rows(rows, files.train)
    write_spec(stage_spec, task_specs, files.model, files.reward_spec)
    if files.agent_loops:
        from .tries import write_agent_loops  # verl's agent loop classes: verl's environment only

        write_agent_loops(files.agent_loops)
    trackers = TrackingConfig.from_dict(tracking or {}, "tracking")
    settings = verl_settings(stage, files, rows=len(rows), max_prompt_length=longest_prompt(rows, model_dir),
                             gpus=gpus, nodes=nodes, tries=tries, trackers=tuple(trackers.report_to),
                             project=trackers.project)  # fmt: skip
    overrides = hydra_overrides(settings)
    write_json({"verl": settings, "overrides": overrides}, work / "settings.json")
    attempt = len(list(work.glob("metrics-*.jsonl")))
    env = _environment(work / f"metrics-{attempt:03d}.jsonl", trackers, experiment)
    trainer = [sys.executable, "-m", "verl.trainer.main_ppo", *overrides, f"hydra.run.dir={work / 'hydra'}"]
    if nodes > 1:
        with RayCluster(allocation_nodes(), gpus, cpus, env) as cluster:
            subprocess.run(trainer, env={**env, "RAY_ADDRESS": cluster.address}, check=True)
    else:
        subprocess.run(trainer, env=env, check=True)
    saves = Path(files.work)
    for step in checkpoint_steps(stage.steps, stage.save_every or 0):
        _merge(saves / f"global_step_{step // stage.num_iterations}" / "actor", Path(checkpoint_dir, str(step)),
               Path(model_dir))  # fmt: skip
    Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
    _merge(saves / f"global_step_{batches(stage)}" / "actor", Path(out_dir), Path(model_dir))
    write_step_log_from(work, log_path, stage.num_iterations)
    # the stage is done: its FSDP saves (weights and optimizer states of actor and critic, per save) go
    shutil.rmtree(saves, ignore_errors=True)
    return Path(out_dir)


def trained_from(stage_spec: dict, task_specs: dict, data: str, model_dir: str) -> dict:
    """What verl's saves in a work folder were trained from (verl resumes from the newest): the stage, its tasks,
    its records and its parent, whose files are named by size and time."""
    parent = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in Path(model_dir).iterdir())
    records = hashlib.sha256(Path(data).read_bytes()).hexdigest()
    return {"stage": stage_spec, "tasks": task_specs, "data": records, "parent": parent}


def write_step_log_from(work: Path, log_path: str, num_iterations: int) -> None:
    """The step log of every attempt in ``work``, oldest attempt first (a resumed run logs the steps after its save
    again)."""
    entries = [entry for path in sorted(work.glob("metrics-*.jsonl")) for entry in read_jsonl(path)]
    write_step_log(entries, log_path, num_iterations)


if __name__ == "__main__":  # python -m forgetlab.verl.launch JOB.json: the job in verl's environment
    run_verl_stage(**read_json(sys.argv[1]))
