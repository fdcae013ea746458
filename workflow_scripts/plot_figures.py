"""Adapter: the paper figures from the metrics table and training logs (rules/report.smk: report_figures)."""

import sys

import pandas as pd

from forgetlab.io import read_jsonl
from forgetlab.report import plot_curves, plot_forgetting, plot_kl_forgetting, plot_training

sys.stderr = open(snakemake.log[0], "w")

figures = snakemake.params.figures
table = pd.read_csv(snakemake.input.metrics)
plot_forgetting(table, figures.get("new_task"), figures.get("prior_task"), snakemake.output.forgetting)
plot_kl_forgetting(table, figures.get("new_task"), figures.get("prior_task"), snakemake.output.kl_forgetting)
plot_curves(table, snakemake.output.curves)
logs = {f"{e['model']}: {e['lineage']}": read_jsonl(e["path"]) for e in snakemake.params.train_log_entries}
plot_training(logs, snakemake.output.training)
