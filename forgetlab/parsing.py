"""Pull answers out of completions. Linear-time on any input: no backtracking regex over the whole text."""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = [
    "choice_letter",
    "extract_tag",
    "final_number",
    "has_answer_format",
    "last_boxed",
    "last_expression",
    "last_number",
    "mentions_boxed",
    "parse_number",
]

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


_WELL_FORMED = (["<answer>", "</answer>"], ["<think>", "</think>", "<answer>", "</answer>"])


def _tag_sequence(text: str, limit: int = 64) -> list[str] | None:
    """The answer/think tags of ``text`` in order, found with C-speed str.find; None past ``limit`` hits."""
    found, hits = [], 0
    for name in ("answer>", "think>"):
        pos = text.find(name)
        while pos >= 0:
            hits += 1
            if hits > limit:
                return None
            if text.startswith("</", pos - 2):
                found.append((pos - 2, "</" + name))
            elif text.startswith("<", pos - 1):
                found.append((pos - 1, "<" + name))
            pos = text.find(name, pos + 1)
    return [tag for _, tag in sorted(found)]


def has_answer_format(text: str) -> bool:
    """Exactly one well-formed ``<answer>`` block, optionally preceded by one closed ``<think>`` block."""
    return _tag_sequence(text) in _WELL_FORMED


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


_BOXED = "\\boxed{"


def last_boxed(text: str, limit: int = 200, tries: int = 64) -> str | None:
    """Content of the last closed ``\\boxed{...}`` (nested braces allowed, at most ``limit`` characters) among the
    last ``tries`` openings, stripped; None when there is none. Bounded work on any input: the openings are found with
    str.rfind, each scanned ``limit`` characters at most."""
    start = len(text)
    for _ in range(tries):
        start = text.rfind(_BOXED, 0, start)
        if start < 0:
            return None
        depth, begin = 0, start + len(_BOXED)
        for index in range(begin, min(len(text), begin + limit + 1)):
            if text[index] == "{":
                depth += 1
            elif text[index] == "}":
                if not depth:
                    return text[begin:index].strip()
                depth -= 1
    return None


def mentions_boxed(text: str) -> bool:
    """Whether ``text`` holds ``boxed{...}``, backslash or not: seed 000's regex ``boxed\\{[^}]*\\}``, which
    matches exactly when a '}' follows the first 'boxed{', without its quadratic worst case."""
    start = text.find("boxed{")
    return start >= 0 and text.find("}", start) >= 0


_ANSWER_IS = re.compile(r"answer is\s*:?\s*([^\n]{0,60})", re.IGNORECASE)


def final_number(text: str) -> Fraction | None:
    """The final numeric answer of a worked solution, most explicit marker first.

    ``<answer>18</answer>``, ``\\boxed{18}``, ``#### 18``, "the answer is $1,800.00", else the last number.
    """
    tagged = extract_tag(text)
    if tagged is not None:
        return last_number(tagged)
    boxed = last_boxed(text[-4000:])
    if boxed is not None:
        return last_number(boxed)
    hashes = text.rfind("####")
    if hashes >= 0:
        match = _NUMBER.search(text, hashes, hashes + 80)
        return parse_number(match.group(0)) if match else None
    stated = _ANSWER_IS.findall(text[-4000:])
    if stated:
        match = _NUMBER.search(stated[-1])
        if match:
            return parse_number(match.group(0))
    return last_number(text)


_LETTER_PATTERNS = [
    re.compile(r"(?:answer|option|choice) is\s*:?\s*\(?\**([A-Ja-j])\b", re.IGNORECASE),
    re.compile(r"answer\s*:\s*\(?\**([A-J])\b", re.IGNORECASE),
    re.compile(r"^\s*\(?\**([A-J])\**\)?(?:[.:)]|\s|$)"),
    re.compile(r"\(([A-J])\)"),
    re.compile(r"\*\*([A-J])\*\*"),
]


def choice_letter(text: str, letters: str = "ABCD") -> str | None:
    """The option letter a completion chooses: tagged, 'The answer is (B)', 'B.', '**B**', '(B)'."""
    tagged = extract_tag(text)
    if tagged is not None:
        text = tagged
    text = text[:4000]
    for pattern in _LETTER_PATTERNS:
        found = [letter for letter in pattern.findall(text) if letter in letters]
        if found:
            return found[-1] if pattern is not _LETTER_PATTERNS[2] else found[0]
    return None
