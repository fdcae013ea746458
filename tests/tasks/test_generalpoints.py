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
