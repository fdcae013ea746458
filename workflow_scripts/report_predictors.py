"""Adapter: results/tables/metrics.csv into results/tables/predictors.csv (rules/report.smk: report_predictors)."""

import sys

import pandas as pd

from forgetlab.io import atomic_path
from forgetlab.report import fit_predictors

sys.stderr = open(snakemake.log[0], "w")

fits = fit_predictors(pd.read_csv(snakemake.input[0]))
with atomic_path(snakemake.output[0]) as tmp:
    fits.to_csv(tmp, index=False)
