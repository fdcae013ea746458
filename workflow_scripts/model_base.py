"""Adapter: the base model as an HF folder (rules/models.smk: model_base)."""

import sys

from forgetlab.models import materialise
from forgetlab.threads import limit_threads

sys.stderr = open(snakemake.log[0], "w")
limit_threads(snakemake.threads)

materialise(snakemake.params.spec, snakemake.output[0], fast_paths=snakemake.params.fast_paths)
