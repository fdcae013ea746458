import pytest

from forgetlab.data import build_split, load_source_records
from forgetlab.io import write_jsonl
from forgetlab.tasks import TASK_KINDS, make_task

SPECS = {
    "countdown": {"kind": "countdown"},
    "countdown4": {"kind": "countdown", "numbers": 4, "operators": "+-*/", "max_number": 20},
    "arithmetic": {"kind": "arithmetic"},
}


@pytest.mark.parametrize("name", SPECS)
def test_records_are_deterministic_distinct_and_disjoint(name):
    train = build_split(name, SPECS[name], "train", n=300, seed=3)
    test = build_split(name, SPECS[name], "test", n=50, seed=3)
    assert train == build_split(name, SPECS[name], "train", n=300, seed=3)
    assert train != build_split(name, SPECS[name], "train", n=300, seed=4)
    task = make_task(name, SPECS[name])
    train_keys = {task.key(r) for r in train}
    test_keys = {task.key(r) for r in test}
    assert len(train_keys) == 300 and len(test_keys) == 50
    assert not train_keys & test_keys
    # the whole test pool is excluded, so a larger test n later still does not overlap train
    assert not train_keys & {task.key(r) for r in build_split(name, SPECS[name], "test", n=200, seed=3)}


@pytest.mark.parametrize("name", SPECS)
def test_every_reference_solution_scores_one(name):
    task = make_task(name, SPECS[name])
    for record in task.build("test", 100, seed=0):
        score = task.score(record, task.reference(record))
        assert (score.correct, score.formatted) == (1.0, 1.0), record


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
    assert make_task("c", {"kind": "countdown", "operators": "+-*/"}).score(record, "<answer>8 / 4 * 3</answer>").correct == 1


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


def test_unknown_kind_and_option_name_the_problem():
    with pytest.raises(ValueError, match="unknown kind 'countdwn'.*Did you mean 'countdown'"):
        make_task("x", {"kind": "countdwn"})
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['digits'\]"):
        make_task("x", {"kind": "countdown", "digits": 3})


def test_impossible_request_fails_clearly():
    task = make_task("tiny", {"kind": "countdown", "numbers": 2, "max_number": 2, "max_target": 4})
    with pytest.raises(ValueError, match="cannot produce"):
        task.build("train", 100, seed=0)


def test_source_file_is_checked_naming_column_and_line(tmp_path):
    path = tmp_path / "mine.jsonl"
    write_jsonl([{"prompt": "p", "numbers": [1, 2], "target": 3}, {"prompt": "p", "numbers": [1, 2]}], path)
    with pytest.raises(ValueError, match=r"mine.jsonl:2: record has no 'target' field"):
        load_source_records("countdown", {"kind": "countdown"}, str(path), "test")


def test_registry_lists_the_builtin_tasks():
    assert {"countdown", "arithmetic"} <= set(TASK_KINDS)
