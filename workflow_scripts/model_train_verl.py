"""Adapter: train one engine: verl stage from its parent checkpoint (rules/models.smk: model_train_verl).

verl lives in an environment of its own (it pins transformers below the core's range): this job runs the stage
with that environment's Python, the one Snakemake runs it with under --sdm conda (envs/verl.yaml), else the
config's verl_python (bash requirements/venv.sh verl).
"""

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # forgetlab's source: verl's environment lacks its deps
from forgetlab.io import write_json
from forgetlab.resources import node_gpus
from forgetlab.tracking import run_name

log = open(snakemake.log[0], "w")
sys.stderr = sys.stdout = log

params, outputs, wildcards, resources = snakemake.params, snakemake.output, snakemake.wildcards, snakemake.resources
python = sys.executable if importlib.util.find_spec("verl") else params.verl_python
if not os.path.exists(python):
    raise SystemExit(
        f"stage {wildcards.stage!r} trains in verl, which is not installed here, and verl_python ({python}) does "
        "not exist: make it with `bash requirements/venv.sh verl`, or run with --sdm conda (envs/verl.yaml)"
    )
job = {
    "stage_spec": params.stage, "task_name": params.stage["task"], "task_specs": {params.stage["task"]: params.task},
    "data": snakemake.input.data, "model_dir": snakemake.input.parent, "out_dir": outputs.model,
    "log_path": outputs.train_log, "checkpoint_dir": outputs.checkpoints, "work_dir": params.work_dir,
    "gpus": node_gpus(resources), "nodes": int(resources.get("nodes") or 1), "cpus": snakemake.threads,
    "experiment": run_name(wildcards.model, f"{wildcards.parent}/{wildcards.stage}"),
    # the trackers from the config, not params: a tracker setting must not make a checkpoint stale
    "tracking": snakemake.config["tracking"],
}  # fmt: skip
with tempfile.TemporaryDirectory() as folder:  # not in work_dir: that is verl's saves, kept for this job alone
    write_json(job, Path(folder, "job.json"))
    launch = [python, "-m", "forgetlab.verl.launch", str(Path(folder, "job.json"))]
    subprocess.run(launch, stdout=log, stderr=log, cwd=os.getcwd(), check=True)
