"""Adapter: the base model as an HF folder (rules/models.smk: model_base)."""

import sys

import torch

from forgetlab.models import materialise

sys.stderr = open(snakemake.log[0], "w")
torch.set_num_threads(snakemake.threads)

materialise(snakemake.params.spec, snakemake.output[0], fast_paths=snakemake.params.fast_paths)
