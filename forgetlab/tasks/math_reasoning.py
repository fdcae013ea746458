"""Competition and reasoning math with LaTeX or symbolic answers (\\frac{1}{2}, 2\\sqrt{3}, x^2+1), checked by
math-verify. Default data: Open-Reasoner-Zero, hub Tonic/OpenReasonerZero (one split, train: train and test are
held apart by ``test_fraction``), whose rows are the release's [human turn, assistant turn] pairs as columns 0 and
1: the question at ``0.value``, the final answer at ``1.ground_truth.value``. The release's own JSON
(orz_math_57k_collected.json: a list of such pairs) reads with the same paths; ``question_field`` and
``answer_field`` name other datasets' columns (MATH: problem, answer)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import ClassVar

from ..options import option
from ..parsing import extract_tag, has_answer_format
from .base import Score
from .files import ANSWER_FIELD_HELP, HUB_CONFIG_HELP, HUB_ID_HELP, QUESTION_FIELD_HELP, HeldOutTask, field_at

__all__ = ["MathTask", "final_answer", "last_boxed"]

# math-verify's own limit per parse and per comparison; it needs the main thread (signal.alarm)
TIMEOUT_SECONDS = 5


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}``, nested braces and all; None when there is none or it is open."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, begin = 0, start + len("\\boxed{")
    for index in range(begin, min(len(text), begin + 2000)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            if depth == 0:
                return text[begin:index].strip()
            depth -= 1
    return None


def final_answer(completion: str) -> str | None:
    """The answer a completion commits to: the last ``\\boxed{}`` (inside ``<answer>`` when there is one), else
    the ``<answer>`` block; None when it marks none."""
    tagged = extract_tag(completion)
    text = tagged if tagged is not None else completion
    boxed = last_boxed(text)
    return boxed if boxed is not None else tagged


def _math_verify():
    try:
        import math_verify
    except ImportError:
        raise ImportError(
            "the math task checks answers with the math-verify package: pip install math-verify "
            "(a forgetlab dependency: pip install -c requirements/cpu.lock -e .)"
        ) from None
    return math_verify


def equivalent(reference: str, answer: str) -> bool:
    """Whether ``answer`` is mathematically the reference, as math-verify reads both as LaTeX. Only its LaTeX
    parser is used: its plain-expression reader hands text to sympy's eval-based parse_expr."""
    verifier = _math_verify()
    config = [verifier.LatexExtractionConfig()]
    limit = TIMEOUT_SECONDS if threading.current_thread() is threading.main_thread() else None
    gold = verifier.parse(f"\\boxed{{{reference}}}", extraction_config=config, parsing_timeout=limit)
    given = verifier.parse(f"\\boxed{{{answer}}}", extraction_config=config, parsing_timeout=limit)
    return bool(gold and given) and verifier.verify(gold, given, timeout_seconds=limit)


@dataclass(kw_only=True)
class MathTask(HeldOutTask):
    """Math with LaTeX or symbolic answers: the final answer (last \\boxed{} or the <answer> block) is checked
    with math-verify, so 0.5, \\frac{1}{2} and 1/2 are one answer."""

    tag = "math"
    hub_id: str = option("Tonic/OpenReasonerZero", HUB_ID_HELP)
    hub_config: str | None = option(None, HUB_CONFIG_HELP)
    question_field: str | None = option("0.value", QUESTION_FIELD_HELP)
    answer_field: str = option("1.ground_truth.value", ANSWER_FIELD_HELP)
    hub_splits: ClassVar[dict] = {"train": "train", "test": "train"}

    def __post_init__(self):
        super().__post_init__()
        _math_verify()  # a missing package stops the config, not the first score

    def convert(self, row, where: str) -> dict:
        paths = [self.question_field] if self.question_field else ["question", "prompt"]
        record = {}
        for name, candidates in (("question", paths), ("answer", [self.answer_field])):
            for path in candidates:
                try:
                    record[name] = str(field_at(row, path)).strip()
                    break
                except KeyError:
                    pass
            else:
                raise ValueError(f"{where}: row has no {' or '.join(map(repr, candidates))} field (task {self.name!r})")
        return record

    def keep(self, record: dict) -> bool:
        return bool(record["question"] and record["answer"])  # a row without a reference cannot be scored

    def natural_answer(self, record: dict) -> str:
        return f"The answer is $\\boxed{{{record['answer']}}}$."

    def example(self) -> dict:
        return {"question": "What is the value of $\\frac{3}{4} - \\frac{1}{4}$?", "answer": "\\frac{1}{2}"}

    def score(self, record: dict, completion: str) -> Score:
        answer = final_answer(completion)
        correct = answer is not None and equivalent(str(record["answer"]), answer)
        return Score(correct=float(correct), formatted=float(has_answer_format(completion)))
