"""Adapter: KL of a checkpoint to its base model on one task, forward or reverse (rules/evaluate.smk: evaluate_kl)."""

import sys

from forgetlab.data import read_records
from forgetlab.evaluate.checkpoint import checkpoint_kl
from forgetlab.evaluate.likelihood import PolicySamples
from forgetlab.io import write_json
from forgetlab.jobs import tracked_run
from forgetlab.tasks import make_task
from forgetlab.threads import limit_threads
from forgetlab.tracking import TrackingConfig, log_metrics, summary_numbers

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
limit_threads(snakemake.threads)

params = snakemake.params
task = make_task(params.task_name, params.task)
metrics = checkpoint_kl(
    snakemake.input.base, snakemake.input.model, task, read_records(task, snakemake.input.data)[: params.n],
    max_new_tokens=params.max_new_tokens, seed=params.seed, style=params.style, chat=params.chat,
    system_prompt=params.system_prompt, oneshot_example=params.oneshot_example, source=params.source,
    reverse=params.direction == "reverse", device=params.device,
    samples=PolicySamples.load(samples) if (samples := snakemake.input.get("samples")) else None,
)  # fmt: skip
write_json(metrics, snakemake.output[0])

# the trackers from the config, not params: a tracker setting must not make a KL file stale
tracking, wildcards = TrackingConfig.from_dict(snakemake.config["tracking"], "tracking"), snakemake.wildcards
if tracking.report_to:
    run, step, prefix = tracked_run(snakemake.config, wildcards.model, wildcards.checkpoint)
    log_metrics(tracking, run, step, summary_numbers(metrics, f"{prefix}kl/{wildcards.divergence}"))
