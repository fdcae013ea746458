"""Adapter: every metrics JSON into results/tables/metrics.csv (rules/report.smk: report_table)."""

import sys

from forgetlab.io import atomic_path, read_json
from forgetlab.report import metrics_table, with_deltas, with_forgetting, with_recovery, with_seed_summary

sys.stderr = open(snakemake.log[0], "w")

entries = snakemake.params.entries
table = with_deltas(metrics_table(entries, [read_json(entry["path"]) for entry in entries]))
table = with_forgetting(table, snakemake.params.lineage_tasks)
table = with_recovery(table, snakemake.params.references)
table = with_seed_summary(table, snakemake.params.seed_groups)
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
