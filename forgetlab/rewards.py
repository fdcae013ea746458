"""Reward functions in TRL's keyword contract: ``f(prompts, completions, **dataset_columns) -> list[float]``.

They are picklable callable objects (not closures) because TRL and accelerate may copy them to workers.
"""

from __future__ import annotations

import re

from .parsing import mentions_boxed
from .tasks import Task

# An episode's last try (a rollout's extra field), which the rewards score in place of the whole episode.
FINAL = "final_completion"

__all__ = [
    "FINAL", "BoxedFormatReward", "CorrectnessReward", "FormatReward", "GradedReward", "LengthReward",
    "TagCreditReward", "XmlReward", "answers", "as_scored", "completion_text", "record_columns", "stage_rewards",
    "task_rewards",
]  # fmt: skip

# Column names TRL adds itself, and the last try of an episode (train/episodes.py); everything else is a task
# record field.
_TRL_KEYS = {"prompts", "completions", "completion_ids", "trainer_state", "log_extra", "log_metric", FINAL}


def completion_text(completion) -> str:
    """Plain text of a completion, whether it is a string or a chat turn list."""
    if isinstance(completion, str):
        return completion
    return "".join(turn.get("content", "") for turn in completion if turn.get("role", "assistant") == "assistant")


def answers(completions, columns: dict) -> list[str]:
    """The text each reward scores: an episode's last try where the rollouts give it, else the completion."""
    return list(columns.get(FINAL) or [completion_text(c) for c in completions])


def record_columns(columns: dict, n: int) -> list[dict]:
    """The ``n`` records of a batch from TRL's columns (every task field, without TRL's own keys)."""
    fields = {key: value for key, value in columns.items() if key not in _TRL_KEYS}
    return [{key: value[i] for key, value in fields.items()} for i in range(n)]


class _TaskReward:
    """Scores each completion as the task its record belongs to (its ``task`` field; ``task`` when absent), so
    replayed prior-task prompts get their own task's reward."""

    name = "task"

    def __init__(self, task: Task, others: dict[str, Task] | None = None):
        self.task, self.tasks = task, {task.name: task, **(others or {})}
        self.__name__ = self.name  # TRL logs rewards under rewards/<__name__>/mean

    def __call__(self, prompts, completions, **columns) -> list[float]:
        records = record_columns(columns, len(completions))
        return [self.of(record, text) for record, text in zip(records, answers(completions, columns))]

    def of(self, record: dict, completion: str) -> float:
        """The reward of one completion, as the task of its record."""
        return self.value(self.tasks.get(record.get("task"), self.task), record, completion)

    def value(self, task: Task, record: dict, completion: str) -> float:
        raise NotImplementedError


class CorrectnessReward(_TaskReward):
    """1.0 when the task's scorer accepts the answer, else 0.0."""

    name = "correct"

    def value(self, task: Task, record: dict, completion: str) -> float:
        return task.score(record, completion).correct


class FormatReward(_TaskReward):
    """1.0 for one well-formed ``<answer>`` block (optionally after one ``<think>`` block), or in the boxed format for
    a ``\\boxed{}`` answer; else 0.0."""

    name = "format"

    def value(self, task: Task, record: dict, completion: str) -> float:
        return task.score(record, completion).formatted


class LengthReward:
    """1 - (completion tokens / max_length), in [0, 1]: a positive weight favours short answers, a negative
    weight long ones."""

    __name__ = "length"

    def __init__(self, max_length: int):
        self.max_length = max_length

    def __call__(self, prompts, completions, completion_ids=None, **columns) -> list[float]:
        if completion_ids is None:  # no token ids: characters / 4 approximates tokens
            sizes = [len(completion_text(c)) / 4 for c in completions]
        else:
            sizes = [len(ids) for ids in completion_ids]
        return [max(0.0, 1.0 - size / self.max_length) for size in sizes]


class BoxedFormatReward:
    """1.0 when the completion holds ``boxed{...}`` (backslash or not), else 0.0: seed 000's strict_format_reward_func,
    whatever the task and prompt format."""

    __name__ = "boxed_format"

    def __call__(self, prompts, completions, **columns) -> list[float]:
        return [float(mentions_boxed(text)) for text in answers(completions, columns)]


class GradedReward(_TaskReward):
    """A task's own graded reward (GeneralPoints: the RL_Heals_SFT environment's +5 ... -3 by what is wrong)."""

    name = "graded"

    def value(self, task: Task, record: dict, completion: str) -> float:
        if not hasattr(task, "graded_reward"):
            raise ValueError(f"task {task.name!r} ({task.tag}) has no graded reward; generalpoints has one")
        return task.graded_reward(record, completion)


class TagCreditReward(_TaskReward):
    """The countdown seed's reward (RL_GRPO grpo/validation.py:81-119): 1.0 for a correct answer, else 0.1 for each
    of a ``<think>...</think>`` and an ``<answer>...</answer>`` block present (the tags' credit is replaced, not
    added to, when the answer is right: weighted rewards cannot say that)."""

    name = "tag_credit"
    _TAGS = (re.compile(r"<think>.*?</think>", re.DOTALL), re.compile(r"<answer>.*?</answer>", re.DOTALL))

    def value(self, task: Task, record: dict, completion: str) -> float:
        if task.score(record, completion).correct:
            return 1.0
        return 0.1 * sum(bool(tag.search(completion)) for tag in self._TAGS)


def _xml_answer(text: str) -> str:
    return text.split("<answer>")[-1].split("</answer>")[0].strip()


def _xml_count(text: str) -> float:
    count = 0.0
    if text.count("<reasoning>\n") == 1:
        count += 0.125
    if text.count("\n</reasoning>\n") == 1:
        count += 0.125
    if text.count("\n<answer>\n") == 1:
        count += 0.125 - len(text.split("\n</answer>\n")[-1]) * 0.001
    if text.count("\n</answer>") == 1:
        count += 0.125 - (len(text.split("\n</answer>")[-1]) - 1) * 0.001
    return count


# Memory-R's format rewards (Memory-R utils_gsm8k.py:168-203), as its code computes them: its regexes match from the
# start of the text and without DOTALL, so a reasoning block over several lines fails the soft and strict checks.
_XML_REWARDS = {
    "xml_count": _xml_count,
    "soft_format": lambda text: 0.5 * bool(re.match(r"<reasoning>.*?</reasoning>\s*<answer>.*?</answer>", text)),
    "strict_format": lambda text: (
        0.5 * bool(re.match(r"^<reasoning>\n.*?\n</reasoning>\n<answer>\n.*?\n</answer>\n$", text))
    ),
    "integer_answer": lambda text: 0.5 * _xml_answer(text).isdigit(),
}


class XmlReward:
    """One of Memory-R's format rewards over ``<reasoning>``/``<answer>`` blocks, in its own units (xml_count: up to
    0.5, 0.125 per tag where it belongs less 0.001 per character after the answer; soft_format, strict_format,
    integer_answer: 0.5), so weight 1.0 each gives the study's unweighted sum."""

    def __init__(self, kind: str):
        self.kind = self.__name__ = kind

    def __call__(self, prompts, completions, **columns) -> list[float]:
        score = _XML_REWARDS[self.kind]
        return [float(score(text)) for text in answers(completions, columns)]


REWARD_KINDS = {
    "correct": CorrectnessReward, "format": FormatReward, "length": LengthReward, "boxed_format": BoxedFormatReward,
    "tag_credit": TagCreditReward, "graded": GradedReward, **dict.fromkeys(_XML_REWARDS, XmlReward),
}  # fmt: skip


def task_rewards(
    task: Task, weights: dict[str, float], max_length: int = 256, others: dict[str, Task] | None = None
) -> tuple[list, list[float]]:
    """Reward functions and their weights for TRL's ``reward_funcs`` / ``reward_weights``; zero weights dropped.
    ``others`` (name -> task) score the records of further tasks (replay) as their own."""
    unknown = sorted(set(weights) - set(REWARD_KINDS))
    if unknown:
        raise ValueError(f"unknown reward(s) {unknown}; known: {sorted(REWARD_KINDS)}")
    build = {
        "correct": lambda: CorrectnessReward(task, others),
        "format": lambda: FormatReward(task, others),
        "length": lambda: LengthReward(max_length),
        "boxed_format": BoxedFormatReward,
        "tag_credit": lambda: TagCreditReward(task, others),
        "graded": lambda: GradedReward(task, others),
        **{kind: (lambda kind=kind: XmlReward(kind)) for kind in _XML_REWARDS},
    }
    chosen = [(build[name](), float(w)) for name, w in weights.items() if w]
    if not chosen:
        raise ValueError("at least one reward needs a non-zero weight")
    funcs, values = zip(*chosen)
    return list(funcs), list(values)


def as_scored(stage, tasks: dict[str, Task]) -> dict[str, Task]:
    """Each of a stage's tasks (name -> task) as the stage scores it: in the stage's prompt format, else its own."""
    return {name: task.for_format(stage.format or task.format) for name, task in tasks.items()}


def stage_rewards(stage, tasks: dict[str, Task]) -> tuple[list, list[float]]:
    """The reward functions and weights of an RL stage's ``rewards`` (none when every weight is 0), its own task's
    records scored as that task and the others' (replay) as theirs, each in the stage's format."""
    scored = as_scored(stage, tasks)
    own = scored.pop(stage.task)
    chosen = {name: weight for name, weight in stage.rewards.items() if weight}
    return task_rewards(own, chosen, stage.max_completion_length, scored) if chosen else ([], [])
