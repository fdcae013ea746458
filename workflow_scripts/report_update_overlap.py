"""Adapter: the pairwise overlap of the trained models' updated weight coordinates (rules/report.smk:
report_update_overlap)."""

import sys

import pandas as pd

from forgetlab.analysis.update import overlap_table
from forgetlab.io import atomic_path
from forgetlab.lineages import BASE
from forgetlab.threads import limit_threads

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
limit_threads(snakemake.threads)

tables = []
for model in dict.fromkeys(model for model, _, _ in snakemake.params.checkpoints):
    folders = {lineage: path for name, lineage, path in snakemake.params.checkpoints if name == model}
    base = folders.pop(BASE)
    tables.append(pd.DataFrame(overlap_table(base, folders, snakemake.params.matrices)).assign(model=model))
with atomic_path(snakemake.output[0]) as tmp:
    pd.concat(tables).to_csv(tmp, index=False)
