"""The re-alignment test (Zheng et al., ICLR 2025, "Spurious Forgetting in Continual Learning of Language Models"):
if a few SFT steps on a few prior-task examples bring most of a checkpoint's lost accuracy back, the knowledge was
still there and the task alignment broke. The same steps from the reference measure what the examples teach on
their own (the control).

By default the examples teach the reference model's own correct completions, so the test re-aligns to the
reference's behaviour, its answer format included (a base model that answers arithmetic by writing the
expression first is re-aligned to that, not to bare answers in tags); ``targets`` may name a prompt format
instead: the task's reference answers in it.
"""

from __future__ import annotations

import os

from ..evaluate.config import EvaluateConfig
from ..tasks import Task
from .config import RealignConfig

__all__ = ["DEMONSTRATION", "demonstrations", "realign_stage"]

# The record field that holds an example's target completion (SFT trains on it instead of the task's answer)
DEMONSTRATION = "demonstration"


def demonstrations(
    reference_dir: str | os.PathLike,
    task: Task,
    records: list[dict],
    options: RealignConfig,
    *,
    style: str | None = None,
    chat: bool = EvaluateConfig.chat,
    system_prompt: str | None = EvaluateConfig.system_prompt,
    oneshot_example: str = EvaluateConfig.oneshot_example,
    max_new_tokens: int = EvaluateConfig.max_new_tokens,
    device: str = "auto",
) -> list[dict]:
    """The records the re-alignment trains on, each with its ``demonstration``: with ``targets: reference`` the
    reference model's greedy completions (prompt format ``style``) of the first ``candidates`` records, the first
    ``n`` it answers right; with a format, the first ``n`` records and the task's answers in it."""
    if options.targets != "reference":
        return [{**record, DEMONSTRATION: task.reference(record, options.targets)} for record in records[: options.n]]
    from ..evaluate.engines import open_engine
    from ..evaluate.generation import evaluate_records
    from ..models import load_tokenizer, resolve_device

    candidates = records[: options.candidates]
    tokenizer = load_tokenizer(reference_dir)
    engine = open_engine("hf", reference_dir, tokenizer, device=resolve_device(device))
    _, rows = evaluate_records(
        engine, tokenizer, task, candidates, max_new_tokens, style, chat, system_prompt, oneshot_example, progress=True
    )
    engine.close()
    right = [{**record, DEMONSTRATION: row["completion"]} for record, row in zip(candidates, rows) if row["correct"]]
    if not right:
        raise ValueError(
            f"the reference answers none of {len(candidates)} {task.name} train records right: nothing of its own "
            "to re-align to (set analysis.realign.targets to a prompt format, or raise candidates)"
        )
    return right[: options.n]


def realign_stage(
    options: RealignConfig,
    task: str,
    style: str | None,
    chat: bool = EvaluateConfig.chat,
    system_prompt: str | None = EvaluateConfig.system_prompt,
    oneshot_example: str = EvaluateConfig.oneshot_example,
) -> dict:
    """The SFT stage the test runs (a stage config, as ``stages.<label>``): prompts as the evaluation shows them."""
    return {
        "method": "sft", "task": task, "lr": options.lr, "steps": options.steps, "batch_size": options.batch_size,
        "seed": options.seed, "save_every": 0, "resume_every": 0, "format": style, "chat": chat,
        "system_prompt": system_prompt, "oneshot_example": oneshot_example,
    }  # fmt: skip
