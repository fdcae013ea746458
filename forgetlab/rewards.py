"""Reward functions in TRL's keyword contract: ``f(prompts, completions, **dataset_columns) -> list[float]``.

They are picklable callable objects (not closures) because TRL and accelerate may copy them to workers.
"""

from __future__ import annotations

from .tasks import Task

__all__ = ["CorrectnessReward", "FormatReward", "LengthReward", "completion_text", "task_rewards"]

# Column names TRL adds itself; everything else is a task record field.
_TRL_KEYS = {"prompts", "completions", "completion_ids", "trainer_state", "log_extra", "log_metric"}


def completion_text(completion) -> str:
    """Plain text of a completion, whether it is a string or a chat turn list."""
    if isinstance(completion, str):
        return completion
    return "".join(turn.get("content", "") for turn in completion if turn.get("role", "assistant") == "assistant")


def _records(columns: dict, n: int) -> list[dict]:
    fields = {key: value for key, value in columns.items() if key not in _TRL_KEYS}
    return [{key: value[i] for key, value in fields.items()} for i in range(n)]


class _TaskReward:
    name = "task"

    def __init__(self, task: Task):
        self.task = task
        self.__name__ = self.name  # TRL logs rewards under rewards/<__name__>/mean

    def __call__(self, prompts, completions, **columns) -> list[float]:
        records = _records(columns, len(completions))
        return [self.value(record, completion_text(c)) for record, c in zip(records, completions)]

    def value(self, record: dict, completion: str) -> float:
        raise NotImplementedError


class CorrectnessReward(_TaskReward):
    """1.0 when the task's scorer accepts the answer, else 0.0."""

    name = "correct"

    def value(self, record: dict, completion: str) -> float:
        return self.task.score(record, completion).correct


class FormatReward(_TaskReward):
    """1.0 for one well-formed ``<answer>`` block (optionally after one ``<think>`` block), else 0.0."""

    name = "format"

    def value(self, record: dict, completion: str) -> float:
        return self.task.score(record, completion).formatted


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


REWARD_KINDS = {"correct": CorrectnessReward, "format": FormatReward, "length": LengthReward}


def task_rewards(task: Task, weights: dict[str, float], max_length: int = 256) -> tuple[list, list[float]]:
    """Reward functions and their weights for TRL's ``reward_funcs`` / ``reward_weights``; zero weights dropped."""
    unknown = sorted(set(weights) - set(REWARD_KINDS))
    if unknown:
        raise ValueError(f"unknown reward(s) {unknown}; known: {sorted(REWARD_KINDS)}")
    build = {
        "correct": lambda: CorrectnessReward(task),
        "format": lambda: FormatReward(task),
        "length": lambda: LengthReward(max_length),
    }
    chosen = [(build[name](), float(w)) for name, w in weights.items() if w]
    if not chosen:
        raise ValueError("at least one reward needs a non-zero weight")
    funcs, values = zip(*chosen)
    return list(funcs), list(values)
