from fractions import Fraction

import pytest

from forgetlab.parsing import extract_tag, has_answer_format, last_expression, last_number


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
