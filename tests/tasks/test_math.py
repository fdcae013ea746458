"""Math with LaTeX answers: Open-Reasoner-Zero's nested rows, the final answer read from \\boxed{} or <answer>,
checked with math-verify (symbolic equality, never running the completion)."""

import builtins
import json

import pytest

from forgetlab.tasks import make_task
from forgetlab.tasks.math_reasoning import final_answer, last_boxed


def _orz(question, answer):
    """One entry of orz_math_57k_collected.json: the [human, assistant] turns."""
    return [{"from": "human", "value": question}, {"from": "assistant", "ground_truth": {"value": answer}}]


def test_the_orz_release_json_reads_through_its_nested_paths(tmp_path):
    entries = [_orz("Halve one.", "\\frac{1}{2}"), _orz("Simplify $\\sqrt{12}$.", "2\\sqrt{3}")]
    (tmp_path / "test.json").write_text(json.dumps(entries))
    task = make_task("m", {"kind": "math", "source": str(tmp_path)})
    records = task.build("test")
    assert [(r["question"], r["answer"]) for r in records] == [
        ("Halve one.", "\\frac{1}{2}"),
        ("Simplify $\\sqrt{12}$.", "2\\sqrt{3}"),
    ]
    assert task.score(records[1], task.reference(records[1])).correct == 1.0


def test_the_hub_layout_with_columns_0_and_1_reads_the_same(tmp_path):
    rows = [{"0": turns[0], "1": turns[1]} for turns in (_orz("Q?", "x^2+1"),)]
    (tmp_path / "test.json").write_text(json.dumps(rows))
    (record,) = make_task("m", {"kind": "math", "source": str(tmp_path)}).build("test")
    assert record["answer"] == "x^2+1"


def test_other_datasets_name_their_fields(tmp_path):
    (tmp_path / "test.json").write_text(json.dumps([{"problem": "2+2?", "answer": "4"}]))
    spec = {"kind": "math", "source": str(tmp_path), "question_field": "problem", "answer_field": "answer"}
    (record,) = make_task("m", spec).build("test")
    assert (record["question"], record["answer"]) == ("2+2?", "4")


def test_a_row_without_its_answer_is_named_with_file_line_and_path(tmp_path):
    entries = [_orz("Q1", "1"), [{"from": "human", "value": "Q2"}, {"from": "assistant"}]]
    (tmp_path / "test.json").write_text(json.dumps(entries))
    with pytest.raises(ValueError, match=r"test.json:2: row has no '1.ground_truth.value' field"):
        make_task("m", {"kind": "math", "source": str(tmp_path)}).build("test")


@pytest.mark.parametrize(
    "answer, completion, correct",
    [
        ("\\frac{1}{2}", "so it is \\boxed{\\frac{1}{2}}", 1),
        ("\\frac{1}{2}", "<answer>0.5</answer>", 1),
        ("\\frac{1}{2}", "<answer>1/2</answer>", 1),
        ("2\\sqrt{3}", "<think>sqrt 12</think><answer>\\sqrt{12}</answer>", 1),
        ("x^2+1", "\\boxed{1 + x^{2}}", 1),
        ("x^2+1", "\\boxed{x^2+2}", 0),
        ("\\frac{1}{2}", "first \\boxed{3}, then \\boxed{\\dfrac{1}{2}}", 1),  # the last box counts
        ("\\frac{1}{2}", "\\boxed{\\frac{1}{2}} no wait \\boxed{2}", 0),
        ("3", "<answer>The result is \\boxed{3}.</answer>", 1),  # a box inside the answer block
        ("3", "the answer is 3", 0),  # no box and no answer block: nothing committed to
        ("3", "<answer>__import__('os').system('true')</answer>", 0),  # parsed as LaTeX, never run
        ("3", "\\boxed{3", 0),
    ],
)
def test_answers_are_checked_symbolically(answer, completion, correct):
    task = make_task("m", {"kind": "math"})
    assert task.score({"question": "q", "answer": answer}, completion).correct == correct


def test_the_last_box_keeps_nested_braces():
    assert last_boxed("\\boxed{1} and \\boxed{\\frac{a}{b^{2}}}") == "\\frac{a}{b^{2}}"
    assert last_boxed("no box") is None and last_boxed("\\boxed{open") is None
    assert final_answer("<answer>7</answer>") == "7" and final_answer("7") is None


def test_without_math_verify_the_task_names_the_package(monkeypatch):
    real_import = builtins.__import__

    def no_math_verify(name, *args, **kwargs):
        if name == "math_verify":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_math_verify)
    with pytest.raises(ImportError, match=r"math-verify package: pip install math-verify"):
        make_task("m", {"kind": "math"})
