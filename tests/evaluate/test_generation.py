"""Batched generation evaluation on the tiny model: greedy, sampled (mean@k, pass@k), formats, chat or plain."""

import pytest

from forgetlab.evaluate import HFEngine, evaluate_records
from forgetlab.models import load_model, load_tokenizer
from forgetlab.tasks import make_task

TASK = make_task("arithmetic", {"kind": "arithmetic"})
RECORDS = TASK.build("test", 5, seed=0)


@pytest.fixture(scope="module")
def model(tiny_model):
    """(engine, tokenizer) with the HF engine in batches of 4."""
    tokenizer = load_tokenizer(tiny_model)
    return HFEngine(load_model(tiny_model), tokenizer, batch_size=4), tokenizer


def test_greedy_is_deterministic_and_keeps_input_order(model):
    engine, tokenizer = model
    first, rows = evaluate_records(HFEngine(engine.model, tokenizer, 2), tokenizer, TASK, RECORDS, max_new_tokens=4)
    second, _ = evaluate_records(HFEngine(engine.model, tokenizer, 3), tokenizer, TASK, RECORDS, max_new_tokens=4)
    assert first == second  # batch composition does not change greedy results
    assert [row["id"] for row in rows] == [r["id"] for r in RECORDS]
    assert first["n"] == 5 and first["samples"] == 1 and 0 <= first["accuracy"] <= 1


def test_sampled_mode_reports_mean_and_pass_at_k(model):
    metrics, rows = evaluate_records(*model, TASK, RECORDS, max_new_tokens=4, samples=3, temperature=1.0)
    assert len(rows) == 15 and {row["sample"] for row in rows} == {0, 1, 2}
    assert metrics["n"] == 5 and metrics["pass@3"] >= metrics["accuracy"]
    with pytest.raises(ValueError, match="temperature"):
        evaluate_records(*model, TASK, RECORDS, samples=2)


@pytest.mark.parametrize("style, chat", [("natural", True), ("oneshot", False)])
def test_the_prompt_shown_follows_format_and_template(model, style, chat):
    metrics, rows = evaluate_records(*model, TASK, RECORDS[:2], max_new_tokens=2, style=style, chat=chat)
    assert metrics["format"] == style and metrics["chat"] is chat
    assert ("<answer>" in rows[0]["prompt"]) == (style != "natural")
