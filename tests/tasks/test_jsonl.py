"""The user's own items: each scorer, and the fields read from other datasets' rows."""

import json

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


def test_field_options_read_other_column_names_and_nested_rows(tmp_path):
    rows = [
        [{"from": "human", "value": "What is 6 * 7?"}, {"from": "assistant", "ground_truth": {"value": "42"}}],
        [{"from": "human", "value": "What is 2 + 2?"}, {"from": "assistant", "ground_truth": {"value": "4"}}],
    ]
    (tmp_path / "orz.json").write_text(json.dumps(rows))
    spec = {"kind": "jsonl", "source": str(tmp_path / "orz.json"), "scorer": "number"}
    task = make_task("orz", {**spec, "question_field": "0.value", "answer_field": "1.ground_truth.value"})
    records = task.build("test")
    assert [(r["question"], r["answer"]) for r in records] == [("What is 6 * 7?", "42"), ("What is 2 + 2?", "4")]
    assert task.score(records[0], "<answer>42</answer>").correct == 1.0
    write_jsonl([{"input": "Capital of France?", "response": "Paris"}], tmp_path / "sft.jsonl")
    flat = {"kind": "jsonl", "source": str(tmp_path / "sft.jsonl"), "question_field": "input"}
    assert make_task("sft", {**flat, "answer_field": "response"}).build("test")[0]["answer"] == "Paris"


def test_the_default_fields_stay_question_or_prompt_and_answer(tmp_path):
    write_jsonl([{"question": "q1", "answer": 1}, {"prompt": "q2", "answer": "2"}], tmp_path / "mine.jsonl")
    records = make_task("mine", {"kind": "jsonl", "source": str(tmp_path / "mine.jsonl")}).build("test")
    assert [(r["question"], r["answer"]) for r in records] == [("q1", "1"), ("q2", "2")]


def test_a_row_without_the_answer_field_is_named(tmp_path):
    write_jsonl([{"input": "q", "answer": "a"}, {"input": "q2"}], tmp_path / "mine.jsonl")
    spec = {"kind": "jsonl", "source": str(tmp_path / "mine.jsonl"), "question_field": "input"}
    with pytest.raises(ValueError, match=r"mine.jsonl:2: row has no 'answer' field"):
        make_task("mine", spec).build("test")


def test_a_hub_dataset_stands_in_for_the_source_with_its_own_columns(monkeypatch):
    spec = {"kind": "jsonl", "hub_id": "someone/qa", "question_field": "input", "answer_field": "response"}
    task = make_task("hub", spec)
    read = []
    rows = [{"input": "q", "response": "a"}]
    monkeypatch.setattr(type(task), "load_hub", lambda self, split: read.append(split) or rows)
    (record,) = task.build("test")
    assert read == ["test"] and (record["question"], record["answer"]) == ("q", "a")
