"""GeneralPoints: in- and out-of-distribution hands, exact scoring against the hand."""

import pytest

from forgetlab.tasks import make_task
from forgetlab.tasks.generalpoints import solve
from forgetlab.validation import ConfigError


def test_generalpoints_in_and_out_of_distribution():
    iid = make_task("gp", {"kind": "generalpoints"}).build("test", 40, seed=0)
    ood_task = make_task("gp-ood", {"kind": "generalpoints", "ood": True})
    ood = ood_task.build("test", 40, seed=0)
    face = {"J": 11, "Q": 12, "K": 13}
    for record in ood:
        assert {"J", "Q", "K"} & set(record["cards"])
        assert [face.get(c, 1 if c == "A" else int(c) if c.isdigit() else 0) for c in record["cards"]] == record[
            "numbers"
        ]
        assert ood_task.score(record, ood_task.reference(record)).correct == 1.0
    assert all(v <= 10 for r in iid for v in r["numbers"])


def test_generalpoints_scoring_is_exact_and_checks_the_hand():
    task = make_task("gp", {"kind": "generalpoints"})
    record = {"cards": ["3", "3", "8", "8"], "numbers": [3, 3, 8, 8], "target": 24}
    assert task.score(record, "<answer>8 / (3 - 8 / 3)</answer>").correct == 1  # needs exact fractions
    assert task.score(record, "<answer>8 * 3</answer>").correct == 0  # not every card
    assert task.score(record, "<answer>8 * 3 + 8 - 8</answer>").correct == 0  # 3 used once, 8 three times
    assert solve([1, 1, 1, 1], 24) is None


def test_the_verifier_says_why_an_answer_fails_as_the_study_does():
    task = make_task("gp", {"kind": "generalpoints"})
    record = {"cards": ["3", "3", "8", "8"], "numbers": [3, 3, 8, 8], "target": 24}
    said = {
        "<answer>8 / (3 - 8 / 3)</answer>": None,
        "<answer>8 / (3 - 8 / 3) = 24</answer>": None,
        "I think it is 24.": "You failed this trial because no formula was found in your answer.",
        "<answer>8 * 3</answer>": "You failed this trial because your formula does not use each card's number "
        "exactly once.",
        "<answer>8 * (3 +</answer>": "You failed this trial because your formula is illegal.",
        "<answer>8 / (3 - 3) + 8</answer>": "You failed this trial because your formula is illegal.",  # 8 / 0
        "<answer>8 + 8 + 3 + 3</answer>": "You failed this trial because your formula is incorrect.",
    }
    for completion, message in said.items():
        assert task.feedback(record, completion) == message, completion
        assert (message is None) == bool(task.score(record, completion).correct)


def test_only_a_task_with_a_verifier_takes_several_tries():
    assert make_task("gp", {"kind": "generalpoints", "verify_iter": 5}).verify_iter == 5
    assert make_task("gp", {"kind": "generalpoints"}).verify_iter == 1
    with pytest.raises(ConfigError, match="verify_iter"):
        make_task("sum", {"kind": "arithmetic", "verify_iter": 2})


@pytest.mark.parametrize(
    "formula, expected",
    [
        ("(10+2)*2", 5.0),  # right: +5
        ("(10 + 2) * 2", 5.0),  # spaces dropped first
        ("10*2+2+2", -2.0),  # a 2 too many: -2
        ("10*2", -2.0),  # cards unused: -2
        ("10*2+5", -4.0),  # 5 is not a card (-2) and a 2 unused (-2)
        ("(10+2)*2x", -3.0),  # an illegal character
        ("10+)2*2(", -9.0),  # ')' after an operator, a number after ')', '(' after a number: -3 each
        ("(10+2", -2.0),  # the numbers first: a 2 unused
        ("10)(+2)*2", -12.0),  # both ")" unmatched: the illegal "(" never opened; "(" and "+" out of place
        ("10+2+2", -1.0),  # legal, the right cards, but 14: it leaves the solution at once
        (None, -1.0),  # no formula
    ],
)
def test_the_studys_graded_reward(formula, expected):
    from forgetlab.arith import Limits
    from forgetlab.tasks.gp_reward import graded_reward

    assert graded_reward(formula, [10, 2, 2], 24, "(10 + 2) * 2", Limits(allow_division=True)) == expected


def test_a_formula_the_parser_cannot_finish_that_starts_the_solution_is_partial():
    from forgetlab.arith import Limits
    from forgetlab.tasks.gp_reward import graded_reward

    # a 1-card hand keeps the number checks quiet: "(7" starts the solution "(7)" and cannot be evaluated
    assert graded_reward("(7", [7], 24, "(7)", Limits(allow_division=True)) == 1.0
    assert graded_reward("(8", [8], 24, "(7)", Limits(allow_division=True)) == -1.0  # unfinished, off the solution
