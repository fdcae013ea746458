"""Adapter: KL of a checkpoint to its base model on one task (rules/evaluate.smk: evaluate_kl)."""

import sys

import torch

from forgetlab.evaluate import policy_kl
from forgetlab.io import read_jsonl, write_json
from forgetlab.models import load_model, load_tokenizer
from forgetlab.tasks import make_task

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
torch.set_num_threads(snakemake.threads)

params = snakemake.params
base, model = load_model(snakemake.input.base), load_model(snakemake.input.model)
metrics = policy_kl(
    base,  # forward KL: completions sampled from the base
    model,
    load_tokenizer(snakemake.input.base),
    make_task(snakemake.wildcards.task, params.task),
    read_jsonl(snakemake.input.data)[: params.n],
    max_new_tokens=params.max_new_tokens,
    seed=params.seed,
    style=params.style,
    chat=params.chat,
)
write_json({**metrics, "direction": "forward"}, snakemake.output[0])
