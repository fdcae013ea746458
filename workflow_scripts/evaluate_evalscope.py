"""Adapter: one benchmark through evalscope (rules/evaluate.smk: evaluate_evalscope).

Runs in envs/evalscope.yaml, apart from the core install (evalscope pins older datasets/huggingface_hub and
needs transformers < 5), so it uses evalscope and the standard library only.
"""

import json
import math
import os
import sys
import tempfile

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
try:
    from evalscope import TaskConfig, run_task
except ImportError:
    raise SystemExit(
        "evalscope is not installed in this environment: run with --sdm conda (envs/evalscope.yaml), "
        "never `pip install evalscope` into the forgetlab environment (it downgrades datasets and huggingface_hub)"
    ) from None

benchmark, params = snakemake.wildcards.benchmark, snakemake.params
with tempfile.TemporaryDirectory() as work_dir:
    # few-shot count, local data and generation settings only when given: evalscope's own defaults otherwise
    dataset = {"few_shot_num": params.few_shot} if params.few_shot is not None else {}
    if params.dataset_dir:
        dataset["local_path"] = os.path.join(params.dataset_dir, benchmark)
    generation = {"generation_config": dict(params.generation_config)} if params.generation_config else {}
    config = TaskConfig(
        model=snakemake.input.model, datasets=[benchmark], limit=params.limit, eval_batch_size=params.batch_size,
        work_dir=work_dir, dataset_args={benchmark: dataset} if dataset else {}, **generation,
    )  # fmt: skip
    report = run_task(config)[benchmark]
# One number per evalscope metric (its score over `num` items), in the layout of the other metric files.
metrics = {"task": benchmark, "backend": "evalscope", "n": report.metrics[0].num if report.metrics else 0}
# A score evalscope could not compute is null, as in every JSON forgetlab writes (NaN is not JSON).
scores = {metric.name: float(metric.score) for metric in report.metrics}
metrics.update({name: score if math.isfinite(score) else None for name, score in scores.items()})
tmp = snakemake.output[0] + ".tmp"
with open(tmp, "w") as handle:
    json.dump(metrics, handle, indent=2, allow_nan=False)
os.replace(tmp, snakemake.output[0])
