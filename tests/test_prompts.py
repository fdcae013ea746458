"""Prompt formats: every format renders and its reference scores; the chat turns of a prompt, with or without a
system turn; the one-shot curriculum, per prompt and per step."""

import pytest

from forgetlab.options import OptionError
from forgetlab.prompts import as_prompt, curriculum_formats, render_prompt
from forgetlab.tasks import make_task

TAGGED = ("answer", "think", "oneshot")


@pytest.mark.parametrize(
    "name, spec",
    [("countdown", {"kind": "countdown"}), ("arithmetic", {"kind": "arithmetic"}), ("gp", {"kind": "generalpoints"})],
)
@pytest.mark.parametrize("style", ["answer", "think", "oneshot", "boxed", "natural"])
def test_every_format_renders_and_its_reference_scores(name, spec, style):
    task = make_task(name, spec)
    record = task.build("test", 1, seed=0)[0]
    prompt = render_prompt(task, record, style)
    assert task.question(record) in prompt
    assert ("<answer>" in prompt) == (style in TAGGED) and ("\\boxed{}" in prompt) == (style == "boxed")
    reference = task.reference(record, "think" if style == "oneshot" else style)
    assert task.for_format(style).score(record, reference).correct == 1.0


@pytest.mark.parametrize(
    "name, spec, record",
    [
        ("countdown", {"kind": "countdown"}, {"numbers": [2, 3, 4], "target": 14, "answer": "2 + 3 * 4"}),
        ("arithmetic", {"kind": "arithmetic"}, {"question": "What is 6 * 7?", "answer": "42"}),
        ("mmlu", {"kind": "mmlu"}, {"question": "?", "choices": ["a", "b", "c", "d"], "answer": "C"}),
        ("gsm8k", {"kind": "gsm8k"}, {"question": "?", "answer": "42"}),
    ],
)
def test_the_boxed_format_reads_the_last_box_and_scores_it_as_the_format(name, spec, record):
    task = make_task(name, spec)
    boxed, tagged = task.for_format("boxed"), task.for_format("answer")
    answer = record["answer"]
    right = f"First \\boxed{{0}}, then better: \\boxed{{{answer}}}"
    for completion in (right, task.reference(record, "boxed")):
        assert (boxed.score(record, completion).correct, boxed.score(record, completion).formatted) == (1.0, 1.0)
    assert boxed.score(record, f"\\boxed{{{answer}}} and at last \\boxed{{1}}").correct == 0.0
    assert boxed.score(record, f"<answer>{answer}</answer>").formatted == 0.0  # tags are not the boxed format
    assert tagged.score(record, f"\\boxed{{{answer}}}").formatted == 0.0  # nor a box the tagged one
    assert boxed.for_format("answer") == tagged and task.for_format("answer") is task


def test_chat_turns_put_the_system_turn_first_and_a_plain_prompt_has_none():
    assert as_prompt("2 + 2?") == [{"role": "user", "content": "2 + 2?"}]
    assert as_prompt("2 + 2?", system_prompt="You are a mathematical puzzle solver.") == [
        {"role": "system", "content": "You are a mathematical puzzle solver."},
        {"role": "user", "content": "2 + 2?"},
    ]
    assert as_prompt("2 + 2?", chat=False) == "Question: 2 + 2?\nAnswer:"
    with pytest.raises(OptionError, match=r"system_prompt needs chat: true") as error:
        as_prompt("2 + 2?", chat=False, system_prompt="you're a helpful assistant.")
    assert error.value.field == "system_prompt"


def test_one_shot_curriculum_per_prompt_decays_linearly():
    styles = curriculum_formats(2000, "think", 0.8, seed=0)
    first, last = styles[:200].count("oneshot") / 200, styles[-200:].count("oneshot") / 200
    assert 0.65 < first < 0.85 and last < 0.1
    assert styles == curriculum_formats(2000, "think", 0.8, seed=0)
    assert set(curriculum_formats(50, "answer", 0.0)) == {"answer"}


def _steps(styles, batch_size):
    return [styles[i : i + batch_size] for i in range(0, len(styles), batch_size)]


def test_one_shot_curriculum_per_step_decides_for_whole_steps_from_1_to_1_minus_m():
    # 2000 steps of 3 prompts; the last step holds 2: every prompt of a step shares its format
    steps = _steps(curriculum_formats(5999, "answer", 0.8, 1, "per_step", batch_size=3), 3)
    assert len(steps) == 2000 and len(steps[-1]) == 2 and all(len(set(step)) == 1 for step in steps)
    oneshot = [step[0] == "oneshot" for step in steps]
    assert oneshot[0]  # chance 1 at the first step
    # chance 1 - 0.8 s / 1999 at step s: 0.6 on average, 0.96 over the first 200 steps, 0.24 over the last 200
    assert abs(sum(oneshot) / 2000 - 0.6) < 0.04
    assert abs(sum(oneshot[:200]) / 200 - 0.96) < 0.05 and abs(sum(oneshot[-200:]) / 200 - 0.24) < 0.1
    assert oneshot == [s[0] == "oneshot" for s in _steps(curriculum_formats(5999, "answer", 0.8, 1, "per_step", 3), 3)]


@pytest.mark.parametrize("seed", range(5))
def test_per_step_with_m_1_starts_one_shot_and_ends_zero_shot(seed):
    steps = _steps(curriculum_formats(40, "think", 1.0, seed, "per_step", batch_size=4), 4)
    assert steps[0] == ["oneshot"] * 4 and steps[-1] == ["think"] * 4
    assert set(curriculum_formats(40, "think", 0.0, seed, "per_step", batch_size=4)) == {"think"}
