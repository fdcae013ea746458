"""MMLU: letter extraction, the hub schema and the original CSV layout, per-subject breakdown."""

import pytest

from forgetlab.evaluate.generation import summarise
from forgetlab.io import write_jsonl
from forgetlab.tasks import make_task


@pytest.mark.parametrize(
    "completion, correct",
    [
        ("The answer is (B)", 1),
        ("B. H2O", 1),
        ("**B**", 1),
        ("B", 1),
        ("Answer: B", 1),
        ("<answer>B</answer>", 1),
        ("The answer is (C)", 0),
        ("A. O2", 0),
        ("I am not sure", 0),
    ],
)
def test_mmlu_letter_extraction(completion, correct):
    task = make_task("mmlu", {"kind": "mmlu"})
    assert task.score({"answer": "B"}, completion).correct == correct


def _mmlu_rows():
    return [
        {
            "question": f"Q{i}?",
            "choices": ["w", "x", "y", "z"],
            "answer": i % 4,
            "subject": ["algebra", "anatomy"][i % 2],
        }
        for i in range(8)
    ]


def test_mmlu_hub_schema_file_and_per_subject_breakdown(tmp_path):
    write_jsonl(_mmlu_rows(), tmp_path / "test.jsonl")
    task = make_task("mmlu", {"kind": "mmlu", "source": str(tmp_path)})
    records = task.build("test")
    assert [r["answer"] for r in records[:4]] == ["A", "B", "C", "D"]
    assert "A. w\nB. x" in records[0]["prompt"]
    samples = [{**r, "correct": float(r["subject"] == "algebra"), "formatted": 0.0} for r in records]
    metrics = summarise("mmlu", samples, task.group_field)
    assert metrics["by_subject"] == {"algebra": {"n": 4, "accuracy": 1.0}, "anatomy": {"n": 4, "accuracy": 0.0}}
    only = make_task("mmlu", {"kind": "mmlu", "source": str(tmp_path), "subjects": ["anatomy"]}).build("test")
    assert {r["subject"] for r in only} == {"anatomy"}


def test_mmlu_original_csv_layout(tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "virology_test.csv").write_text(
        'What is a virus?,"a cell, alive",a particle,a plant,a rock,B\n'
    )
    records = make_task("mmlu", {"kind": "mmlu", "source": str(tmp_path)}).build("test")
    assert (
        records[0]["choices"][0] == "a cell, alive"
        and records[0]["answer"] == "B"
        and records[0]["subject"] == "virology"
    )


def test_mmlu_bad_answer_names_the_row(tmp_path):
    write_jsonl([{"question": "q", "choices": ["a", "b", "c", "d"], "answer": 7}], tmp_path / "test.jsonl")
    with pytest.raises(ValueError, match=r"test.jsonl:1: answer 7"):
        make_task("mmlu", {"kind": "mmlu", "source": str(tmp_path)}).build("test")
