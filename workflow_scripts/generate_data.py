"""Adapter: write the records of one task split (rules/data.smk: data_generate)."""

import sys

from forgetlab.data import build_split
from forgetlab.io import write_jsonl

sys.stderr = open(snakemake.log[0], "w")

records = build_split(snakemake.wildcards.task, snakemake.params.spec, snakemake.wildcards.split)
write_jsonl(records, snakemake.output[0])
print(f"{len(records)} records -> {snakemake.output[0]}", file=sys.stderr)
