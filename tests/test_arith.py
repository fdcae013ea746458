import random
from fractions import Fraction

import pytest

from forgetlab.arith import ExpressionError, Limits, evaluate, literals, parse, safe_evaluate


def _random_tree(rng, depth):
    if depth == 0 or rng.random() < 0.3:
        return rng.randint(0, 30)
    return (rng.choice("+-*/"), _random_tree(rng, depth - 1), _random_tree(rng, depth - 1))


def _reference(tree):
    """Brute-force exact value of a tree we built ourselves (no parsing involved)."""
    if isinstance(tree, int):
        return Fraction(tree)
    op, left, right = tree
    a, b = _reference(left), _reference(right)
    if op == "/" and b == 0:
        raise ZeroDivisionError
    return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None}[op]


def _text(tree):
    if isinstance(tree, int):
        return str(tree)
    op, left, right = tree
    return f"({_text(left)} {op} {_text(right)})"


def test_matches_brute_force_reference_on_random_expressions():
    rng = random.Random(0)
    checked = 0
    for _ in range(2000):
        tree = _random_tree(rng, 4)
        try:
            expected = _reference(tree)
        except ZeroDivisionError:
            assert safe_evaluate(_text(tree)) is None
            continue
        assert safe_evaluate(_text(tree)) == expected
        checked += 1
    assert checked > 1000


@pytest.mark.parametrize(
    "text, value",
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),  # left associative
        ("8 / 4 / 2", 1),
        ("7 / 2 * 2", 7),  # exact, no float rounding
        ("-3 + 5", 2),
        ("2 × 3 − 1", 5),  # unicode operators models emit
        (" 4*5 ", 20),
        ("1.5 * 2", 3),
    ],
)
def test_values(text, value):
    assert safe_evaluate(text) == value


def test_literals_in_reading_order():
    assert literals(parse("(3 + 5) * 2 - 5")) == [3, 5, 2, 5]


def test_limits_are_configurable():
    with pytest.raises(ExpressionError, match="division"):
        parse("4 / 2", Limits(allow_division=False))
    with pytest.raises(ExpressionError, match="unary"):
        parse("-4 + 2", Limits(allow_unary_minus=False))


HOSTILE = [
    "9**9**9**9",
    "2 ** 100000",
    "(" * 10000 + "1" + ")" * 10000,
    "-" * 5000 + "1",
    "__import__('os').system('echo pwned')",
    "(1).__class__.__bases__",
    "open('/etc/passwd').read()",
    "lambda: 1",
    "1" * 100_000,
    "1 + " * 25_000 + "1",
    "9" * 13,
    "999999999999 * 999999999999 * 999999999999",
    "1 / 0",
    "1e999999",
    "",
    "   ",
    "1 +",
    "(1 + 2",
    "1 2",
    "x + 1",
    "\x00",
    "１ + ２",  # full-width digits are not ASCII digits
]


def test_hostile_inputs_are_rejected_and_never_raise():
    # how fast: benchmarks/scoring_throughput.py (hostile completions mixed in, and alone)
    for text in HOSTILE:
        assert safe_evaluate(text) is None, text


def test_intermediate_values_are_bounded():
    with pytest.raises(ExpressionError, match="range"):
        evaluate(parse("99999999 * 99999999 * 99999999"))
