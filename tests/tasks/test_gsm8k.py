"""GSM8K: final-number extraction, lm-eval's strict and flexible extraction and seed 000's boxed one beside it,
files in the hub's schema, the real test set's gold answers."""

import json
from pathlib import Path

import pytest
import yaml

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


# completion, answer, correct under (lenient, strict, strict_cot, flexible, boxed)
DISAGREEING = [
    ("She makes 21 * 2 = 42.\n#### 42", "42", (1, 1, 0, 1, 0)),
    ("The answer is 42.", "42", (1, 0, 1, 1, 0)),
    ("The answer is 42", "42", (1, 0, 0, 1, 0)),  # strict_cot's final "." takes the "2": it reads 4
    ("the answer is 42.", "42", (1, 0, 0, 1, 0)),  # strict_cot is case-sensitive
    ("The answer is 42. That took 3 steps.", "42", (1, 0, 1, 0, 0)),  # flexible reads the last number
    ("The answer is 41. Wait, no: 42", "42", (0, 0, 0, 1, 0)),  # lenient reads the first number after "answer is"
    ("I think 41... final 42", "42", (1, 0, 0, 1, 0)),
    ("#### 41\n#### 42", "42", (1, 0, 0, 1, 0)),  # strict takes the first "####", lenient the last
    ("#### 42\nThe answer is 41.", "42", (1, 1, 0, 0, 0)),
    ("#### 42.00", "42", (1, 0, 0, 0, 0)),  # lm-eval compares text: 42.00 is not 42
    ("<answer>42</answer> (not 41)", "42", (1, 0, 0, 0, 0)),
    ("It costs $1,234", "1234", (1, 0, 0, 1, 0)),  # flexible drops "," and "$"
    ("#### -5", "-5", (1, 1, 0, 1, 0)),
    ("no number here", "42", (0, 0, 0, 0, 0)),
    ("\\boxed{41} no: \\boxed{42}", "42", (1, 0, 0, 1, 1)),  # boxed reads the last box
    ("\\boxed{ +42 }", "42", (1, 0, 0, 1, 1)),
    ("\\boxed{42.0}", "42", (1, 0, 0, 0, 0)),  # boxed wants an integer, as the seed's regex
    ("boxed{42}", "42", (1, 0, 0, 1, 0)),  # and its backslash
    ("#### 42\n\\boxed{41}", "42", (0, 1, 0, 0, 0)),  # lenient prefers a box to ####
]
EXTRACTIONS = ("lenient", "strict", "strict_cot", "flexible", "boxed")


@pytest.mark.parametrize("completion, answer, expected", DISAGREEING)
def test_gsm8k_scores_every_extraction_side_by_side(completion, answer, expected):
    score = make_task("gsm8k", {"kind": "gsm8k"}).score({"answer": answer}, completion)
    assert score.extractions == dict(zip(EXTRACTIONS, map(float, expected)))
    assert score.correct == expected[0]  # lenient by default: today's scores stay


@pytest.mark.parametrize("extraction", EXTRACTIONS)
def test_gsm8k_extraction_option_picks_what_scores_correct(extraction):
    task = make_task("gsm8k", {"kind": "gsm8k", "extraction": extraction})
    column = EXTRACTIONS.index(extraction)
    for completion, answer, expected in DISAGREEING:
        assert task.score({"answer": answer}, completion).correct == expected[column], completion


def test_gsm8k_strict_and_flexible_agree_with_lm_evals_own_filters():
    """lm-eval's RegexFilter and exact_match, configured from its installed GSM8K task files, score the cases
    as forgetlab does (a change of lm-eval's definitions fails here)."""
    import lm_eval
    from lm_eval.api.metrics import exact_match_hf_evaluate
    from lm_eval.filters.extraction import RegexFilter

    folder = Path(lm_eval.__file__).parent / "tasks" / "gsm8k"
    configs = {name: yaml.safe_load((folder / name).read_text()) for name in ("gsm8k.yaml", "gsm8k-cot.yaml")}
    sources = {"strict": ("gsm8k.yaml", "strict-match"), "strict_cot": ("gsm8k-cot.yaml", "strict-match"),
               "flexible": ("gsm8k.yaml", "flexible-extract")}  # fmt: skip
    flexible = [[f for f in c["filter_list"] if f["name"] == "flexible-extract"] for c in configs.values()]
    assert flexible[0] == flexible[1]  # one flexible-extract for both
    task = make_task("gsm8k", {"kind": "gsm8k"})
    for extraction, (file, filter_name) in sources.items():
        config = configs[file]
        [(regex, take_first)] = [f["filter"] for f in config["filter_list"] if f["name"] == filter_name]
        assert regex.pop("function") == "regex" and take_first == {"function": "take_first"}
        metric = config["metric_list"][0]
        matching = {key: metric[key] for key in ("regexes_to_ignore", "ignore_case", "ignore_punctuation")}
        for completion, answer, _ in DISAGREEING:
            [[picked]] = RegexFilter(**regex).apply([[completion]], [{}])
            target = f"So it is {answer}.\n#### {answer}"  # the hub's answer field, as gsm8k.yaml's target
            expected = exact_match_hf_evaluate([picked], [target], **matching)["exact_match"]
            scored = task.score({"answer": answer}, completion).extractions[extraction]
            assert scored == expected, (extraction, completion)


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
    assert gold["accuracy"] == gold["accuracy_strict"] == gold["accuracy_flexible"] == 1.0
    altered = [
        {**r, "completion": row["answer"].rsplit("####", 1)[0] + f"#### {int(float(r['answer'])) + 1}"}
        for r, row in zip(records, raw)
    ]
    wrong = score_rows(task, altered)[0]
    assert wrong["accuracy"] == wrong["accuracy_strict"] == wrong["accuracy_flexible"] == 0.0


def test_dataset_tasks_load_through_datasets_like_the_hub(tmp_path):
    """The hub path (datasets.load_dataset) on a local dataset folder: what real runs do with a hub id."""
    write_jsonl(_gsm8k_rows(4), tmp_path / "test.jsonl")
    write_jsonl(_gsm8k_rows(8), tmp_path / "train.jsonl")
    task = make_task("gsm8k", {"kind": "gsm8k", "hub_id": str(tmp_path), "hub_config": None})
    assert len(task.build("test")) == 4 and len(task.build("train")) == 8
