"""Adapter: the base's KL completions of one task, with its states along them (rules/evaluate.smk:
evaluate_kl_samples)."""

import sys

from forgetlab.data import read_records
from forgetlab.evaluate.checkpoint import policy_samples
from forgetlab.io import atomic_path
from forgetlab.tasks import make_task
from forgetlab.threads import limit_threads

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
limit_threads(snakemake.threads)

params = snakemake.params
task = make_task(snakemake.wildcards.task, params.task)
samples = policy_samples(
    snakemake.input.model, task, read_records(task, snakemake.input.data)[: params.n],
    max_new_tokens=params.max_new_tokens, seed=params.seed, style=params.style, chat=params.chat,
    system_prompt=params.system_prompt, oneshot_example=params.oneshot_example, source=params.source,
    device=params.device,
)  # fmt: skip
with atomic_path(snakemake.output[0]) as tmp:
    samples.save(tmp)
