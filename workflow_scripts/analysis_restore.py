"""Adapter: a restore experiment's model folder (rules/analysis.smk: analysis_restore)."""

import sys

from forgetlab.analysis import restore_model
from forgetlab.threads import limit_threads

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
limit_threads(snakemake.threads)

variant, params = snakemake.params.variant, snakemake.params
span = tuple(int(end) for end in variant["span"].split("-")) if variant["span"] else None
restored = restore_model(
    snakemake.input.reference, snakemake.input.model, snakemake.output.model, variant["mode"], variant["fraction"],
    span, params.tail, False, params.seed, params.matrices, snakemake.output.control if params.control else None,
    (snakemake.input.reference_spectrum, snakemake.input.model_spectrum),
)  # fmt: skip
print(restored)
