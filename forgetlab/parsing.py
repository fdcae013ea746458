"""Pull answers out of completions. Linear-time on any input: no backtracking regex over the whole text."""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["extract_tag", "has_answer_format", "last_expression", "last_number", "parse_number"]

# A run of arithmetic characters; "6 + 8 = 14" yields "6 + 8 " and " 14".
_EXPRESSION_RUN = re.compile(r"[0-9][0-9+\-*/()×÷ .]*[0-9)]|\([0-9+\-*/()×÷ .]*[0-9)]")
_NUMBER = re.compile(r"-?[0-9][0-9,]*(?:\.[0-9]+)?")


def extract_tag(text: str, tag: str = "answer") -> str | None:
    """Content of the last ``<tag>...</tag>`` block, stripped; None when there is none."""
    close = text.rfind(f"</{tag}>")
    if close < 0:
        return None
    opening = f"<{tag}>"
    start = text.rfind(opening, 0, close)
    if start < 0:
        return None
    return text[start + len(opening) : close].strip()


def has_answer_format(text: str) -> bool:
    """Exactly one well-formed ``<answer>`` block, optionally preceded by one closed ``<think>`` block."""
    if text.count("<answer>") != 1 or text.count("</answer>") != 1:
        return False
    if text.find("<answer>") > text.find("</answer>"):
        return False
    thinks, closes = text.count("<think>"), text.count("</think>")
    if thinks != closes or thinks > 1:
        return False
    return thinks == 0 or text.find("<think>") < text.find("</think>") < text.find("<answer>")


def parse_number(token: str) -> Fraction | None:
    """'1,800.00' -> 1800; None when ``token`` is not a plain number."""
    cleaned = token.replace(",", "").strip()
    if not cleaned or len(cleaned) > 40:
        return None
    try:
        return Fraction(cleaned)
    except ValueError:
        return None


def last_number(text: str) -> Fraction | None:
    """The last number written in ``text`` (commas as thousands separators allowed)."""
    matches = _NUMBER.findall(text[-4000:])
    for token in reversed(matches):
        value = parse_number(token.rstrip(","))
        if value is not None:
            return value
    return None


def last_expression(text: str) -> str | None:
    """The last run of arithmetic characters holding an operator ('natural' answers without tags)."""
    candidates = [run.strip() for run in _EXPRESSION_RUN.findall(text[-4000:])]
    for candidate in reversed(candidates):
        if any(op in candidate[1:] for op in "+-*/×÷"):
            return candidate
    return None
