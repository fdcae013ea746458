"""A bounded, exact arithmetic evaluator for model-written expressions.

Model output is never handed to Python's ``eval``/``exec`` or even to ``ast.parse``: a hand-written
tokenizer and recursive-descent parser accept only numbers, ``+ - * /`` and parentheses, and every
resource (text length, token count, nesting depth, number size) is capped before work is done.
Arithmetic is exact (``fractions.Fraction``), so ``7 / 2 * 2`` equals 7 and 24-point style checks
need no float tolerance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Expr", "ExpressionError", "Limits", "evaluate", "literals", "parse", "safe_evaluate"]


class ExpressionError(ValueError):
    """The text is not an admissible expression, or evaluating it would exceed a limit."""


@dataclass(frozen=True)
class Limits:
    max_chars: int = 512
    max_tokens: int = 128
    max_depth: int = 24
    max_literal_digits: int = 12
    max_abs_value: int = 10**15
    allow_division: bool = True
    allow_unary_minus: bool = True


DEFAULT_LIMITS = Limits()

# Unicode operators models like to emit; mapped before tokenizing.
_TRANSLATE = str.maketrans({"×": "*", "÷": "/", "−": "-", "–": "-", "·": "*"})
_TOKEN = re.compile(r"\s*(?:([0-9]+(?:\.[0-9]+)?)|(.))")  # ASCII digits only


@dataclass(frozen=True)
class Expr:
    """A parsed expression: ``op`` is 'num', 'neg' or one of '+-*/'."""

    op: str
    value: Fraction | None = None
    left: Expr | None = None
    right: Expr | None = None


def _tokenize(text: str, limits: Limits) -> list[str]:
    if len(text) > limits.max_chars:
        raise ExpressionError(f"expression longer than {limits.max_chars} characters")
    tokens: list[str] = []
    pos = 0
    text = text.translate(_TRANSLATE).strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # only trailing whitespace is left
            break
        number, symbol = match.groups()
        if number is not None:
            if len(number.replace(".", "")) > limits.max_literal_digits:
                raise ExpressionError(f"number literal with more than {limits.max_literal_digits} digits")
            tokens.append(number)
        elif symbol in "+-*/()":
            tokens.append(symbol)
        else:
            raise ExpressionError(f"unexpected character {symbol!r}")
        if len(tokens) > limits.max_tokens:
            raise ExpressionError(f"more than {limits.max_tokens} tokens")
        pos = match.end()
    if not tokens:
        raise ExpressionError("empty expression")
    return tokens


class _Parser:
    def __init__(self, tokens: list[str], limits: Limits):
        self.tokens, self.limits, self.pos = tokens, limits, 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ExpressionError("unexpected end of expression")
        self.pos += 1
        return token

    def expression(self, depth: int) -> Expr:
        if depth > self.limits.max_depth:
            raise ExpressionError(f"nesting deeper than {self.limits.max_depth}")
        node = self.term(depth)
        while self.peek() in ("+", "-"):
            op = self.take()
            node = Expr(op, left=node, right=self.term(depth))
        return node

    def term(self, depth: int) -> Expr:
        node = self.unary(depth)
        while self.peek() in ("*", "/"):
            op = self.take()
            if op == "/" and not self.limits.allow_division:
                raise ExpressionError("division is not allowed")
            node = Expr(op, left=node, right=self.unary(depth))
        return node

    def unary(self, depth: int) -> Expr:
        if self.peek() == "-":
            if not self.limits.allow_unary_minus:
                raise ExpressionError("unary minus is not allowed")
            self.take()
            return Expr("neg", left=self.unary(depth + 1))
        return self.atom(depth)

    def atom(self, depth: int) -> Expr:
        token = self.take()
        if token == "(":
            node = self.expression(depth + 1)
            if self.take() != ")":
                raise ExpressionError("unbalanced parenthesis")
            return node
        if token[0] in "0123456789":
            return Expr("num", value=Fraction(token))
        raise ExpressionError(f"unexpected token {token!r}")


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> Expr:
    """Parse ``text`` into an :class:`Expr`; raises :class:`ExpressionError` on anything else."""
    parser = _Parser(_tokenize(text, limits), limits)
    node = parser.expression(0)
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected token {parser.peek()!r}")
    return node


def evaluate(node: Expr, limits: Limits = DEFAULT_LIMITS) -> Fraction:
    """Exact value of ``node``; any intermediate beyond ``max_abs_value`` raises."""
    if node.op == "num":
        value = node.value
    elif node.op == "neg":
        value = -evaluate(node.left, limits)
    else:
        left, right = evaluate(node.left, limits), evaluate(node.right, limits)
        if node.op == "+":
            value = left + right
        elif node.op == "-":
            value = left - right
        elif node.op == "*":
            value = left * right
        elif right == 0:
            raise ExpressionError("division by zero")
        else:
            value = left / right
    # Bound numerator and denominator so chains of divisions cannot grow huge fractions either.
    if abs(value.numerator) > limits.max_abs_value or value.denominator > limits.max_abs_value:
        raise ExpressionError("intermediate value out of range")
    return value


def literals(node: Expr) -> list[Fraction]:
    """The number literals of ``node`` in reading order."""
    if node.op == "num":
        return [node.value]
    found = literals(node.left)
    if node.right is not None:
        found += literals(node.right)
    return found


def safe_evaluate(text: str, limits: Limits = DEFAULT_LIMITS) -> Fraction | None:
    """Value of ``text`` or None when it is not an admissible expression. Never raises."""
    try:
        return evaluate(parse(text, limits), limits)
    except (ExpressionError, RecursionError, ValueError, ZeroDivisionError):
        return None
