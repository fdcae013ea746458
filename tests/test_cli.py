import json

from forgetlab.io import read_json, read_jsonl, write_jsonl

from .conftest import run_forgetlab


def test_data_then_score_round_trip(tmp_path):
    data = tmp_path / "countdown.jsonl"
    result = run_forgetlab("data", "--task", "countdown", "--split", "test", "--n", "12", "--seed", "1", "--out", data, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["n"] == 12
    records = read_jsonl(data)
    assert len(records) == 12 and {"prompt", "answer", "numbers", "target"} <= set(records[0])

    rows = [{**r, "completion": f"<answer>{r['answer']}</answer>" if i % 3 else "no idea"} for i, r in enumerate(records)]
    write_jsonl(rows, tmp_path / "completions.jsonl")
    result = run_forgetlab("score", "--task", "countdown", "--input", tmp_path / "completions.jsonl", "--out", tmp_path / "scores.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 12 and metrics["accuracy"] == 8 / 12
    scores = read_json(tmp_path / "scores.json")
    assert [row["correct"] for row in scores["rows"]] == [0.0 if i % 3 == 0 else 1.0 for i in range(12)]


def test_score_names_the_missing_field(tmp_path):
    write_jsonl([{"numbers": [1, 2], "target": 3}], tmp_path / "bad.jsonl")
    result = run_forgetlab("score", "--task", "countdown", "--input", tmp_path / "bad.jsonl", cwd=tmp_path)
    assert result.returncode == 2
    assert "bad.jsonl:1: row has no 'completion' field" in result.stderr


def test_data_from_a_source_file(tmp_path):
    write_jsonl([{"prompt": f"What is {i} + 1?", "answer": str(i + 1)} for i in range(10)], tmp_path / "mine.jsonl")
    out = tmp_path / "picked.jsonl"
    result = run_forgetlab("data", "--task", "arithmetic", "--split", "test", "--source", tmp_path / "mine.jsonl", "--n", "4", "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(read_jsonl(out)) == 4
