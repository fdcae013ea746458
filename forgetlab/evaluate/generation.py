"""Batched greedy (or sampled) generation with HF ``generate``, and task accuracy from it."""

from __future__ import annotations

from ..stats import bootstrap_ci
from ..tasks import Task

__all__ = ["generate", "evaluate_records", "score_rows", "summarise"]


def generate(
    model, tokenizer, prompts: list[str], max_new_tokens: int = 64, batch_size: int = 16, temperature: float = 0.0
) -> list[str]:
    """One completion per chat prompt, in input order.

    Prompts are sorted by length so each batch pads little; the tokenizer must pad on the left.
    """
    import torch

    texts = [
        tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True)
        for p in prompts
    ]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    completions: list[str] = [""] * len(texts)
    # Plain sampling: no top-k/top-p truncation from the model's generation_config.
    sampling = {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0} if temperature > 0 else {"do_sample": False}
    model.eval()
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        encoded = tokenizer([texts[i] for i in batch], return_tensors="pt", padding=True, add_special_tokens=False)
        encoded = encoded.to(model.device)
        with torch.inference_mode():
            output = model.generate(
                **encoded,
                max_new_tokens=max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
                **sampling,
            )
        new_tokens = output[:, encoded["input_ids"].shape[1] :]
        for i, text in zip(batch, tokenizer.batch_decode(new_tokens, skip_special_tokens=True)):
            completions[i] = text
    return completions


def evaluate_records(
    model, tokenizer, task: Task, records: list[dict], max_new_tokens: int = 64, batch_size: int = 16
) -> tuple[dict, list[dict]]:
    """Greedy accuracy of ``model`` on ``records``: (metrics, one sample row per record)."""
    if not records:
        raise ValueError(f"no evaluation records for task {task.name!r}")
    completions = generate(model, tokenizer, [r["prompt"] for r in records], max_new_tokens, batch_size)
    samples = []
    for record, completion in zip(records, completions):
        score = task.score(record, completion)
        samples.append({**record, "completion": completion, "correct": score.correct, "formatted": score.formatted})
    return summarise(task.name, samples), samples


def score_rows(task: Task, rows: list[dict], source: str = "input") -> tuple[dict, list[dict]]:
    """Score rows holding a task record plus ``completion``: (metrics, per-row scores)."""
    scored = []
    for number, row in enumerate(rows, 1):
        where = f"{source}:{number}"
        if "completion" not in row:
            raise ValueError(f"{where}: row has no 'completion' field")
        task.check_record(row, where)
        score = task.score(row, str(row["completion"]))
        scored.append({"id": row.get("id", number - 1), "correct": score.correct, "formatted": score.formatted})
    if not scored:
        raise ValueError(f"{source}: no rows to score")
    return summarise(task.name, scored), scored


def summarise(task_name: str, samples: list[dict]) -> dict:
    """Accuracy and format rate (with bootstrap CIs) of scored sample rows."""
    correct = [s["correct"] for s in samples]
    formatted = [s["formatted"] for s in samples]
    metrics = {"task": task_name, "n": len(samples)}
    for name, values in (("accuracy", correct), ("format_rate", formatted)):
        low, high = bootstrap_ci(values)
        metrics[name] = sum(values) / len(values)
        metrics[f"{name}_ci"] = [low, high]
    return metrics
