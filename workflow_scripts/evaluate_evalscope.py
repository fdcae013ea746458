"""Adapter: one benchmark through evalscope (rules/evaluate.smk: evaluate_evalscope).

Runs apart from the core install (envs/evalscope.yaml, or .venvs/evalscope from requirements/venv.sh: evalscope pins
older datasets/huggingface_hub and needs transformers < 5), so it uses evalscope and the standard library only.
"""

import json
import math
import os
import sys
import tempfile

# transformers 5 writes its generic fast tokenizer under a name transformers 4 does not know
TOKENIZER_CLASSES = {"TokenizersBackend": "PreTrainedTokenizerFast"}
REWRITTEN = ("config.json", "tokenizer_config.json")


def transformers4_view(model_dir: str, view_dir: str) -> str:
    """``view_dir`` made a folder transformers 4 reads as the checkpoint ``model_dir`` that transformers 5 wrote:
    links to its files, with config.json's ``rope_parameters`` back as ``rope_theta`` and ``rope_scaling`` (read
    as they are, transformers 4 ignores them and runs the model with its default RoPE base) and
    tokenizer_config.json's class under a name transformers 4 has. A transformers 4 checkpoint comes through
    unchanged."""
    os.makedirs(view_dir, exist_ok=True)
    for name in os.listdir(model_dir):
        if name not in REWRITTEN:
            os.symlink(os.path.abspath(os.path.join(model_dir, name)), os.path.join(view_dir, name))
    with open(os.path.join(model_dir, "config.json")) as handle:
        config = json.load(handle)
    rope = config.pop("rope_parameters", None)
    if rope:
        if any(isinstance(value, dict) for value in rope.values()):
            raise SystemExit(
                f"{model_dir}: RoPE settings per layer type (rope_parameters: {rope}) have no transformers 4 form; "
                "evalscope (transformers < 5) cannot evaluate this model as trained"
            )
        rope = dict(rope)
        for key in ("rope_theta", "partial_rotary_factor"):
            if key in rope:
                config[key] = rope.pop(key)
        config["rope_scaling"] = rope if rope.get("rope_type", rope.get("type", "default")) != "default" else None
    with open(os.path.join(view_dir, "config.json"), "w") as handle:
        json.dump(config, handle, indent=2)
    tokenizer_config = os.path.join(model_dir, "tokenizer_config.json")
    if os.path.exists(tokenizer_config):
        with open(tokenizer_config) as handle:
            settings = json.load(handle)
        name = settings.get("tokenizer_class")
        settings["tokenizer_class"] = TOKENIZER_CLASSES.get(name, name)
        with open(os.path.join(view_dir, "tokenizer_config.json"), "w") as handle:
            json.dump(settings, handle, indent=2)
    return view_dir


def metrics_of(benchmark: str, report) -> dict:
    """One number per evalscope metric (its score over ``num`` items), in the layout of the other metric files;
    a score evalscope could not compute is null, as in every JSON forgetlab writes (NaN is not JSON)."""
    if not report or not report.metrics:  # evalscope returns {} when no subset held an item it could score
        raise SystemExit(f"evalscope scored no item of {benchmark} (its log above says why): no metrics to write")
    metrics = {"task": benchmark, "backend": "evalscope", "n": report.metrics[0].num}
    scores = {metric.name: float(metric.score) for metric in report.metrics}
    metrics.update({name: score if math.isfinite(score) else None for name, score in scores.items()})
    return metrics


def main():
    sys.stderr = sys.stdout = open(snakemake.log[0], "w")
    try:
        from evalscope import TaskConfig, run_task
    except ImportError:
        raise SystemExit(
            "evalscope is not installed in this environment: run with --sdm conda (envs/evalscope.yaml) or under "
            ".venvs/evalscope's python (bash requirements/venv.sh evalscope), never `pip install evalscope` into "
            "the forgetlab environment (it downgrades transformers, datasets and huggingface_hub)"
        ) from None

    benchmark, params = snakemake.wildcards.benchmark, snakemake.params
    with tempfile.TemporaryDirectory() as work_dir:
        model = transformers4_view(snakemake.input.model, os.path.join(work_dir, "model"))
        # few-shot count, local data and generation settings only when given: evalscope's own defaults otherwise
        dataset = {"few_shot_num": params.few_shot} if params.few_shot is not None else {}
        if params.dataset_dir:
            dataset["local_path"] = os.path.join(params.dataset_dir, benchmark)
        generation = {"generation_config": dict(params.generation_config)} if params.generation_config else {}
        config = TaskConfig(
            model=model, datasets=[benchmark], limit=params.limit, eval_batch_size=params.batch_size,
            work_dir=os.path.join(work_dir, "outputs"), dataset_args={benchmark: dataset} if dataset else {},
            **generation,
        )  # fmt: skip
        metrics = metrics_of(benchmark, run_task(config)[benchmark])
    tmp = snakemake.output[0] + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(metrics, handle, indent=2, allow_nan=False)
    os.replace(tmp, snakemake.output[0])


if __name__ == "__main__":  # Snakemake runs the script; tests import its functions
    main()
