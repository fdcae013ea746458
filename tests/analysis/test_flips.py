"""Per-item flips and pass@k on hand-written evaluation samples, with known answers."""

import json
import math

import pytest

from forgetlab.analysis.flips import FLIPS, flips, pass_at_k
from forgetlab.cli import main


def samples(correct: dict[str, list[int]]) -> list[dict]:
    return [
        {"id": item, "sample": s, "correct": float(c)} for item, values in correct.items() for s, c in enumerate(values)
    ]


def test_each_item_lands_in_its_flip_and_the_shares_sum_to_one():
    reference = samples({"a": [1], "b": [1], "c": [0], "d": [0], "e": [1]})
    checkpoint = samples({"a": [1], "b": [0], "c": [1], "d": [0], "e": [0], "only-here": [1]})
    summary = flips(reference, checkpoint)["summary"]
    assert (summary["kept_right"], summary["right_to_wrong"]) == (0.2, 0.4)
    assert (summary["wrong_to_right"], summary["kept_wrong"]) == (0.2, 0.2)
    assert sum(summary[name] for name in FLIPS) == pytest.approx(1)
    assert summary["accuracy_change"] == pytest.approx(-0.2)
    assert summary["items"] == 5 and summary["unmatched_checkpoint"] == 1
    low, high = summary["right_to_wrong_ci"]
    assert low <= 0.4 <= high


@pytest.mark.parametrize("n, c, k", [(5, 0, 1), (5, 5, 3), (10, 3, 1), (10, 3, 4), (20, 7, 10), (4, 1, 4)])
def test_pass_at_k_is_its_closed_form(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k))


def test_sampled_evaluations_give_pass_at_every_k_and_the_solvable_sets():
    # reference solves a (1 of 4) and b (4 of 4); the checkpoint only b, and c which the reference never solved
    reference = samples({"a": [1, 0, 0, 0], "b": [1, 1, 1, 1], "c": [0, 0, 0, 0]})
    checkpoint = samples({"a": [0, 0, 0, 0], "b": [1, 1, 1, 1], "c": [0, 0, 1, 0]})
    summary = flips(reference, checkpoint)["summary"]
    assert summary["reference_pass_at_1"] == pytest.approx((0.25 + 1) / 3)
    assert summary["reference_pass_at_4"] == pytest.approx(2 / 3)
    assert summary["checkpoint_pass_at_2"] == pytest.approx((1 + 0.5) / 3)
    assert "checkpoint_pass_at_5" not in summary
    assert (summary["solvable_kept"], summary["solvable_lost"], summary["solvable_gained"]) == (1 / 3, 1 / 3, 1 / 3)


def test_files_with_no_common_item_or_no_scores_are_refused():
    with pytest.raises(ValueError, match="share no item"):
        flips(samples({"a": [1]}), samples({"b": [1]}))
    with pytest.raises(ValueError, match="need 'id' and 'correct'"):
        flips([{"id": "a"}], samples({"a": [1]}))


def test_the_command_compares_two_samples_files(tmp_path, capsys):
    for name, values in (("ref", {"a": [1], "b": [0]}), ("ckpt", {"a": [0], "b": [0]})):
        (tmp_path / f"{name}.samples.jsonl").write_text("\n".join(json.dumps(row) for row in samples(values)))
    out = tmp_path / "flips.json"
    args = ["analyse", "flips", "--reference", str(tmp_path / "ref.samples.jsonl"), "--out", str(out)]
    assert main([*args, "--checkpoint", str(tmp_path / "ckpt.samples.jsonl")]) == 0
    summary = json.loads(out.read_text())["summary"]
    assert (summary["right_to_wrong"], summary["kept_wrong"]) == (0.5, 0.5)
    assert main([*args, "--checkpoint", str(tmp_path / "missing.jsonl")]) == 2
    assert "--checkpoint: no such file" in capsys.readouterr().err
