"""Adapter: the figures of forgetlab.report.FIGURES from the metrics table and training logs (rules/report.smk:
report_figures)."""

import sys

import pandas as pd

from forgetlab.io import read_jsonl
from forgetlab.report import FigureData, draw_figure

sys.stderr = open(snakemake.log[0], "w")

entries = snakemake.params.train_log_entries
logs = {f"{e['model']}: {e['lineage']}": read_jsonl(e["path"]) for e in entries}
groups = {f"{e['model']}: {e['lineage']}": f"{e['model']}: {e['group']}" for e in entries}
analyses = {name: pd.read_csv(path) for name, path in zip(snakemake.params.analyses, snakemake.input.analyses)}
data = FigureData(
    pd.read_csv(snakemake.input.metrics), logs, analysis=analyses, log_groups=groups,
    diagnosis=pd.read_csv(snakemake.input.diagnosis), **snakemake.params.figures,
)  # fmt: skip
for key, paths in snakemake.output.items():
    draw_figure(key.removeprefix("figure_"), data, paths)
