"""Adapter: write the records of one task split (rules/data.smk: data_generate)."""

import sys

from forgetlab.io import write_jsonl
from forgetlab.tasks import make_task

sys.stderr = open(snakemake.log[0], "w")

records = make_task(snakemake.wildcards.task, snakemake.params.spec).build(snakemake.wildcards.split)
write_jsonl(records, snakemake.output[0])
print(f"{len(records)} records -> {snakemake.output[0]}", file=sys.stderr)
