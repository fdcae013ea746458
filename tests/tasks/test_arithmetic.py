"""Arithmetic: the prior task's scorer, and records from a user's file."""

import pytest

from forgetlab.prompts import render_prompt
from forgetlab.tasks import make_task


@pytest.mark.parametrize(
    "completion, correct",
    [
        ("<answer>42</answer>", 1),
        ("40 + 2 = 42", 1),
        ("The answer is 42.", 1),
        ("<answer>40 + 2 = 42</answer>", 1),
        ("<answer>41</answer> wait, 42", 0),  # the tagged answer wins
        ("forty-two", 0),
        ("", 0),
    ],
)
def test_arithmetic_scorer(completion, correct):
    task = make_task("arithmetic", {"kind": "arithmetic"})
    assert task.score({"answer": "42"}, completion).correct == correct


def test_a_users_record_without_operands_still_has_a_think_reference():
    task = make_task("arithmetic", {"kind": "arithmetic"})
    record = {"question": "What is 2 + 3?", "answer": "5"}
    assert task.score(record, task.reference(record, "think")).correct == 1.0
    assert render_prompt(task, record, "think").startswith("What is 2 + 3?")
