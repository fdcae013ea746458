"""Records from files: every record checked for its task's fields (naming file and line), users' items."""

import pytest

from forgetlab.data import load_source_records, read_records
from forgetlab.io import write_jsonl
from forgetlab.tasks import make_task

COUNTDOWN = make_task("countdown", {"kind": "countdown"})
ARITHMETIC = make_task("arithmetic", {"kind": "arithmetic"})


def test_read_records_names_the_line_and_the_missing_field(tmp_path):
    path = tmp_path / "eval.jsonl"
    write_jsonl([{"numbers": [1, 2], "target": 3, "answer": "1 + 2"}, {"numbers": [1, 2], "answer": "1 + 2"}], path)
    with pytest.raises(ValueError, match=r"eval.jsonl:2: record has no 'target' field"):
        read_records(COUNTDOWN, path)


def test_an_arithmetic_record_without_its_question_is_refused(tmp_path):
    path = tmp_path / "items.jsonl"
    write_jsonl([{"answer": "7"}], path)
    with pytest.raises(ValueError, match=r"items.jsonl:1: record has no 'question' field"):
        read_records(ARITHMETIC, path)


def test_read_records_refuses_an_empty_file_and_bad_json(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ValueError, match=r"empty\.jsonl: no records"):
        read_records(ARITHMETIC, tmp_path / "empty.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"question": "q", "answer": "1"}\n{"question": \n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not valid JSON"):
        read_records(ARITHMETIC, tmp_path / "bad.jsonl")


def test_a_generated_tasks_records_from_a_users_file_are_checked(tmp_path):
    path = tmp_path / "mine.jsonl"
    write_jsonl(
        [{"prompt": "p", "numbers": [1, 2], "target": 3, "answer": "1 + 2"}, {"numbers": [1, 2], "answer": "2"}], path
    )
    with pytest.raises(ValueError, match=r"mine.jsonl:2: record has no 'target' field"):
        load_source_records(COUNTDOWN, str(path), "test")


def test_a_users_items_get_a_question_a_prompt_and_a_seeded_subset(tmp_path):
    path = tmp_path / "mine.jsonl"
    write_jsonl([{"numbers": [i, 1], "target": i + 1, "answer": f"{i} + 1"} for i in range(10)], path)
    records = load_source_records(COUNTDOWN, str(path), "test", n=4, seed=1)
    assert len(records) == 4 and records == load_source_records(COUNTDOWN, str(path), "test", n=4, seed=1)
    assert all(r["question"].startswith("Numbers:") and r["question"] in r["prompt"] for r in records)
