"""Adapter: a few SFT steps on the re-alignment examples, from a checkpoint (rules/analysis.smk: analysis_realign)."""

import sys

from forgetlab.analysis.config import RealignConfig
from forgetlab.analysis.realign import realign_stage
from forgetlab.threads import limit_threads
from forgetlab.train import run_stage

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
limit_threads(snakemake.threads)

params, task = snakemake.params, snakemake.wildcards.task
options = RealignConfig.from_dict(params.options, "analysis.realign")
stage = realign_stage(options, task, params.style, params.chat, params.system_prompt, params.oneshot_example)
run_stage(
    stage, task, params.task, snakemake.input.data,
    model_dir=snakemake.input.model, out_dir=snakemake.output.model, log_path=snakemake.output.train_log,
    device=params.device, fast_paths=params.fast_paths,
)  # fmt: skip
