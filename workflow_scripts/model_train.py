"""Adapter: train one stage from its parent checkpoint (rules/models.smk: model_train); a job holding several
GPUs trains under accelerate + DeepSpeed (config/deepspeed/zero3.yaml)."""

import sys
from pathlib import Path

from forgetlab.threads import limit_threads
from forgetlab.tracking import run_name
from forgetlab.train import run_stage

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
limit_threads(snakemake.threads)

params, outputs, wildcards = snakemake.params, snakemake.output, snakemake.wildcards
run_stage(
    params.stage,
    params.stage["task"],
    params.task,
    snakemake.input.data,
    model_dir=snakemake.input.parent,
    out_dir=outputs.model,
    log_path=outputs.train_log,
    checkpoint_dir=outputs.checkpoints,
    device=params.device,
    gpus=int(snakemake.resources.get("gpu", 0) or 0),
    accelerate_config=Path(snakemake.scriptdir).parent / "config" / "deepspeed" / "zero3.yaml",
    replay_task=params.replay_task,
    replay_data=snakemake.input.replay[0] if snakemake.input.replay else None,
    resume_dir=params.resume_dir,
    fast_paths=params.fast_paths,
    # the trackers from the config, not params: a tracker setting must not make a checkpoint stale
    tracking=snakemake.config["tracking"],
    run_name=run_name(wildcards.model, f"{wildcards.parent}/{wildcards.stage}"),
)
