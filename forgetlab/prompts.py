"""Prompt formats: how a task's question is put to the model and what the model is asked to write.

  answer   the question, then: write only the final answer between <answer> tags (short; the CPU default)
  think    zero-shot: reason between <think> tags, then the answer between <answer> tags
  oneshot  a worked example in the think/answer format first, then the question; ``oneshot_example`` says where the
           example goes: in the user message (user), or a user and an assistant turn of its own (turns)
  boxed    the question, then math RL papers' instruction: reason step by step, the final answer within \\boxed{};
           the answer is read from the last \\boxed{}
  natural  the question alone; the answer is read from the text (last valid expression or number)

``chat`` (separately) chooses the model's chat template, with a system turn when ``system_prompt`` is set, or a plain
completion prompt; :func:`as_prompt` builds either, for training and evaluation alike. A prompt as
:func:`render_prompt` writes it is the user message, or (a one-shot prompt with its example in turns) the chat turns
before the answer.
"""

from __future__ import annotations

import random

from .options import OptionError

__all__ = [
    "CURRICULA", "FORMATS", "INSTRUCTIONS", "ONESHOT_EXAMPLES", "ONESHOT_EXAMPLE_HELP", "SYSTEM_PROMPT_HELP",
    "as_prompt", "check_oneshot_example", "check_system_prompt", "curriculum_formats", "next_try", "plain_prompt",
    "prompt_ids", "reference_completion", "render_prompt",
]  # fmt: skip

FORMATS = ("answer", "think", "oneshot", "boxed", "natural")

INSTRUCTIONS = {
    "answer": "Write only the final answer between <answer> and </answer>.",
    "think": "Think step by step between <think> and </think>, then write only the final answer between "
    "<answer> and </answer>.",
    "boxed": "Please reason step by step, and put your final answer within \\boxed{}.",
    "natural": "",
}

# One meaning, one help text: the option of training stages and of the evaluation.
SYSTEM_PROMPT_HELP = (
    "a system message put before the user turn in the chat template (needs chat: true); null: none, so the "
    "template's own default system turn where it has one"
)

# Where a one-shot prompt puts its worked example: the option of training stages and of the evaluation.
ONESHOT_EXAMPLES = ("user", "turns")
ONESHOT_EXAMPLE_HELP = (
    "where a one-shot prompt (format oneshot; mix_oneshot's one-shot prompts) puts its worked example: user, in the "
    "user message before the question; turns, in chat turns of its own before the question's user turn: a user turn "
    "asking the example as the question is asked and an assistant turn answering it in the think format, as the "
    "countdown seed does (needs chat: true)"
)


def _check(style: str) -> None:
    if style not in FORMATS:
        raise ValueError(f"unknown prompt format {style!r}; known: {list(FORMATS)}")


def render_prompt(task, record: dict, style: str, oneshot_example: str = "user") -> str | list[dict]:
    """The user message for ``record`` of ``task`` in ``style``; a one-shot prompt with ``oneshot_example`` 'turns'
    is instead the chat turns before the answer: the task's example asked and answered (think format), then
    ``record`` asked as the think format asks it."""
    _check(style)
    if oneshot_example not in ONESHOT_EXAMPLES:
        raise ValueError(f"unknown oneshot_example {oneshot_example!r}; known: {list(ONESHOT_EXAMPLES)}")
    question = task.question(record)
    if style == "oneshot":
        example = task.example()
        shown = reference_completion(task, example, "think")
        if oneshot_example == "turns":
            return [
                {"role": "user", "content": render_prompt(task, example, "think")},
                {"role": "assistant", "content": shown},
                {"role": "user", "content": render_prompt(task, record, "think")},
            ]
        return (
            f"Example:\n{task.question(example)}\n{INSTRUCTIONS['think']}\n{shown}\n\n"
            f"Now solve this one:\n{question}\n{INSTRUCTIONS['think']}"
        )
    instruction = INSTRUCTIONS[style]
    return f"{question} {instruction}" if instruction else question


def reference_completion(task, record: dict, style: str) -> str:
    """What a perfect answer to ``record`` looks like in ``style`` (the SFT target); a one-shot prompt is
    answered in the think format its example shows."""
    _check(style)
    answer = task.answer_text(record)
    if style == "answer":
        return f"<answer>{answer}</answer>"
    if style == "natural":
        return task.natural_answer(record)
    if style == "boxed":
        return f"{task.reasoning(record)}\n\\boxed{{{answer}}}"
    return f"<think>{task.reasoning(record)}</think>\n<answer>{answer}</answer>"


def check_system_prompt(chat: bool, system_prompt: str | None) -> None:
    """A system prompt is a turn of the chat template: without one it is refused, naming both options."""
    if system_prompt is not None and not chat:
        raise OptionError(
            "system_prompt",
            "system_prompt needs chat: true (chat: false is a plain 'Question: ... Answer:' prompt, without a "
            "system turn)",
        )


def check_oneshot_example(chat: bool, oneshot_example: str) -> None:
    """An example in turns of its own needs the chat template: without one it is refused, naming both options."""
    if oneshot_example == "turns" and not chat:
        raise OptionError(
            "oneshot_example",
            "oneshot_example: turns needs chat: true (chat: false is a plain 'Question: ... Answer:' prompt, without "
            "chat turns: oneshot_example: user puts the example in it)",
        )


def as_prompt(prompt: str | list[dict], chat: bool = True, system_prompt: str | None = None):
    """What the model is given for ``prompt`` (``render_prompt``'s: the user message, or the turns before the answer):
    chat turns for its template (the system turn first where there is one), as training datasets hold them and
    evaluation renders them, or a plain completion prompt."""
    check_system_prompt(chat, system_prompt)
    if not chat:
        if isinstance(prompt, list):  # an example in turns of its own
            check_oneshot_example(chat, "turns")
        return plain_prompt(prompt)
    system = [] if system_prompt is None else [{"role": "system", "content": system_prompt}]
    return [*system, *(prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}])]


def next_try(prompt, completion: str, feedback: str):
    """``prompt`` (``as_prompt``'s chat turns or plain text) followed by the model's ``completion`` and the verifier's
    ``feedback`` as the next user message, ready for the next try."""
    if isinstance(prompt, str):
        return f"{prompt}{completion}\n{plain_prompt(feedback)}"
    return [*prompt, {"role": "assistant", "content": completion}, {"role": "user", "content": feedback}]


def plain_prompt(text: str) -> str:
    """Completion-style prompt for models used without their chat template."""
    return f"Question: {text}\nAnswer:"


# How mix_oneshot's one-shot prompts are laid out over training (train.config's `curriculum` option).
CURRICULA = ("per_prompt", "per_step")


def curriculum_formats(
    count: int, style: str, mix_oneshot: float, seed: int = 0, curriculum: str = "per_prompt", batch_size: int = 1
) -> list[str]:
    """Formats for ``count`` prompts in training order, 'oneshot' or ``style`` (the one-shot -> zero-shot curriculum).

    per_prompt: prompt i of N is one-shot with probability m * (1 - i / (N - 1)), from m at the first to 0 at the last.
    per_step: the ``batch_size`` prompts of a step share one draw, one-shot with probability 1 - m * s / (S - 1) at
    step s of S, from 1 at the first step to 1 - m at the last (the countdown seed's schedule).
    """
    if not 0.0 <= mix_oneshot <= 1.0:
        raise ValueError(f"mix_oneshot must lie in [0, 1], not {mix_oneshot}")
    if curriculum not in CURRICULA:
        raise ValueError(f"unknown curriculum {curriculum!r}; known: {list(CURRICULA)}")
    if not mix_oneshot:  # no curriculum (per_step's formula would make every step one-shot)
        return [style] * count
    rng = random.Random(seed)
    if curriculum == "per_prompt":
        return ["oneshot" if rng.random() < mix_oneshot * (1 - i / max(count - 1, 1)) else style for i in range(count)]
    steps = -(-count // batch_size)
    oneshot = [rng.random() < 1 - mix_oneshot * s / max(steps - 1, 1) for s in range(steps)]
    return ["oneshot" if oneshot[i // batch_size] else style for i in range(count)]


def prompt_ids(tokenizer, prompt) -> list[int]:
    """The tokens the model reads for ``prompt`` (``as_prompt``'s): chat turns through its template, ready for the
    reply, or a plain prompt as the tokenizer encodes it."""
    if isinstance(prompt, str):
        return tokenizer(prompt)["input_ids"]
    return tokenizer.apply_chat_template(list(prompt), add_generation_prompt=True, tokenize=True, return_dict=False)
