"""Prompt formats: how a task's question is put to the model and what the model is asked to write.

  answer   the question, then: write only the final answer between <answer> tags (short; the CPU default)
  think    zero-shot: reason between <think> tags, then the answer between <answer> tags
  oneshot  a worked example in the think/answer format first, then the question
  natural  the question alone; the answer is read from the text (last valid expression or number)

``chat`` (separately) chooses the model's chat template or a plain completion prompt.
"""

from __future__ import annotations

import random

__all__ = ["FORMATS", "INSTRUCTIONS", "curriculum_formats", "plain_prompt", "reference_completion", "render_prompt"]

FORMATS = ("answer", "think", "oneshot", "natural")

INSTRUCTIONS = {
    "answer": "Write only the final answer between <answer> and </answer>.",
    "think": "Think step by step between <think> and </think>, then write only the final answer between "
    "<answer> and </answer>.",
    "natural": "",
}


def _check(style: str) -> None:
    if style not in FORMATS:
        raise ValueError(f"unknown prompt format {style!r}; known: {list(FORMATS)}")


def render_prompt(task, record: dict, style: str) -> str:
    """The user message for ``record`` of ``task`` in ``style``."""
    _check(style)
    question = task.question(record)
    if style == "oneshot":
        example = task.example()
        shown = reference_completion(task, example, "think")
        return (
            f"Example:\n{task.question(example)}\n{INSTRUCTIONS['think']}\n{shown}\n\n"
            f"Now solve this one:\n{question}\n{INSTRUCTIONS['think']}"
        )
    instruction = INSTRUCTIONS[style]
    return f"{question} {instruction}" if instruction else question


def reference_completion(task, record: dict, style: str) -> str:
    """What a perfect answer to ``record`` looks like in ``style`` (the SFT target); a one-shot prompt is
    answered in the think format its example shows."""
    _check(style)
    answer = task.answer_text(record)
    if style == "answer":
        return f"<answer>{answer}</answer>"
    if style == "natural":
        return task.natural_answer(record)
    return f"<think>{task.reasoning(record)}</think>\n<answer>{answer}</answer>"


def plain_prompt(text: str) -> str:
    """Completion-style prompt for models used without their chat template."""
    return f"Question: {text}\nAnswer:"


def curriculum_formats(count: int, style: str, mix_oneshot: float, seed: int = 0) -> list[str]:
    """Formats for ``count`` prompts in training order: one-shot with probability decaying linearly
    from ``mix_oneshot`` at the first prompt to 0 at the last (the one-shot -> zero-shot curriculum)."""
    if not 0.0 <= mix_oneshot <= 1.0:
        raise ValueError(f"mix_oneshot must lie in [0, 1], not {mix_oneshot}")
    rng = random.Random(seed)
    return ["oneshot" if rng.random() < mix_oneshot * (1 - i / max(count - 1, 1)) else style for i in range(count)]
