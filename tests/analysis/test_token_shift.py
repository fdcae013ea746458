"""Token shift against cases with known answers: a model on its own greedy completions is all unshifted; hand-made
logits give known ranks, shares and first shifts; a moved checkpoint shifts some tokens."""

import json
import math

import pandas as pd
import pytest
import torch

from forgetlab.analysis.base import AnalysisInputs
from forgetlab.analysis.run import analysis_rows
from forgetlab.analysis.token_shift import (
    TokenShiftConfig,
    chosen_ranks,
    greedy_completions,
    run,
    shift_profile,
    token_shift,
)
from forgetlab.cli import main
from forgetlab.evaluate.generation import generate
from forgetlab.io import read_json, write_jsonl
from forgetlab.models import load_model, load_tokenizer
from forgetlab.tasks import make_task

from ..conftest import perturbed_copy

SHARES = ("token_shift_unshifted", "token_shift_marginal", "token_shift_shifted")


@pytest.fixture(scope="module")
def items(tiny_model):
    """Four arithmetic items as the evaluation renders them, and their prompt ids in the chat template."""
    task = make_task("arithmetic", {"kind": "arithmetic"})
    rows = analysis_rows(task, task.build("test", 4, seed=0), None, 4)
    return task, rows, AnalysisInputs(tiny_model, tiny_model, TokenShiftConfig(), task, rows).prompts(rows)


@pytest.fixture(scope="module")
def other(tiny_model, tmp_path_factory):
    return perturbed_copy(tiny_model, tmp_path_factory.mktemp("moved"), 0.2, seed=3, moves=lambda name: "_proj" in name)


def test_ranks_count_the_tokens_scoring_strictly_higher():
    logits = torch.tensor([[5.0, 1.0, 3.0, 2.0], [0.0, 2.0, 2.0, 1.0], [1.0, 4.0, 3.0, 2.0]])
    assert chosen_ranks(logits, torch.tensor([0, 2, 3])).tolist() == [0, 0, 2]  # a tie with the top is rank 0
    assert chosen_ranks(logits, torch.tensor([3, 0, 0])).tolist() == [2, 3, 3]


def test_known_ranks_give_known_shares_and_first_shifts():
    # marginal_rank 3: rank 0 unshifted, 1-2 marginal, 3+ shifted
    ranks = [[0, 1, 5, 0], [0, 0], [2, 0, 0, 3, 9], []]  # the empty completion is skipped
    result = shift_profile(ranks, marginal_rank=3, positions=5)
    summary = result["summary"]
    assert summary["token_shift_tokens"] == 11 and summary["token_shift_completions"] == 3
    assert [summary[key] for key in SHARES] == pytest.approx([6 / 11, 2 / 11, 3 / 11])
    assert summary["token_shift_first_shift"] == pytest.approx((2 + 3) / 2)  # the second completion never shifts
    assert summary["token_shift_never_shifted"] == pytest.approx(1 / 3)
    rows = result["rows"]
    assert [row["n"] for row in rows] == [3, 3, 2, 2, 1]
    assert (rows[0]["unshifted"], rows[0]["marginal"]) == pytest.approx((2 / 3, 1 / 3))
    assert (rows[2]["marginal"], rows[2]["shifted"]) == (0.0, 0.5) and rows[4]["shifted"] == 1.0
    wider = shift_profile(ranks, marginal_rank=6, positions=6)
    assert wider["summary"]["token_shift_shifted"] == pytest.approx(1 / 11) and wider["rows"][5]["n"] == 0
    with pytest.raises(ValueError, match="non-empty completion"):
        shift_profile([[], []], 3, 4)


def test_a_model_on_its_own_greedy_completions_is_all_unshifted(other, items):
    # the moved copy: the tiny random model itself answers every prompt with newlines alone
    task, rows, prompts = items
    model, tokenizer = load_model(other), load_tokenizer(other)
    completions = greedy_completions(model, tokenizer, prompts, max_new_tokens=12)
    assert all(completions) and len({tuple(ids) for ids in completions}) > 1
    summary = token_shift(model, [(p + c, len(p)) for p, c in zip(prompts, completions)], 3, 8)["summary"]
    assert summary["token_shift_unshifted"] == 1.0 and summary["token_shift_never_shifted"] == 1.0
    assert math.isnan(summary["token_shift_first_shift"]) and summary["token_shift_tokens"] == 4 * 12
    # the evaluation's completion texts (the samples' path), where re-tokenizing them gives the generated ids
    texts = generate(model, tokenizer, [row["prompt"] for row in rows], max_new_tokens=12)
    kept = [
        {**row, "completion": text}
        for row, text, ids in zip(rows, texts, completions)
        if tokenizer(text, add_special_tokens=False)["input_ids"] == ids
    ]
    assert kept, "no completion round-trips through its text"
    from_text = run(AnalysisInputs(other, other, TokenShiftConfig(positions=4), task, kept))["summary"]
    assert from_text["token_shift_unshifted"] == 1.0 and from_text["token_shift_completions"] == len(kept)


def test_a_moved_checkpoint_shifts_some_tokens(tiny_model, other, items):
    task, rows, _ = items
    result = run(AnalysisInputs(tiny_model, other, TokenShiftConfig(positions=6), task, rows))  # generates
    summary = result["summary"]
    assert summary["token_shift_shifted"] > 0 and sum(summary[key] for key in SHARES) == pytest.approx(1.0)
    assert 0 <= summary["token_shift_never_shifted"] < 1 and summary["token_shift_first_shift"] >= 0
    for row in result["rows"]:
        if row["n"]:
            assert row["unshifted"] + row["marginal"] + row["shifted"] == pytest.approx(1.0)


def test_analyse_token_shift_from_the_command_line(tmp_path, monkeypatch, capsys, tiny_model, other):
    from forgetlab.report import FigureData, draw_figure

    monkeypatch.chdir(tmp_path)
    same = ["--reference", other, "--model", other, "--task", "arithmetic", "--n", "4"]
    assert main(["analyse", "token_shift", *map(str, same), "--out", "same.json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    keys = {*SHARES, "token_shift_first_shift", "token_shift_never_shifted", "token_shift_tokens"}
    assert keys <= set(summary) and summary["token_shift_unshifted"] == 1.0
    written = read_json(tmp_path / "same.json")
    assert written["analysis"] == "token_shift" and len(written["rows"]) == TokenShiftConfig().positions
    # from evaluation samples: their completions, not generated ones
    write_jsonl([{"question": "What is 2 + 2?", "answer": "4", "operands": [2, 2], "operator": "+", "id": "a",
                  "prompt": "What is 2 + 2?", "sample": 0, "completion": "<answer>4</answer>", "correct": 1.0}],
                tmp_path / "s.jsonl")  # fmt: skip
    moved = ["--reference", tiny_model, "--model", other, "--task", "arithmetic", "--samples", "s.jsonl"]
    assert main(["analyse", "token_shift", *map(str, moved), "--out", "moved.json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["token_shift_completions"] == 1 and summary["token_shift_tokens"] > 3
    table = pd.DataFrame(read_json(tmp_path / "moved.json")["rows"]).assign(checkpoint="base/moved")
    draw_figure("token_shift", FigureData(pd.DataFrame(), analysis={"token_shift": table}), [tmp_path / "ts.png"])
    assert (tmp_path / "ts.png").stat().st_size > 0
