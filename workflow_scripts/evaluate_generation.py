"""Adapter: generation accuracy of one checkpoint on one task (rules/evaluate.smk: evaluate_generation)."""

import sys

import torch

from forgetlab.evaluate import evaluate_records
from forgetlab.io import read_jsonl, write_json, write_jsonl
from forgetlab.models import load_model, load_tokenizer
from forgetlab.tasks import make_task

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
torch.set_num_threads(snakemake.threads)

metrics, samples = evaluate_records(
    load_model(snakemake.input.model),
    load_tokenizer(snakemake.input.model),
    make_task(snakemake.wildcards.task, snakemake.params.task),
    read_jsonl(snakemake.input.data),
    max_new_tokens=snakemake.params.max_new_tokens,
    batch_size=snakemake.params.batch_size,
    style=snakemake.params.style,
    chat=snakemake.params.chat,
)
write_jsonl(samples, snakemake.output.samples)
write_json(metrics, snakemake.output.metrics)
