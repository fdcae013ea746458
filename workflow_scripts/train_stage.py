"""Adapter: train one stage from its parent checkpoint (rules/models.smk: model_train)."""

import sys

import torch

from forgetlab.io import read_jsonl
from forgetlab.tasks import make_task
from forgetlab.train import StageConfig, train_stage

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
torch.set_num_threads(snakemake.threads)

stage = StageConfig.from_dict(snakemake.params.stage)
train_stage(
    stage,
    make_task(stage.task, snakemake.params.task),
    read_jsonl(snakemake.input.data),
    model_dir=snakemake.input.parent,
    out_dir=snakemake.output.model,
    log_path=snakemake.output.train_log,
)
