"""Adapter: every metrics JSON into results/tables/metrics.csv (rules/report.smk: report_table)."""

import sys

from forgetlab.io import atomic_path, read_json, read_jsonl
from forgetlab.report import (
    item_key,
    item_scores,
    metrics_table,
    with_deltas,
    with_forgetting,
    with_realignment,
    with_recovery,
    with_seed_summary,
)

sys.stderr = open(snakemake.log[0], "w")

entries = snakemake.params.entries
# per-item scores of every generation evaluation: the deltas' intervals are paired over the items
items = {item_key(entry): item_scores(read_jsonl(entry["items"])) for entry in entries if entry.get("items")}
table = with_deltas(metrics_table(entries, [read_json(entry["path"]) for entry in entries]), items)
table = with_forgetting(table, snakemake.params.lineage_tasks, items)
table = with_recovery(table, snakemake.params.references)
table = with_realignment(table, snakemake.params.realign_references, items)
table = with_seed_summary(table, snakemake.params.seed_groups)
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
