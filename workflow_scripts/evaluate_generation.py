"""Adapter: generation accuracy of one checkpoint on one task and format (rules/evaluate.smk: evaluate_generation)."""

import sys

from forgetlab.data import read_records
from forgetlab.evaluate.checkpoint import evaluate_checkpoint
from forgetlab.io import write_json, write_jsonl
from forgetlab.jobs import tracked_run
from forgetlab.tasks import make_task
from forgetlab.threads import limit_threads
from forgetlab.tracking import TrackingConfig, log_metrics, summary_numbers

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
limit_threads(snakemake.threads)

params = snakemake.params
task = make_task(params.task_name, params.task)
metrics, samples = evaluate_checkpoint(
    snakemake.input.model, task, read_records(task, snakemake.input.data), max_new_tokens=params.max_new_tokens,
    batch_size=params.batch_size, style=params.style, chat=params.chat, system_prompt=params.system_prompt,
    oneshot_example=params.oneshot_example, samples=params.samples, temperature=params.temperature,
    loglik_format=params.loglik_format, backend=params.backend, device=params.device,
)  # fmt: skip
write_jsonl(samples, snakemake.output.samples)
write_json(metrics, snakemake.output.metrics)

# the trackers from the config, not params: a tracker setting must not make an evaluation stale
tracking, wildcards = TrackingConfig.from_dict(snakemake.config["tracking"], "tracking"), snakemake.wildcards
if tracking.report_to:
    run, step, prefix = tracked_run(snakemake.config, wildcards.model, wildcards.checkpoint)
    log_metrics(tracking, run, step, summary_numbers(metrics, f"{prefix}eval/{wildcards.evaluation}"))
