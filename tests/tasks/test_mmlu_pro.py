"""MMLU-Pro: files in the hub's schema, ten-letter grading, worked answers as think-format references."""

import pytest

from forgetlab.evaluate.generation import summarise
from forgetlab.io import write_jsonl
from forgetlab.tasks import make_task

OPTIONS = [f"option {i}" for i in range(10)]


def _row(i, **fields):
    return {
        "question_id": i,
        "question": f"Q{i}?",
        "options": OPTIONS,
        "answer": "ABCDEFGHIJ"[i % 10],
        "answer_index": i % 10,
        "cot_content": "",
        "category": ["math", "law"][i % 2],
        "src": "ori_mmlu",
        **fields,
    }


def test_hub_schema_file_becomes_ten_option_records_with_a_per_category_breakdown(tmp_path):
    write_jsonl([_row(i) for i in range(10)], tmp_path / "test.jsonl")
    task = make_task("pro", {"kind": "mmlu_pro", "source": str(tmp_path)})
    records = task.build("test")
    assert [r["answer"] for r in records] == list("ABCDEFGHIJ")
    assert records[0]["choices"] == OPTIONS and records[0]["category"] == "math"
    assert "J. option 9\nAnswer with the letter" in records[0]["prompt"]
    samples = [{**r, "correct": float(r["category"] == "law"), "formatted": 1.0} for r in records]
    metrics = summarise("pro", samples, task.group_field)
    assert metrics["by_category"] == {"law": {"n": 5, "accuracy": 1.0}, "math": {"n": 5, "accuracy": 0.0}}
    only = make_task("pro", {"kind": "mmlu_pro", "source": str(tmp_path), "categories": ["law"]}).build("test")
    assert {r["category"] for r in only} == {"law"}


def test_the_validation_folder_serves_train_and_its_worked_answer_is_the_reasoning(tmp_path):
    cot = "A: Let's think step by step. Seven is prime. The answer is (H)."
    write_jsonl([_row(7, cot_content=cot)], tmp_path / "validation.jsonl")
    task = make_task("pro", {"kind": "mmlu_pro", "source": str(tmp_path), "format": "think"})
    (record,) = task.build("train")
    assert record["solution"] == "Let's think step by step. Seven is prime. The answer is (H)."
    reference = task.reference(record)
    assert reference.startswith("<think>Let's think step by step.") and reference.endswith("<answer>H</answer>")
    assert task.score(record, reference).correct == 1.0


@pytest.mark.parametrize(
    "completion, correct",
    [
        ("<answer>H</answer>", 1),
        ("The answer is (H).", 1),
        ("Answer: H", 1),
        ("**H**", 1),
        ("The answer is (C).", 0),
        ("<answer>J</answer>", 0),
        ("I do not know", 0),  # reads as option I, which is wrong here
    ],
)
def test_ten_letters_are_graded(completion, correct):
    task = make_task("pro", {"kind": "mmlu_pro"})
    assert task.score({"choices": OPTIONS, "answer": "H"}, completion).correct == correct


def test_a_letter_past_the_questions_options_is_not_an_answer():
    task = make_task("pro", {"kind": "mmlu_pro"})
    record = {"choices": OPTIONS[:4], "answer": "B"}
    assert task.score(record, "The answer is (J). No: the answer is (B).").correct == 1.0


def test_a_row_without_options_is_named_with_its_file_and_line(tmp_path):
    row = _row(1)
    del row["options"]
    write_jsonl([_row(0), row], tmp_path / "test.jsonl")
    with pytest.raises(ValueError, match=r"test.jsonl:2: row has no 'options' field"):
        make_task("pro", {"kind": "mmlu_pro", "source": str(tmp_path)}).build("test")


def test_an_answer_beyond_the_options_is_refused(tmp_path):
    write_jsonl([_row(0, options=OPTIONS[:4], answer="G")], tmp_path / "test.jsonl")
    with pytest.raises(ValueError, match=r"test.jsonl:1: answer 'G' is not one of the 4 options \(ABCD\)"):
        make_task("pro", {"kind": "mmlu_pro", "source": str(tmp_path)}).build("test")
