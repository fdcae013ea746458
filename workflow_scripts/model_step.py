"""Adapter: one intermediate checkpoint as its own model folder (rules/models.smk: model_step)."""

import sys
from pathlib import Path

from forgetlab.io import link_tree

sys.stderr = open(snakemake.log[0], "w")

source = Path(snakemake.input[0]) / snakemake.wildcards.step
if not source.is_dir():
    saved = sorted(p.name for p in Path(snakemake.input[0]).iterdir())
    raise SystemExit(f"{source}: no checkpoint at step {snakemake.wildcards.step} (saved: {saved})")
link_tree(source, snakemake.output[0])
