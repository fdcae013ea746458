"""Adapter: one lm-eval benchmark on one checkpoint (rules/evaluate.smk: evaluate_harness)."""

import sys

from forgetlab.evaluate.harness import run_lm_eval
from forgetlab.io import write_json
from forgetlab.threads import limit_threads

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
limit_threads(snakemake.threads)

benchmark = snakemake.wildcards.benchmark
results = run_lm_eval(
    snakemake.input.model,
    [benchmark],
    limit=snakemake.params.limit,
    num_fewshot=snakemake.params.num_fewshot,
    apply_chat_template=snakemake.params.chat,
    include_path=snakemake.params.include_path,
    max_length=snakemake.params.max_length,
    gen_kwargs=snakemake.params.gen_kwargs,
    device=snakemake.params.device,
)
# A group benchmark (mmlu) reports its subtasks too; the table keeps the group's own row.
write_json({"task": benchmark, **results[benchmark]}, snakemake.output[0])
