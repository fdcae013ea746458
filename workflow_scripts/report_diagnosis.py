"""Adapter: results/tables/metrics.csv into results/tables/diagnosis.csv (rules/report.smk: report_diagnosis)."""

import sys

import pandas as pd

from forgetlab.io import atomic_path
from forgetlab.report import diagnosis_table

sys.stderr = open(snakemake.log[0], "w")

table = diagnosis_table(pd.read_csv(snakemake.input[0]), snakemake.params.lineage_tasks)
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
