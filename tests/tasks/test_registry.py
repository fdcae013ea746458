"""Every task kind through the registry: deterministic, disjoint splits; references that score; checked options
and records."""

import pytest

from forgetlab.options import ConfigError
from forgetlab.tasks import TASK_KINDS, GeneratedTask, make_task

SPECS = {
    "countdown": {"kind": "countdown"},
    "countdown4": {"kind": "countdown", "numbers": 4, "operators": "+-*/", "max_number": 20},
    "arithmetic": {"kind": "arithmetic"},
}


@pytest.mark.parametrize("name", SPECS)
def test_records_are_deterministic_distinct_and_disjoint(name):
    task = make_task(name, SPECS[name])
    train, test = task.build("train", 300, seed=3), task.build("test", 50, seed=3)
    assert train == task.build("train", 300, seed=3)
    assert train != task.build("train", 300, seed=4)
    train_keys, test_keys = {task.key(r) for r in train}, {task.key(r) for r in test}
    assert len(train_keys) == 300 and len(test_keys) == 50
    assert not train_keys & test_keys
    # the whole test pool is excluded, so a larger test n later still does not overlap train
    assert not train_keys & {task.key(r) for r in task.build("test", 200, seed=3)}


def test_split_sizes_default_to_the_task_options():
    task = make_task("arithmetic", {"kind": "arithmetic", "n_train": 7, "n_test": 5, "seed": 2})
    assert len(task.build("train")) == 7 and len(task.build("test")) == 5
    assert task.build("test") == task.build("test", 5, seed=2)


@pytest.mark.parametrize("name", SPECS)
def test_every_reference_solution_scores_one(name):
    task = make_task(name, SPECS[name])
    for record in task.build("test", 100, seed=0):
        score = task.score(record, task.reference(record))
        assert (score.correct, score.formatted) == (1.0, 1.0), record


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"kind": "countdwn"}, r"tasks.x.kind: 'countdwn' is not one of .*; did you mean 'countdown'\?"),
        ({"kind": "countdown", "digits": 3}, r"tasks.x.digits: unknown option 'digits'"),
        ({"kind": "countdown", "numbrs": 3}, r"did you mean 'numbers'\?"),
        (
            {"kind": "arithmetic", "numbers": 3},
            r"tasks.x.numbers: not an option of kind 'arithmetic' \(an option of countdown\)",
        ),
        ({"kind": "countdown", "numbers": 1}, r"tasks.x.numbers: 1 is less than the minimum of 2"),
        ({"kind": "countdown", "numbers": "3"}, r"tasks.x.numbers: expected an integer, not '3'"),
        ({"kind": "countdown", "min_number": 9, "max_number": 3}, r"tasks.x.min_number: 9 is larger than max_number"),
        ({"kind": "arithmetic", "operators": "+/"}, r"tasks.x.operators: '\+/': arithmetic draws from '\+-\*' only"),
        ({"kind": "countdown", "n_test": 300}, r"tasks.x.n_test: 300 exceeds test_pool_size \(200\)"),
        ({"kind": "jsonl"}, r"tasks.x.source: a jsonl task needs a 'source'"),
        ({"kind": "mmlu", "format": "chatty"}, r"tasks.x.format: 'chatty' is not one of"),
        ({"numbers": 3}, r"tasks.x: 'kind' is required"),
    ],
)
def test_options_are_checked_per_kind_naming_the_field(spec, message):
    with pytest.raises(ConfigError, match=message):
        make_task("x", spec)


@pytest.mark.parametrize("kind", sorted(TASK_KINDS))
def test_every_kind_resolves_to_every_option_with_its_default(kind, tmp_path):
    spec = {"kind": kind, **({"source": str(tmp_path)} if kind == "jsonl" else {})}
    task = make_task(kind, spec)
    resolved = task.to_dict()
    assert resolved["kind"] == kind and set(resolved) == {"kind", *type(task).option_fields()}
    assert make_task(kind, resolved) == task  # a resolved entry is a valid entry: the same task again


@pytest.mark.parametrize("kind", sorted(TASK_KINDS))
def test_records_without_the_fields_their_task_needs_are_refused(kind, tmp_path):
    task = make_task(kind, {"kind": kind, **({"source": str(tmp_path)} if kind == "jsonl" else {})})
    example = task.example()
    task.check_record(example, "file:1")  # the task's own solved example is complete
    for field in task.required_fields:
        broken = {key: value for key, value in example.items() if key != field}
        with pytest.raises(ValueError, match=rf"file:3: record has no '{field}' field"):
            task.check_record(broken, "file:3")


def test_a_field_of_the_wrong_type_is_named():
    task = make_task("countdown", {"kind": "countdown"})
    with pytest.raises(ValueError, match=r"data.jsonl:2: field 'target' must be an integer, not '16'"):
        task.check_record({"numbers": [3, 5, 2], "target": "16", "answer": "(3 + 5) * 2"}, "data.jsonl:2")


def test_generated_kinds_reserve_a_test_pool():
    generated = {kind for kind, cls in TASK_KINDS.items() if issubclass(cls, GeneratedTask)}
    assert generated == {"countdown", "arithmetic", "generalpoints"}
    assert "test_pool_size" not in TASK_KINDS["gsm8k"].option_fields()
