"""Adapter: generation accuracy of one checkpoint on one task (rules/evaluate.smk: evaluate_generation)."""

import sys

import torch

from forgetlab.evaluate import evaluate_records, reference_loglik
from forgetlab.io import read_jsonl, write_json, write_jsonl
from forgetlab.models import load_model, load_tokenizer
from forgetlab.tasks import make_task

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
torch.set_num_threads(snakemake.threads)

model, tokenizer = load_model(snakemake.input.model), load_tokenizer(snakemake.input.model)
task, records = make_task(snakemake.wildcards.task, snakemake.params.task), read_jsonl(snakemake.input.data)
style, chat = snakemake.params.style, snakemake.params.chat
metrics, samples = evaluate_records(
    model, tokenizer, task, records, snakemake.params.max_new_tokens, snakemake.params.batch_size, style, chat,
    samples=snakemake.params.samples, temperature=snakemake.params.temperature,
)  # fmt: skip
# Reference log-likelihood moves long before accuracy does: cheap, and on the same loaded model.
metrics.update(reference_loglik(model, tokenizer, task, records, style, chat) | {"n": metrics["n"]})
write_jsonl(samples, snakemake.output.samples)
write_json(metrics, snakemake.output.metrics)
