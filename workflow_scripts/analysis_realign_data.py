"""Adapter: the re-alignment examples of a reference (rules/analysis.smk: analysis_realign_data)."""

import sys

from forgetlab.analysis.config import RealignConfig
from forgetlab.analysis.realign import demonstrations
from forgetlab.data import read_records
from forgetlab.io import write_jsonl
from forgetlab.tasks import make_task
from forgetlab.threads import limit_threads

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
limit_threads(snakemake.threads)

params = snakemake.params
task = make_task(snakemake.wildcards.task, params.task)
options = RealignConfig.from_dict(params.options, "analysis.realign")
records = demonstrations(
    snakemake.input.model, task, read_records(task, snakemake.input.data), options, style=params.style,
    chat=params.chat, system_prompt=params.system_prompt, oneshot_example=params.oneshot_example,
    max_new_tokens=params.max_new_tokens, device=params.device,
)  # fmt: skip
print(f"{len(records)} examples: {[record['demonstration'] for record in records]}")
write_jsonl(records, snakemake.output[0])
