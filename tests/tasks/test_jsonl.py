"""The user's own items: each scorer."""

import pytest

from forgetlab.io import write_jsonl
from forgetlab.tasks import make_task


@pytest.mark.parametrize(
    "scorer, answer, completion, correct",
    [
        ("exact", "Paris", "<answer>paris</answer>", 1),
        ("exact", "Paris", "Lyon", 0),
        ("number", "42", "so it is 42.", 1),
        ("choice", "C", "The answer is (C)", 1),
        ("expression", "12", "<answer>3 * 4</answer>", 1),
        ("expression", "12", "<answer>__import__('os')</answer>", 0),
    ],
)
def test_jsonl_task_scorers(tmp_path, scorer, answer, completion, correct):
    write_jsonl([{"prompt": "q", "answer": answer}], tmp_path / "mine.jsonl")
    task = make_task("mine", {"kind": "jsonl", "source": str(tmp_path / "mine.jsonl"), "scorer": scorer})
    (record,) = task.build("test")
    assert task.score(record, completion).correct == correct
