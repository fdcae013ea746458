"""Adapter: generation accuracy of one checkpoint on one task and format (rules/evaluate.smk: evaluate_generation)."""

import sys

import torch

from forgetlab.evaluate import evaluate_records, open_engine, reference_loglik
from forgetlab.io import read_jsonl, write_json, write_jsonl
from forgetlab.models import load_model, load_tokenizer
from forgetlab.tasks import make_task

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
torch.set_num_threads(snakemake.threads)

params = snakemake.params
tokenizer = load_tokenizer(snakemake.input.model)
task, records = make_task(params.task_name, params.task), read_jsonl(snakemake.input.data)
engine = open_engine(params.backend, snakemake.input.model, tokenizer, params.batch_size)
metrics, samples = evaluate_records(
    engine, tokenizer, task, records, params.max_new_tokens, params.style, params.chat,
    samples=params.samples, temperature=params.temperature,
)  # fmt: skip
engine.close()
# Reference log-likelihood moves long before accuracy does: cheap, and always through HF (exact log-probs).
model = engine.model if hasattr(engine, "model") else load_model(snakemake.input.model)
metrics.update(reference_loglik(model, tokenizer, task, records, params.style, params.chat) | {"n": metrics["n"]})
metrics["backend"] = type(engine).__name__.removesuffix("Engine").lower()
write_jsonl(samples, snakemake.output.samples)
write_json(metrics, snakemake.output.metrics)
