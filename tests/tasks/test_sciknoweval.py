"""SciKnowEval: the multiple-choice rows of one domain from files in the dataset's schema, held-out splits, letter
grading."""

import pytest

from forgetlab.io import write_jsonl
from forgetlab.tasks import make_task


def _row(i, kind="mcq-4-choices", domain="Chemistry", level="L3", **fields):
    labels = ["A", "B", "C", "D"] if kind == "mcq-4-choices" else ["A", "B"]
    return {
        "prompt": {"default": "Given a question and four options, please select the right answer."},
        "question": f"Which molecule is reactant {i}?",
        "choices": {"text": [f"molecule {i}-{label}" for label in labels], "label": labels},
        "answerKey": labels[i % len(labels)],
        "type": kind,
        "domain": domain,
        "details": {"level": level, "task": "retrosynthesis", "subtask": "retrosynthesis_mcq", "source": "uspto_50"},
        **fields,
    }


OTHERS = [
    {"question": "Is benzene aromatic?", "answer": "Yes", "type": "true_or_false", "domain": "Chemistry",
     "details": {"level": "L1", "task": "t", "subtask": "s"}},
    {"question": "Describe the molecule.", "answer": "A ring.", "type": "open-ended-qa", "domain": "Chemistry",
     "details": {"level": "L5", "task": "molecule_captioning", "subtask": "captioning"}},
]  # fmt: skip


def test_keeps_the_multiple_choice_rows_of_the_domain_as_lettered_records(tmp_path):
    rows = [_row(0), _row(1, kind="mcq-2-choices", level="L2"), _row(2, domain="Biology"), *OTHERS]
    write_jsonl(rows, tmp_path / "test.jsonl")
    task = make_task("sci", {"kind": "sciknoweval", "source": str(tmp_path)})
    records = task.build("test")
    assert [(r["question"], r["answer"], r["level"]) for r in records] == [
        ("Which molecule is reactant 0?", "A", "L3"),
        ("Which molecule is reactant 1?", "B", "L2"),
    ]
    assert records[0]["choices"] == ["molecule 0-A", "molecule 0-B", "molecule 0-C", "molecule 0-D"]
    assert "D. molecule 0-D\nAnswer with the letter" in records[0]["prompt"]
    assert task.group_field == "level"
    levels = make_task("sci", {"kind": "sciknoweval", "source": str(tmp_path), "levels": ["L2"]}).build("test")
    assert [r["level"] for r in levels] == ["L2"]
    biology = make_task("sci", {"kind": "sciknoweval", "source": str(tmp_path), "domain": "biology"}).build("test")
    assert [r["question"] for r in biology] == ["Which molecule is reactant 2?"]


def test_labels_other_than_abcd_are_shown_as_letters_in_their_order(tmp_path):
    row = _row(0, choices={"text": ["yes", "no"], "label": ["1", "2"]}, answerKey="2", type="mcq-2-choices")
    write_jsonl([row], tmp_path / "test.jsonl")
    (record,) = make_task("sci", {"kind": "sciknoweval", "source": str(tmp_path)}).build("test")
    assert (record["choices"], record["answer"]) == (["yes", "no"], "B")


def test_one_file_is_split_by_question_into_disjoint_train_and_test(tmp_path):
    write_jsonl([_row(i) for i in range(400)], tmp_path / "chemistry.jsonl")
    spec = {"kind": "sciknoweval", "source": str(tmp_path / "chemistry.jsonl"), "n_train": 1000, "n_test": 1000}
    task = make_task("sci", spec)
    train, test = {r["question"] for r in task.build("train")}, {r["question"] for r in task.build("test")}
    assert not train & test and len(train | test) == 400
    assert 20 <= len(test) <= 60  # test_fraction 0.1 of 400
    wider = make_task("sci", {**spec, "test_fraction": 0.5})
    assert {r["question"] for r in wider.build("test")} > test  # a larger share keeps the smaller one's questions


@pytest.mark.parametrize(
    "completion, correct",
    [("<answer>C</answer>", 1), ("The answer is (C)", 1), ("C. molecule", 1), ("The answer is B", 0), ("", 0)],
)
def test_letter_grading(completion, correct):
    task = make_task("sci", {"kind": "sciknoweval"})
    assert task.score({"choices": ["w", "x", "y", "z"], "answer": "C"}, completion).correct == correct


def test_a_multiple_choice_row_without_its_answer_key_is_named(tmp_path):
    row = _row(1)
    del row["answerKey"]
    write_jsonl([_row(0), row], tmp_path / "test.jsonl")
    with pytest.raises(ValueError, match=r"test.jsonl:2: row has no 'answerKey' field"):
        make_task("sci", {"kind": "sciknoweval", "source": str(tmp_path)}).build("test")
