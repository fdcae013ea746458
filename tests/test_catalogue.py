"""The task catalogue: dataset tasks from files in the hub's schema, GeneralPoints, variants, formats."""

import json
from pathlib import Path

import pytest

from forgetlab.evaluate.generation import score_rows, summarise
from forgetlab.io import write_jsonl
from forgetlab.prompts import curriculum_formats, render_prompt
from forgetlab.rewards import LengthReward
from forgetlab.tasks import make_task
from forgetlab.tasks.generalpoints import solve

from .conftest import ROOT

SHARED = ROOT.parent / "shared" / "data"


# -- GSM8K ---------------------------------------------------------------------------------------------
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
    [("The answer is $1,800.00", "1800"), ("it drops to -5 degrees", "-5"), ("#### 1,000", "1000"), ("\\boxed{0.5}", "0.5")],
)
def test_gsm8k_numbers_with_commas_signs_and_decimals(completion, answer):
    assert make_task("gsm8k", {"kind": "gsm8k"}).score({"answer": answer}, completion).correct == 1


def _gsm8k_rows(n=6):
    return [{"question": f"What is {i} + {i}?", "answer": f"{i} + {i} = <<{i}+{i}={2 * i}>>{2 * i}\n#### {2 * i}"} for i in range(n)]


def test_gsm8k_local_file_in_hub_schema(tmp_path):
    write_jsonl(_gsm8k_rows(), tmp_path / "test.jsonl")
    task = make_task("gsm8k", {"kind": "gsm8k", "source": str(tmp_path)})
    records = task.build("test", 4, seed=0)
    assert len(records) == 4 and records == task.build("test", 4, seed=0)
    assert all("<<" not in r["solution"] for r in records)  # calculator annotations stripped
    assert all(task.score(r, task.reference(r, "think")).correct for r in records)
    with pytest.raises(FileNotFoundError, match="no train.jsonl"):
        task.build("train")


def test_gsm8k_missing_column_names_column_and_file(tmp_path):
    write_jsonl([{"question": "q", "solution": "#### 1"}], tmp_path / "bad.jsonl")
    with pytest.raises(ValueError, match=r"bad.jsonl: column 'answer' is missing"):
        make_task("gsm8k", {"kind": "gsm8k", "source": str(tmp_path / "bad.jsonl")}).build("test")


@pytest.mark.skipif(not (SHARED / "gsm8k" / "test.jsonl").exists(), reason="shared GSM8K files not present")
def test_gsm8k_gold_solutions_score_100_and_altered_ones_0():
    path = SHARED / "gsm8k" / "test.jsonl"
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    task = make_task("gsm8k", {"kind": "gsm8k", "source": str(path)})
    records = task.build("test")
    assert len(records) == len(raw) == 1319
    gold, _ = score_rows(task, [{**r, "completion": row["answer"]} for r, row in zip(records, raw)])
    assert gold["accuracy"] == 1.0
    altered = [{**r, "completion": row["answer"].rsplit("####", 1)[0] + f"#### {int(float(r['answer'])) + 1}"} for r, row in zip(records, raw)]
    assert score_rows(task, altered)[0]["accuracy"] == 0.0


# -- MMLU ----------------------------------------------------------------------------------------------
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
        {"question": f"Q{i}?", "choices": ["w", "x", "y", "z"], "answer": i % 4, "subject": ["algebra", "anatomy"][i % 2]}
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
    (tmp_path / "test" / "virology_test.csv").write_text('What is a virus?,"a cell, alive",a particle,a plant,a rock,B\n')
    records = make_task("mmlu", {"kind": "mmlu", "source": str(tmp_path)}).build("test")
    assert records[0]["choices"][0] == "a cell, alive" and records[0]["answer"] == "B" and records[0]["subject"] == "virology"


def test_mmlu_bad_answer_names_the_row(tmp_path):
    write_jsonl([{"question": "q", "choices": ["a", "b", "c", "d"], "answer": 7}], tmp_path / "test.jsonl")
    with pytest.raises(ValueError, match=r"test.jsonl:1: answer 7"):
        make_task("mmlu", {"kind": "mmlu", "source": str(tmp_path)}).build("test")


# -- GeneralPoints -------------------------------------------------------------------------------------
def test_generalpoints_in_and_out_of_distribution():
    iid = make_task("gp", {"kind": "generalpoints"}).build("test", 40, seed=0)
    ood_task = make_task("gp-ood", {"kind": "generalpoints", "ood": True})
    ood = ood_task.build("test", 40, seed=0)
    face = {"J": 11, "Q": 12, "K": 13}
    for record in ood:
        assert {"J", "Q", "K"} & set(record["cards"])
        assert [face.get(c, 1 if c == "A" else int(c) if c.isdigit() else 0) for c in record["cards"]] == record["numbers"]
        assert ood_task.score(record, ood_task.reference(record)).correct == 1.0
    assert all(v <= 10 for r in iid for v in r["numbers"])


def test_generalpoints_scoring_is_exact_and_checks_the_hand():
    task = make_task("gp", {"kind": "generalpoints"})
    record = {"cards": ["3", "3", "8", "8"], "numbers": [3, 3, 8, 8], "target": 24}
    assert task.score(record, "<answer>8 / (3 - 8 / 3)</answer>").correct == 1  # needs exact fractions
    assert task.score(record, "<answer>8 * 3</answer>").correct == 0  # not every card
    assert task.score(record, "<answer>8 * 3 + 8 - 8</answer>").correct == 0  # 3 used once, 8 three times
    assert solve([1, 1, 1, 1], 24) is None


# -- Countdown variants, jsonl, formats, rewards ---------------------------------------------------------
def test_countdown_variants():
    four = make_task("c4", {"kind": "countdown", "numbers": 4, "operators": "+-*/"})
    wide = make_task("c-ood", {"kind": "countdown", "min_number": 20, "max_number": 99, "max_target": 1000})
    for task in (four, wide):
        records = task.build("test", 30, seed=1)
        assert all(task.score(r, task.reference(r)).correct for r in records)
    assert all(len(r["numbers"]) == 4 for r in four.build("test", 5))
    assert all(20 <= n <= 99 for r in wide.build("test", 5) for n in r["numbers"])


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


@pytest.mark.parametrize("name, spec", [("countdown", {"kind": "countdown"}), ("arithmetic", {"kind": "arithmetic"}), ("gp", {"kind": "generalpoints"})])
@pytest.mark.parametrize("style", ["answer", "think", "oneshot", "natural"])
def test_every_format_renders_and_its_reference_scores(name, spec, style):
    task = make_task(name, spec)
    record = task.build("test", 1, seed=0)[0]
    prompt = render_prompt(task, record, style)
    assert task.question(record) in prompt
    assert ("<answer>" in prompt) == (style != "natural")
    reference = task.reference(record, "think" if style == "oneshot" else style)
    assert task.for_format(style).score(record, reference).correct == 1.0


def test_cross_format_scoring_natural_reads_untagged_answers():
    task = make_task("countdown", {"kind": "countdown"})
    record = {"numbers": [3, 5, 2], "target": 16}
    assert task.score(record, "(3 + 5) * 2 = 16").correct == 0  # tags required by default
    assert task.for_format("natural").score(record, "(3 + 5) * 2 = 16").correct == 1


def test_one_shot_curriculum_decays_linearly():
    styles = curriculum_formats(2000, "think", 0.8, seed=0)
    first, last = styles[:200].count("oneshot") / 200, styles[-200:].count("oneshot") / 200
    assert 0.65 < first < 0.85 and last < 0.1
    assert styles == curriculum_formats(2000, "think", 0.8, seed=0)
    assert set(curriculum_formats(50, "answer", 0.0)) == {"answer"}


def test_length_reward():
    reward = LengthReward(max_length=10)
    assert reward(prompts=[None, None], completions=["a", "b"], completion_ids=[[1] * 2, [1] * 12]) == [0.8, 0.0]


def test_dataset_tasks_load_through_datasets_like_the_hub(tmp_path):
    """The hub path (datasets.load_dataset) on a local dataset folder: what real runs do with a hub id."""
    write_jsonl(_gsm8k_rows(4), tmp_path / "test.jsonl")
    write_jsonl(_gsm8k_rows(8), tmp_path / "train.jsonl")
    task = make_task("gsm8k", {"kind": "gsm8k", "hub_id": str(tmp_path), "hub_config": None})
    assert len(task.build("test")) == 4 and len(task.build("train")) == 8
