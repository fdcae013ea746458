"""Countdown: generated problems, variants (more numbers, wider ranges, division), the exact scorer."""

import re

import pytest

from forgetlab.tasks import make_task


def test_countdown_records_carry_numbers_and_target():
    task = make_task("countdown", {"kind": "countdown", "numbers": 3, "min_number": 1, "max_number": 10})
    for record in task.build("train", 50, seed=0):
        assert len(record["numbers"]) == 3 and all(1 <= x <= 10 for x in record["numbers"])
        assert isinstance(record["target"], int)
        assert str(record["target"]) in record["prompt"]


COUNTDOWN = {"numbers": [3, 5, 2], "target": 16}


@pytest.mark.parametrize(
    "completion, correct, formatted",
    [
        ("<answer>(3 + 5) * 2</answer>", 1, 1),
        ("<think>3+5=8, 8*2=16</think>\n<answer>2 * (5 + 3)</answer>", 1, 1),
        ("<answer>(3 + 5) * 2 = 16</answer>", 1, 1),
        ("<answer>3 * 5 + 1</answer>", 0, 1),  # 1 is not a given number
        ("<answer>3 * 5 + 2 - 1</answer>", 0, 1),
        ("<answer>(3 + 5) * 2 * 1</answer>", 0, 1),  # extra number
        ("<answer>8 * 2</answer>", 0, 1),  # does not use every number
        ("(3 + 5) * 2", 0, 0),  # no tags
        ("<answer>(3+5)*2</answer> and <answer>1</answer>", 0, 0),  # last block counts, two blocks
        ("<answer>__import__('os')</answer>", 0, 1),
        ("<answer>16</answer>", 0, 1),
    ],
)
def test_countdown_scorer(completion, correct, formatted):
    task = make_task("countdown", {"kind": "countdown"})
    score = task.score(COUNTDOWN, completion)
    assert (score.correct, score.formatted) == (correct, formatted)


@pytest.mark.parametrize(
    "completion, correct, formatted",
    [
        ("3 + 5 = 8, then 8 * 2 = 16, so (3 + 5) * 2 = 16", 1, 0),
        ("(3 + 5) * 2", 1, 0),
        ("<answer>3 * 5 + 2</answer> but really (3 + 5) * 2", 0, 1),  # a tagged answer is final
        ("I think it is 16", 0, 0),
    ],
)
def test_countdown_natural_reading_when_tags_are_optional(completion, correct, formatted):
    task = make_task("countdown", {"kind": "countdown", "require_tags": False})
    score = task.score(COUNTDOWN, completion)
    assert (score.correct, score.formatted) == (correct, formatted)


def test_countdown_division_only_when_allowed():
    record = {"numbers": [8, 4, 3], "target": 6}
    assert make_task("c", {"kind": "countdown"}).score(record, "<answer>8 / 4 * 3</answer>").correct == 0
    assert (
        make_task("c", {"kind": "countdown", "operators": "+-*/"}).score(record, "<answer>8 / 4 * 3</answer>").correct
        == 1
    )


def test_impossible_request_fails_clearly():
    task = make_task("tiny", {"kind": "countdown", "numbers": 2, "max_number": 2, "max_target": 4})
    with pytest.raises(ValueError, match="cannot produce"):
        task.build("train", 100, seed=0)


def test_countdown_variants():
    four = make_task("c4", {"kind": "countdown", "numbers": 4, "operators": "+-*/"})
    wide = make_task("c-ood", {"kind": "countdown", "min_number": 20, "max_number": 99, "max_target": 1000})
    for task in (four, wide):
        records = task.build("test", 30, seed=1)
        assert all(task.score(r, task.reference(r)).correct for r in records)
    assert all(len(r["numbers"]) == 4 for r in four.build("test", 5))
    assert all(20 <= n <= 99 for r in wide.build("test", 5) for n in r["numbers"])


def test_cross_format_scoring_natural_reads_untagged_answers():
    task = make_task("countdown", {"kind": "countdown"})
    record = {"numbers": [3, 5, 2], "target": 16}
    assert task.score(record, "(3 + 5) * 2 = 16").correct == 0  # tags required by default
    assert task.for_format("natural").score(record, "(3 + 5) * 2 = 16").correct == 1


def test_the_countdown_seeds_generator_and_parity_split():
    from forgetlab.arith import evaluate, parse

    spec = {"kind": "countdown", "expressions": "left_assoc", "target_in_numbers": False, "split_by": "parity"}
    task = make_task("seed", {**spec, "n_train": 64, "n_test": 32})
    train, test = task.build("train"), task.build("test")
    assert all(any(n % 2 for n in r["numbers"]) for r in train)  # train: at least one odd number
    assert all(all(n % 2 == 0 for n in r["numbers"]) for r in test)  # test: all even
    for record in train + test:
        assert record["target"] not in record["numbers"]
        assert evaluate(parse(record["answer"])) == record["target"]
        # left-associative, ((a op b) op c): every right operand is a number, never a parenthesised expression
        assert not re.search(r"[-+*] \(", record["answer"]), record["answer"]
    with pytest.raises(Exception, match="split_by"):
        make_task("bad", {"kind": "countdown", "split_by": "odd"})
