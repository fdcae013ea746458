"""The re-alignment test: its examples (the reference's own correct completions, or the task's answers in a
format), its SFT stage, and the realignment measure in the metrics table, on constructed cases."""

import numpy as np
import pandas as pd
import pytest

from forgetlab.analysis.config import RealignConfig
from forgetlab.analysis.realign import DEMONSTRATION, demonstrations, realign_stage
from forgetlab.evaluate import HFEngine, evaluate_records
from forgetlab.models import load_model, load_tokenizer
from forgetlab.report.tables import TABLE_COLUMNS, item_scores, with_realignment
from forgetlab.stats import share_recovered
from forgetlab.tasks import make_task
from forgetlab.train.config import StageConfig

ARITHMETIC = make_task("arithmetic", {"kind": "arithmetic"})


def test_examples_in_a_format_are_the_tasks_answers():
    records = ARITHMETIC.build("train", 6)
    found = demonstrations("unused", ARITHMETIC, records, RealignConfig(targets="natural", n=4))
    assert [row[DEMONSTRATION] for row in found] == [ARITHMETIC.reference(r, "natural") for r in records[:4]]


def test_the_references_own_right_completions_become_the_examples(tiny_model, tmp_path):
    """A task whose answers are the tiny model's own greedy completions for every other question: exactly those
    are kept, with the completion as the example."""
    task = make_task("mine", {"kind": "jsonl", "source": str(tmp_path), "scorer": "exact"})
    questions = [{"id": f"q{i}", "question": f"Say {word}.", "answer": "?"} for i, word in enumerate("abcdef")]
    tokenizer = load_tokenizer(tiny_model)
    engine = HFEngine(load_model(tiny_model, "cpu"), tokenizer, 8)
    _, rows = evaluate_records(engine, tokenizer, task, questions, max_new_tokens=6)
    records = [
        {**q, "answer": row["completion"].strip() if i % 2 == 0 else "never said"}
        for i, (q, row) in enumerate(zip(questions, rows))
    ]
    options = RealignConfig(n=2, candidates=6)
    found = demonstrations(tiny_model, task, records, options, max_new_tokens=6, device="cpu")
    assert [row["id"] for row in found] == ["q0", "q2"]
    assert [row[DEMONSTRATION] for row in found] == [rows[0]["completion"], rows[2]["completion"]]
    wrong = [{**record, "answer": "never said"} for record in records]
    with pytest.raises(ValueError, match="answers none of 6 mine train records right"):
        demonstrations(tiny_model, task, wrong, options, max_new_tokens=6, device="cpu")


def test_the_stage_is_a_short_sft_in_the_evaluated_format():
    stage = StageConfig.from_dict(realign_stage(RealignConfig(steps=3, lr=1e-4), "arithmetic", "answer"), "stage")
    assert (stage.tag, stage.steps, stage.lr, stage.format, stage.save_every) == ("sft", 3, 1e-4, "answer", 0)


def test_realignment_is_the_share_of_the_loss_brought_back():
    assert share_recovered(0.3, 0.1, 0.5) == pytest.approx(0.5)
    assert np.isnan(share_recovered(0.3, 0.5, 0.5))
    assert share_recovered(np.array([0.3, 0.2]), np.array([0.1, 0.1]), np.array([0.5, 0.1]))[0] == pytest.approx(0.5)


def _row(lineage, step, value, variant=None):
    return {"model": "m", "lineage": lineage, "stage": None, "method": None, "step": step, "task": "arithmetic",
            "format": None, "metric": "accuracy", "value": value, "ci_low": None, "ci_high": None, "seed": None,
            "variant": variant}  # fmt: skip


def test_the_table_gets_realignment_and_the_controls_gain_with_intervals():
    """Base right on items 0-4 of 10; the checkpoint on item 0; re-aligned, on items 0-3 (3 of 4 lost items
    back); the base re-aligned (the control) on items 0-5."""
    correct = {"base": range(5), "ckpt": range(1), "ckpt-realigned": range(4), "base-realigned": range(6)}
    items = {
        name: item_scores([{"id": f"i{i}", "correct": float(i in right)} for i in range(10)])
        for name, right in correct.items()
    }
    variant = "realigned/arithmetic"
    rows = [_row("base", 0, 0.5), _row("base/sft", 20, 0.1), _row("base/sft", 20, 0.4, variant),
            _row("base", 0, 0.6, variant)]  # fmt: skip
    keys = [("base", "0", ""), ("base/sft", "20", ""), ("base/sft", "20", variant), ("base", "0", variant)]
    by_key = {
        ("m", lineage, step, "arithmetic", "", v): items[name]
        for (lineage, step, v), name in zip(keys, ["base", "ckpt", "ckpt-realigned", "base-realigned"])
    }
    table = with_realignment(pd.DataFrame(rows, columns=TABLE_COLUMNS), {"base/sft": "base", "base": "base"}, by_key)
    found = table[table["metric"].isin(["realignment", "realign_gain"])].set_index(["lineage", "metric"])
    assert found.loc[("base/sft", "realignment"), "value"] == pytest.approx(0.75)
    assert found.loc[("base/sft", "realign_gain"), "value"] == pytest.approx(0.3)
    assert found.loc[("base", "realign_gain"), "value"] == pytest.approx(0.1)  # the control
    assert ("base", "realignment") not in found.index
    low, high = found.loc[("base/sft", "realignment"), ["ci_low", "ci_high"]]
    assert low <= 0.75 <= high


def test_the_command_realigns_a_checkpoint_to_a_format(tiny_model, tmp_path, monkeypatch, capsys):
    from forgetlab.cli import main

    monkeypatch.chdir(tmp_path)  # no config here: the arithmetic kind with its defaults
    out = tmp_path / "realigned" / "model"
    args = ["realign", "--reference", str(tiny_model), "--model", str(tiny_model), "--task", "arithmetic"]
    options = ["--targets", "answer", "--n", "2", "--steps", "1", "--batch-size", "2", "--threads", "1"]
    with pytest.raises(SystemExit):  # bounded as the config bounds analysis.realign.steps
        main([*args, "--steps", "0", "--out", str(out)])
    assert "analysis.realign.steps" in capsys.readouterr().err
    assert main([*args, *options, "--out", str(out)]) == 0
    assert (out / "model.safetensors").exists() and (tmp_path / "realigned" / "train_log.jsonl").exists()
    assert '"examples": 2' in capsys.readouterr().out
