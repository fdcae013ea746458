"""Standard benchmarks through lm-evaluation-harness (Python API; the checkpoint is loaded once per call).

Real runs name hub tasks (hellaswag, truthfulqa_mc2, mmlu, ifeval, winogrande, humaneval, ...). Offline, a
folder of task YAMLs over local files is passed as ``include_path`` (lm-eval's own mechanism).
"""

from __future__ import annotations

import os

from ..models import load_model, load_tokenizer, resolve_device

__all__ = ["harness_metrics", "run_lm_eval"]

# Tasks whose scoring runs model-written code: lm-eval asks for explicit consent.
UNSAFE_TASKS = {"humaneval", "humaneval_plus", "mbpp", "mbpp_plus"}


def harness_metrics(task_results: dict) -> dict:
    """lm-eval's {"acc,none": v, "acc_stderr,none": s, ...} -> {"acc": v, "acc_ci": [v - 1.96 s, v + 1.96 s]}."""
    metrics = {}
    for key, value in task_results.items():
        name, _, filter_name = key.partition(",")
        if "_stderr" in name or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        label = name if filter_name in ("", "none") else f"{name}:{filter_name}"
        metrics[label] = float(value)
        stderr = task_results.get(f"{name}_stderr,{filter_name}" if filter_name else f"{name}_stderr")
        if isinstance(stderr, (int, float)):
            metrics[f"{label}_ci"] = [float(value) - 1.96 * stderr, float(value) + 1.96 * stderr]
    return metrics


def run_lm_eval(
    model_dir: str | os.PathLike,
    tasks: list[str],
    limit: int | float | None = None,
    num_fewshot: int | None = None,
    apply_chat_template: bool = False,
    include_path: str | None = None,
    max_length: int | None = None,
    gen_kwargs: dict | None = None,
    batch_size: int = 8,
    seed: int = 0,
    device: str = "auto",
) -> dict[str, dict]:
    """{task: metrics} for ``tasks`` on the HF folder ``model_dir``, loaded on ``device`` (auto: CUDA when present);
    ``max_length`` caps the context, ``gen_kwargs`` override the generative tasks' settings."""
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    device = resolve_device(device)
    model = load_model(model_dir, device)
    context = {"max_length": max_length} if max_length else {}
    lm = HFLM(pretrained=model, tokenizer=load_tokenizer(model_dir), batch_size=batch_size, device=device, **context)
    output = simple_evaluate(
        model=lm,
        tasks=list(tasks),
        limit=limit,
        num_fewshot=num_fewshot,
        gen_kwargs=dict(gen_kwargs) if gen_kwargs else None,
        apply_chat_template=apply_chat_template,
        task_manager=TaskManager(include_path=include_path) if include_path else TaskManager(),
        log_samples=False,
        bootstrap_iters=1000,
        random_seed=seed,
        numpy_random_seed=seed,
        torch_random_seed=seed,
        confirm_run_unsafe_code=bool(UNSAFE_TASKS & set(tasks)),
    )
    return {task: harness_metrics(results) for task, results in output["results"].items()}
