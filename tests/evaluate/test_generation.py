"""Batched generation evaluation on the tiny model: greedy, sampled (mean@k, pass@k), formats, chat or plain;
on fixed completions, the accuracy of every answer extraction a task scores."""

import pytest

from forgetlab.evaluate import HFEngine, evaluate_records
from forgetlab.models import load_model, load_tokenizer
from forgetlab.report.tables import metrics_table
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


def test_the_system_prompt_opens_what_the_model_reads_and_the_metrics_say_so(model):
    _, tokenizer = model
    system, read = "you're a helpful assistant.", []

    def engine(texts, *_):
        read.extend(texts)
        return ["<answer>1</answer>"] * len(texts)

    metrics, rows = evaluate_records(engine, tokenizer, TASK, RECORDS[:2], system_prompt=system)
    assert metrics["system_prompt"] == system and metrics["chat"] is True
    assert all(
        text.count(system) == 1 and text.index(system) < text.index(row["prompt"]) for text, row in zip(read, rows)
    )
    assert rows[0]["prompt"] == RECORDS[0]["prompt"]  # the recorded prompt stays the user turn
    with pytest.raises(ValueError, match="system_prompt needs chat: true"):
        evaluate_records(engine, tokenizer, TASK, RECORDS[:2], chat=False, system_prompt=system)


def test_a_one_shot_example_in_turns_is_what_the_model_reads_and_the_samples_and_metrics_say_so(model):
    from forgetlab.prompts import reference_completion

    _, tokenizer = model
    system, read = "you're a helpful assistant.", []

    def engine(texts, *_):
        read.extend(texts)
        return ["<answer>1</answer>"] * len(texts)

    metrics, rows = evaluate_records(
        engine, tokenizer, TASK, RECORDS[:2], style="oneshot", system_prompt=system, oneshot_example="turns"
    )
    assert metrics["oneshot_example"] == "turns" and metrics["format"] == "oneshot"
    example = TASK.example()
    answer = reference_completion(TASK, example, "think")
    for text, row, record in zip(read, rows, RECORDS):
        assert [turn["role"] for turn in row["prompt"]] == ["user", "assistant", "user"]  # the turns shown
        assert row["prompt"][1]["content"] == answer and TASK.question(record) in row["prompt"][2]["content"]
        # in the template: the system turn, the example asked, its answer as the assistant's, then the question
        assert text == tokenizer.apply_chat_template(
            [{"role": "system", "content": system}, *row["prompt"]], tokenize=False, add_generation_prompt=True
        )
        places = [text.index(part) for part in (system, TASK.question(example), answer, TASK.question(record))]
        assert places == sorted(places) and text.count(answer) == 1
    user, rows = evaluate_records(engine, tokenizer, TASK, RECORDS[:2], style="oneshot", system_prompt=system)
    assert user["oneshot_example"] == "user" and answer in rows[0]["prompt"]  # one user message, the example in it
    with pytest.raises(ValueError, match="oneshot_example: turns needs chat: true"):
        evaluate_records(engine, tokenizer, TASK, RECORDS[:2], style="oneshot", chat=False, oneshot_example="turns")


def _fixed(completions):
    """An engine that answers prompt i with completions[i] (cycled over several samples per prompt)."""
    return lambda texts, *_: [completions[i % len(completions)] for i in range(len(texts))]


@pytest.mark.parametrize("extraction", ["lenient", "strict"])
def test_summary_reports_every_gsm8k_extraction_side_by_side(extraction):
    task = make_task("gsm8k", {"kind": "gsm8k", "extraction": extraction})
    records = task.finish([{"question": f"q{i}", "answer": "42"} for i in range(4)], "test")
    completions = [
        "#### 42",  # lenient, strict, flexible
        "The answer is 42.",  # lenient, strict_cot, flexible
        "The answer is 42. That took 3 steps.",  # lenient, strict_cot
        "The answer is 41. Wait, no: 42",  # flexible
    ]
    metrics, rows = evaluate_records(_fixed(completions), None, task, records, chat=False)
    expected = {"lenient": 0.75, "strict": 0.25, "strict_cot": 0.5, "flexible": 0.75}
    assert {name: metrics[f"accuracy_{name}"] for name in expected} == expected
    assert metrics["accuracy"] == expected[extraction]
    assert [row["correct_strict_cot"] for row in rows] == [0.0, 1.0, 1.0, 0.0]
    low, high = metrics["accuracy_strict_cot_ci"]
    assert low <= 0.5 <= high
    table = metrics_table([{"model": "m", "lineage": "base", "stage": None, "task": task.name}], [metrics])
    assert table.set_index("metric").loc["accuracy_flexible", "value"] == 0.75  # a row of metrics.csv


def test_sampled_summary_averages_every_extraction_per_prompt():
    task = make_task("gsm8k", {"kind": "gsm8k"})
    records = task.finish([{"question": f"q{i}", "answer": "42"} for i in range(3)], "test")
    engine = _fixed(["#### 42", "The answer is 42."])  # two samples of every prompt: one of each
    metrics, rows = evaluate_records(engine, None, task, records, chat=False, samples=2, temperature=1.0)
    assert len(rows) == 6 and metrics["accuracy_strict"] == metrics["accuracy_strict_cot"] == 0.5
    assert metrics["accuracy"] == metrics["accuracy_lenient"] == metrics["pass@2"] == 1.0
