"""Adapter: one analysis of a checkpoint against its reference (rules/analysis.smk: analysis_checkpoint)."""

import sys

import pandas as pd

from forgetlab.analysis import analysis_rows, run_analysis
from forgetlab.io import read_jsonl, write_json
from forgetlab.report import FigureData, draw_figure
from forgetlab.tasks import make_task
from forgetlab.threads import limit_threads

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
limit_threads(snakemake.threads)

name, params, inputs = snakemake.wildcards.analysis, snakemake.params, snakemake.input
task = make_task(params.task_name, params.task) if params.task_name else None
rows = None
if hasattr(inputs, "samples"):  # the checkpoint's own evaluation items: prompts as shown, and which it got right
    count = params.settings.get("n_answers") or params.settings["n"]
    rows = analysis_rows(task, read_jsonl(inputs.samples), params.style, count, params.oneshot_example)
spectra = (inputs.reference_spectrum, inputs.model_spectrum) if hasattr(inputs, "model_spectrum") else (None, None)
result = run_analysis(
    name, inputs.reference, inputs.model, params.settings, task, rows, params.style, params.chat, params.system_prompt,
    params.device, spectra,
)  # fmt: skip
table = pd.DataFrame(result["rows"]).assign(checkpoint=snakemake.wildcards.checkpoint)
table.to_csv(snakemake.output.table, index=False)
draw_figure(name, FigureData(pd.DataFrame(), analysis={name: table}), [snakemake.output.figure])
write_json({"analysis": name, "reference": inputs.reference, **result}, snakemake.output.summary)
