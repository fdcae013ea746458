"""GeneralPoints' graded reward as RL_Heals_SFT's environment computes it (utils_rl.py, ``step_rewards``, text
only): +5 for a correct formula; -3 for each illegal character or token sequence; -2 for numbers not on the cards
or used too often, and -2 for cards left unused; for a legal formula with the right numbers but another value, +1
when it cannot be evaluated yet is the start of a solution, else -1 where it leaves every solution.

Differences, each where forgetlab cannot or will not do what the study's code does: the formula is read with
forgetlab's own parser (the study calls Python's ``eval`` on model output); spaces are dropped first (the study's
JSON answers had none, and any character outside digits, operators and parentheses is illegal); the solutions a
formula may start are the record's one reference solution (the study's environment lists every solution of the
hand); a completion with no formula at all scores -1 (the study's code fails on it)."""

from __future__ import annotations

import re
from collections import Counter

from ..arith import ExpressionError, Limits, evaluate, parse

__all__ = ["STUDY_REWARDS", "graded_reward"]

STUDY_REWARDS = {"correct": 5.0, "partial": 1.0, "no_solution": -1.0, "incorrect_number": -2.0, "illegal": -3.0}
_TOKEN = re.compile(r"\d+|[+\-*/()]")
# the token types a token may follow (None: the formula's start)
_FOLLOWS = {
    "number": (None, "operator", "open"),
    "operator": ("number", "close"),
    "open": (None, "operator", "open"),
    "close": ("number", "close"),
}


def _kind(token: str) -> str:
    return "number" if token.isdigit() else {"(": "open", ")": "close"}.get(token, "operator")


def graded_reward(formula: str | None, numbers: list[int], target: int, solution: str, limits: Limits) -> float:
    """The study's reward of one formula for a hand of ``numbers`` (see the module's notes)."""
    if formula is None:
        return STUDY_REWARDS["no_solution"]
    formula = re.sub(r"\s+", "", formula.split("=", 1)[0])
    tokens = _TOKEN.findall(formula)
    if "".join(tokens) != formula:
        return STUDY_REWARDS["illegal"]
    reward, previous, depth = 0.0, None, 0
    for token in tokens:
        kind = _kind(token)
        legal = previous in _FOLLOWS[kind]
        if not legal or (kind == "close" and depth == 0):  # one penalty per token at most
            reward += STUDY_REWARDS["illegal"]
        elif kind in ("open", "close"):  # the study's stack moves on legal parentheses only
            depth += 1 if kind == "open" else -1
        previous = kind
    used, held = Counter(int(token) for token in tokens if token.isdigit()), Counter(numbers)
    if any(n not in held for n in used) or any(used[n] > held[n] for n in used):
        reward += STUDY_REWARDS["incorrect_number"]
    if any(held[n] > used[n] for n in held):
        reward += STUDY_REWARDS["incorrect_number"]
    if reward:
        return reward
    solution = re.sub(r"\s+", "", solution)
    try:
        if evaluate(parse(formula, limits), limits) == target:
            return STUDY_REWARDS["correct"]
    except (ExpressionError, RecursionError):
        if solution.startswith(formula):
            return STUDY_REWARDS["partial"]
    prefix = ""
    for token in tokens:  # where the formula leaves the solution: the study's "no solution"
        prefix += token
        if not solution.startswith(prefix):
            return STUDY_REWARDS["no_solution"]
    return 0.0
