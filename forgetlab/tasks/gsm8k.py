"""GSM8K grade-school math: hub openai/gsm8k (config main) or local files with ``question`` and ``answer``
(a worked solution whose final value follows ``####``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ..options import option
from ..parsing import final_number, parse_number
from .base import Score
from .files import HUB_CONFIG_HELP, HUB_ID_HELP, FileTask

_CALCULATOR = re.compile(r"<<[^>]*>>")

# lm-eval-harness's GSM8K scoring, copied from lm_eval/tasks/gsm8k/gsm8k.yaml and gsm8k-cot.yaml: a filter's
# regex picks the answer (RegexFilter: its first match, or with group_select -1 its last; "[invalid]" when none),
# then exact_match compares it with the target after removing regexes_to_ignore, ignoring case.
_STRICT = re.compile(r"#### (\-?[0-9\.\,]+)")  # gsm8k.yaml strict-match
_STRICT_COT = re.compile(r"The answer is (\-?[0-9\.\,]+).")  # gsm8k-cot.yaml strict-match; "." is any character
_FLEXIBLE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")  # flexible-extract of both, group_select -1
_IGNORED = [re.compile(pattern) for pattern in (",", r"\$", "(?s).*#### ", r"\.$")]  # both yamls' exact_match
# Seed 000's eval_gsm8k.py: the last \boxed{} holding an integer, against the '####' answer.
_BOXED_INTEGER = re.compile(r"\\boxed\{\s*([-+]?\d+)\s*\}")


def _lenient(completion: str, answer: str) -> bool:
    value = final_number(completion)
    return value is not None and value == Fraction(answer.replace(",", ""))


def _boxed(completion: str, answer: str) -> bool:
    found = _BOXED_INTEGER.findall(completion)
    return bool(found) and Fraction(int(found[-1])) == Fraction(answer.replace(",", ""))


def _filtered(pattern: re.Pattern, text: str, last: bool = False) -> str:
    """What lm-eval's RegexFilter keeps of ``text``: the first (``last``: the last) match's first non-empty group."""
    found = pattern.findall(text)
    if not found:
        return "[invalid]"
    match = found[-1 if last else 0]
    if isinstance(match, tuple):
        match = next((group for group in match if group), "[invalid]")
    return match.strip()


def _normalised(text: str) -> str:
    for pattern in _IGNORED:
        text = pattern.sub("", text)
    return text.lower()


def _lm_eval(pattern: re.Pattern, last: bool = False):
    return lambda completion, answer: _normalised(_filtered(pattern, completion, last)) == _normalised(answer)


# correct(completion, answer text) of each extraction, by name
EXTRACTIONS = {
    "lenient": _lenient,
    "strict": _lm_eval(_STRICT),
    "strict_cot": _lm_eval(_STRICT_COT),
    "flexible": _lm_eval(_FLEXIBLE, last=True),
    "boxed": _boxed,
}


@dataclass(kw_only=True)
class GSM8KTask(FileTask):
    """Grade-school math word problems; the final number is scored, read as ``extraction`` says."""

    tag = "gsm8k"
    extractions = tuple(EXTRACTIONS)
    hub_id: str = option("openai/gsm8k", HUB_ID_HELP)
    hub_config: str | None = option("main", HUB_CONFIG_HELP)
    extraction: str = option(
        "lenient",
        "which answer extraction scores `correct` (evaluation, forgetlab score, RL rewards): lenient, the final number "
        "(<answer>, \\boxed{}, ####, 'the answer is', else the last number); lm-eval-harness's strict (the first "
        "'#### N'), strict_cot (the first 'The answer is N.') or flexible (the last number); boxed (seed 000's: the "
        "last \\boxed{} integer). Evaluation reports every one as accuracy_<name>",
        enum=list(EXTRACTIONS),
    )
    columns = ("question", "answer")

    def convert(self, row: dict, where: str) -> dict:
        worked, _, final = str(row["answer"]).rpartition("####")
        value = parse_number(final)
        if value is None:
            raise ValueError(f"{where}: answer has no final value after '####'")
        return {
            "question": row["question"],
            "answer": _number_text(value),
            "solution": _CALCULATOR.sub("", worked).strip(),
        }

    def reasoning(self, record: dict) -> str:
        return record.get("solution") or super().reasoning(record)

    def natural_answer(self, record: dict) -> str:
        return f"{self.reasoning(record)}\nThe answer is {record['answer']}."

    def example(self) -> dict:
        """The first of Memory-R's exemplars (utils_gsm8k.py:7-12, the chain-of-thought GSM8K exemplars' first)."""
        return {
            "question": "There are 15 trees in the grove. Grove workers will plant trees in the grove today. After "
            "they are done, there will be 21 trees. How many trees did the grove workers plant today?",
            "answer": "6",
            "solution": "There are 15 trees originally. Then there were 21 trees after some more were planted. So "
            "there must have been 21 - 15 = 6. So the answer is 6.",
        }

    def score(self, record: dict, completion: str) -> Score:
        answer = str(record["answer"])
        scores = {name: float(correct(completion, answer)) for name, correct in EXTRACTIONS.items()}
        formatted = float(self.well_formed(completion))
        return Score(correct=scores[self.extraction], formatted=formatted, extractions=scores)


def _number_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(float(value))
