"""Prompt formats: every format renders and its reference scores; the chat turns of a prompt, with or without a
system turn, and a one-shot example in the user message or in turns of its own; the one-shot curriculum, per prompt
and per step."""

import pytest

from forgetlab.options import OptionError
from forgetlab.prompts import as_prompt, check_oneshot_example, curriculum_formats, render_prompt
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


SYSTEM = "You are a mathematical puzzle solver."
THINK = "Think step by step between <think> and </think>, then write only the final answer between"


@pytest.mark.parametrize("name, spec", [("countdown", {"kind": "countdown"}), ("gsm8k", {"kind": "gsm8k"})])
def test_a_one_shot_example_in_turns_is_asked_and_answered_before_the_question(name, spec):
    task = make_task(name, spec)
    record = (
        task.build("test", 1, seed=0)[0]
        if name == "countdown"
        else {"question": "Ann has 2 cats and 3 dogs. How many pets?", "answer": "5"}
    )
    example = task.example()
    turns = as_prompt(render_prompt(task, record, "oneshot", "turns"), system_prompt=SYSTEM)
    assert [turn["role"] for turn in turns] == ["system", "user", "assistant", "user"]
    system, asked, answered, question = (turn["content"] for turn in turns)
    assert system == SYSTEM
    # the example is asked as the question is (the think format's instruction) and answered in the think format
    assert asked == render_prompt(task, example, "think") and asked.startswith(task.question(example))
    assert THINK in asked and task.question(record) not in asked
    assert answered == task.reference(example, "think") and answered.endswith(
        f"<answer>{task.answer_text(example)}</answer>"
    )
    assert task.score(example, answered).correct == 1.0 and task.score(example, answered).formatted == 1.0
    assert question == render_prompt(task, record, "think") and task.question(example) not in question
    # without a system prompt the turns open with the example; in the user message it is one turn, as before
    assert [turn["role"] for turn in as_prompt(render_prompt(task, record, "oneshot", "turns"))] == [
        "user",
        "assistant",
        "user",
    ]
    (user,) = as_prompt(render_prompt(task, record, "oneshot"))
    assert user["role"] == "user" and user["content"].index(answered) < user["content"].index(task.question(record))
    # other formats have no example to place
    assert render_prompt(task, record, "think", "turns") == render_prompt(task, record, "think")


def test_the_countdown_example_is_the_seeds_worked_example():
    task = make_task("countdown", {"kind": "countdown"})
    example = task.example()
    assert (example["numbers"], example["target"], example["answer"]) == ([3, 5, 2], 13, "5 * 2 + 3")
    assert task.reference(example, "think") == (  # RL_GRPO grpo/prompts.py EXAMPLE_A
        "<think>\nI need to reach 13 using [3, 5, 2].\nTry 3 + 5 + 2 = 10. Too small, need multiplication.\n"
        "Try 3 * 5 + 2 = 17. Too large.\nTry 5 * 2 + 3 = 13. Yes!\n</think>\n<answer>5 * 2 + 3</answer>"
    )


def test_example_turns_need_the_chat_template_and_a_known_place():
    task = make_task("countdown", {"kind": "countdown"})
    record = task.build("test", 1, seed=0)[0]
    with pytest.raises(OptionError, match=r"oneshot_example: turns needs chat: true \(chat: false is a plain") as error:
        as_prompt(render_prompt(task, record, "oneshot", "turns"), chat=False)
    assert error.value.field == "oneshot_example"
    with pytest.raises(OptionError, match="oneshot_example: turns needs chat: true"):
        check_oneshot_example(False, "turns")
    check_oneshot_example(False, "user")
    check_oneshot_example(True, "turns")
    assert as_prompt(render_prompt(task, record, "oneshot"), chat=False).startswith("Question: Example:\n")
    with pytest.raises(ValueError, match=r"unknown oneshot_example 'system'; known: \['user', 'turns'\]"):
        render_prompt(task, record, "oneshot", "system")


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
