import re
from fractions import Fraction

import pytest

from forgetlab.parsing import (
    extract_tag,
    final_number,
    has_answer_format,
    last_boxed,
    last_expression,
    last_number,
    mentions_boxed,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<answer>3 + 4</answer>", "3 + 4"),
        ("<think>try</think>\n<answer> 12 </answer>", "12"),
        ("<answer>1</answer> then <answer>2</answer>", "2"),  # the last block counts
        ("<answer>unclosed", None),
        ("no tags at all", None),
        ("</answer><answer>", None),
    ],
)
def test_extract_tag(text, expected):
    assert extract_tag(text) == expected


@pytest.mark.parametrize(
    "text, ok",
    [
        ("<answer>1 + 2</answer>", True),
        ("<think>a</think><answer>1</answer>", True),
        ("  <think>\nx\n</think>\n<answer>1</answer>\n", True),
        ("<answer>1</answer><answer>2</answer>", False),
        ("<answer>1", False),
        ("<think>x<answer>1</answer>", False),
        ("<answer>1</answer><think>x</think>", False),
        ("</think><think><answer>1</answer>", False),
        ("the answer> is <answer>1</answer>", True),
        ("plain text", False),
    ],
)
def test_has_answer_format(text, ok):
    assert has_answer_format(text) is ok


@pytest.mark.parametrize(
    "text, value",
    [
        ("7 + 5 = 12", 12),
        ("The answer is 1,800.", 1800),
        ("it is -3", -3),
        ("2.50 dollars", Fraction(5, 2)),
        ("none here", None),
    ],
)
def test_last_number(text, value):
    assert last_number(text) == value


HOSTILE_TAGS = {
    "open tags": ("<answer>" * 20_000 + "x" * 100_000, None, False),
    "angle brackets": ("<" * 100_000, None, False),
    "angle brackets then an answer": ("<" * 50_000 + "<answer>1</answer>", "1", True),
    "close tags": ("</answer>" * 10_000, None, False),
    "bare tag names": ("answer>" * 20_000, None, False),
}


@pytest.mark.parametrize("name", HOSTILE_TAGS)
def test_tag_parsing_on_hostile_text(name):
    text, tagged, formatted = HOSTILE_TAGS[name]
    assert extract_tag(text) == tagged
    assert has_answer_format(text) is formatted


@pytest.mark.parametrize(
    "text, expected",
    [
        ("6 + 8 = 14", "6 + 8"),
        ("so (3 + 5) * 2 = 16.", "(3 + 5) * 2"),
        ("first 1 + 2, finally 4 * 5", "4 * 5"),
        ("the answer is 7", None),
        ("", None),
    ],
)
def test_last_expression(text, expected):
    assert last_expression(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("so \\boxed{18}.", "18"),
        ("\\boxed{1} then \\boxed{ 2 }", "2"),  # the last box, stripped
        ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),  # nested braces
        ("\\boxed{3} and a cut-off \\boxed{4", "3"),  # the last closed box
        ("\\boxed{}", ""),
        ("boxed{5}", None),  # no backslash: not LaTeX's box
        ("\\boxed{" + "9" * 300 + "}", None),  # longer than a final answer
        ("no box", None),
    ],
)
def test_last_boxed(text, expected):
    assert last_boxed(text) == expected


def test_final_number_reads_the_last_box_when_there_are_no_tags():
    assert final_number("\\boxed{1} no, \\boxed{2,000}") == 2000
    assert final_number("<answer>7</answer> \\boxed{8}") == 7


SEED_BOXED = re.compile(r"boxed\{[^}]*\}")  # seed 000's strict_format_reward_func


@pytest.mark.parametrize(
    "text",
    ["\\boxed{18}", "boxed{18}", "boxed{", "boxed{ then } later", "}boxed{", "box{1}", "boxed {1}", "a boxed{}", ""],
)
def test_mentions_boxed_is_the_seeds_regex(text):
    assert mentions_boxed(text) == (SEED_BOXED.search(text) is not None)


def test_box_parsing_on_hostile_text():
    assert last_boxed("\\boxed{" * 20_000 + "x" * 100_000) is None  # 64 openings tried, 200 characters each
    assert last_boxed("\\boxed{1}" + "\\boxed{" * 63) == "1" and last_boxed("\\boxed{1}" + "\\boxed{" * 64) is None
    assert not mentions_boxed("boxed{" * 50_000) and mentions_boxed("boxed{" * 50_000 + "}")
