"""Adapter: train one stage from its parent checkpoint (rules/models.smk: model_train). A job that holds
several GPUs runs the same training under accelerate + DeepSpeed (config/deepspeed/zero3.yaml)."""

import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import yaml

from forgetlab.io import read_jsonl
from forgetlab.tasks import make_task
from forgetlab.train import StageConfig, train_stage
from forgetlab.train.launch import accelerate_command

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
torch.set_num_threads(snakemake.threads)

stage, task_name = snakemake.params.stage, snakemake.params.stage["task"]
outputs = snakemake.output
gpus = int(snakemake.resources.get("gpu", 0) or 0)
if gpus > 1:
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder, "stage.yaml")
        config.write_text(yaml.safe_dump({"stages": {snakemake.wildcards.stage: stage}, "tasks": {task_name: snakemake.params.task}}))
        train_args = ["--config", str(config), "--stage", snakemake.wildcards.stage, "--model", snakemake.input.parent,
                      "--data", snakemake.input.data, "--out", outputs.model, "--log", outputs.train_log,
                      "--checkpoints", outputs.checkpoints]  # fmt: skip
        deepspeed = Path(snakemake.scriptdir).parent / "config" / "deepspeed" / "zero3.yaml"
        subprocess.run(accelerate_command(gpus, deepspeed, train_args), check=True, stdout=sys.stdout, stderr=sys.stdout)
else:
    train_stage(
        StageConfig.from_dict(stage),
        make_task(task_name, snakemake.params.task),
        read_jsonl(snakemake.input.data),
        model_dir=snakemake.input.parent,
        out_dir=outputs.model,
        log_path=outputs.train_log,
        checkpoint_dir=outputs.checkpoints,
    )
