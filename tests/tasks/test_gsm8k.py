"""GSM8K: final-number extraction, files in the hub's schema, the real test set's gold answers."""

import json

import pytest

from forgetlab.evaluate.generation import score_rows
from forgetlab.io import write_jsonl
from forgetlab.tasks import make_task

from ..conftest import ROOT

SHARED = ROOT.parent / "shared" / "data"


@pytest.mark.parametrize(
    "completion, correct",
    [
        ("She makes 9 * 2 = $18 every day.\n#### 18", 1),
        ("So the total is \\boxed{18}.", 1),
        ("<think>9 * 2</think><answer>18</answer>", 1),
        ("The answer is $18.00", 1),
        ("The answer is 18.0.", 1),
        ("#### 17", 0),
        ("The answer is 81", 0),
        ("", 0),
    ],
)
def test_gsm8k_final_number_extraction(completion, correct):
    task = make_task("gsm8k", {"kind": "gsm8k"})
    assert task.score({"answer": "18"}, completion).correct == correct


@pytest.mark.parametrize(
    "completion, answer",
    [
        ("The answer is $1,800.00", "1800"),
        ("it drops to -5 degrees", "-5"),
        ("#### 1,000", "1000"),
        ("\\boxed{0.5}", "0.5"),
    ],
)
def test_gsm8k_numbers_with_commas_signs_and_decimals(completion, answer):
    assert make_task("gsm8k", {"kind": "gsm8k"}).score({"answer": answer}, completion).correct == 1


def _gsm8k_rows(n=6):
    return [
        {"question": f"What is {i} + {i}?", "answer": f"{i} + {i} = <<{i}+{i}={2 * i}>>{2 * i}\n#### {2 * i}"}
        for i in range(n)
    ]


def test_gsm8k_local_file_in_hub_schema(tmp_path):
    write_jsonl(_gsm8k_rows(), tmp_path / "test.jsonl")
    task = make_task("gsm8k", {"kind": "gsm8k", "source": str(tmp_path)})
    records = task.build("test", 4, seed=0)
    assert len(records) == 4 and records == task.build("test", 4, seed=0)
    assert all("<<" not in r["solution"] for r in records)  # calculator annotations stripped
    assert all(task.score(r, task.reference(r, "think")).correct for r in records)
    with pytest.raises(FileNotFoundError, match=r"no train\.jsonl"):
        task.build("train")


def test_gsm8k_missing_column_names_column_and_file(tmp_path):
    write_jsonl([{"question": "q", "solution": "#### 1"}], tmp_path / "bad.jsonl")
    with pytest.raises(ValueError, match=r"bad.jsonl: column 'answer' is missing"):
        make_task("gsm8k", {"kind": "gsm8k", "source": str(tmp_path / "bad.jsonl")}).build("test")


@pytest.mark.skipif(not (SHARED / "gsm8k" / "test.jsonl").exists(), reason="shared GSM8K files not present")
def test_gsm8k_gold_solutions_score_100_and_altered_ones_0():
    path = SHARED / "gsm8k" / "test.jsonl"
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    task = make_task("gsm8k", {"kind": "gsm8k", "source": str(path), "n_test": 1319})
    records = task.build("test")
    assert len(records) == len(raw) == 1319
    gold, _ = score_rows(task, [{**r, "completion": row["answer"]} for r, row in zip(records, raw)])
    assert gold["accuracy"] == 1.0
    altered = [
        {**r, "completion": row["answer"].rsplit("####", 1)[0] + f"#### {int(float(r['answer'])) + 1}"}
        for r, row in zip(records, raw)
    ]
    assert score_rows(task, altered)[0]["accuracy"] == 0.0


def test_dataset_tasks_load_through_datasets_like_the_hub(tmp_path):
    """The hub path (datasets.load_dataset) on a local dataset folder: what real runs do with a hub id."""
    write_jsonl(_gsm8k_rows(4), tmp_path / "test.jsonl")
    write_jsonl(_gsm8k_rows(8), tmp_path / "train.jsonl")
    task = make_task("gsm8k", {"kind": "gsm8k", "hub_id": str(tmp_path), "hub_config": None})
    assert len(task.build("test")) == 4 and len(task.build("train")) == 8
