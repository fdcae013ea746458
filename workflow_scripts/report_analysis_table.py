"""Adapter: one analysis' rows of every checkpoint in one table (rules/report.smk: report_analysis_table)."""

import sys

import pandas as pd

from forgetlab.io import atomic_path

sys.stderr = open(snakemake.log[0], "w")

columns = ["model", "lineage", "step"]
frames = [
    pd.read_csv(path).assign(**{key: entry[key] for key in columns})
    for entry, path in zip(snakemake.params.entries, snakemake.input)
]
table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*columns, "checkpoint"])
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
