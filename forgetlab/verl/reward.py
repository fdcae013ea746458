"""forgetlab's rewards as verl's custom reward function (``reward.custom_reward_function``).

verl loads this file by its path and calls ``compute_score`` once per completion, from its reward manager, with
the row's ``data_source``, the decoded completion, the ground truth and the row's ``extra_info``; the settings add
``spec``, the JSON ``write_spec`` wrote. Absolute imports: verl imports the file outside its package.
"""

from __future__ import annotations

import functools
import json
import math

from forgetlab.io import write_json
from forgetlab.rewards import stage_rewards
from forgetlab.tasks import make_task
from forgetlab.train.config import StageConfig
from forgetlab.verl.data import record_of

__all__ = ["FINAL", "compute_score", "read_spec", "write_spec"]

# An episode's last try (tries.TriesAgentLoop puts it in the sample's fields), which the rewards score in place of
# the whole episode, as forgetlab's TRL rollouts do.
FINAL = "final_completion"


def write_spec(stage: dict, tasks: dict[str, dict], tokenizer: str, path) -> None:
    """What the reward function needs, as one JSON file: the stage, its tasks' specs (name -> spec) and the
    tokenizer folder (the length reward counts tokens)."""
    write_json({"stage": stage, "tasks": tasks, "tokenizer": tokenizer}, path)


@functools.cache
def read_spec(spec_path: str) -> tuple:
    """(stage, its tasks by name, tokenizer folder) of a spec file."""
    with open(spec_path) as handle:
        spec = json.load(handle)
    stage = StageConfig.from_dict(spec["stage"], "stage")
    tasks = {name: make_task(name, task) for name, task in spec["tasks"].items()}
    return stage, tasks, spec["tokenizer"]


@functools.cache
def _scorer(spec_path: str):
    """(reward functions, weights, tokenizer or None) of a spec file, built once per reward worker."""
    stage, tasks, tokenizer_dir = read_spec(spec_path)
    functions, values = stage_rewards(stage, tasks)
    tokenizer = None
    if stage.rewards.get("length"):
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    return functions, values, tokenizer


def compute_score(data_source, solution_str, ground_truth, extra_info=None, spec=None, **_) -> dict:
    """The completion's weighted reward as ``score``, and each reward function's value under its own name (verl
    keeps them as the sample's reward_extra_info); an episode of tries is scored on its last."""
    functions, weights, tokenizer = _scorer(spec)
    record = record_of(extra_info)
    solution_str = extra_info.get(FINAL) or solution_str
    columns = {key: [value] for key, value in record.items()}
    ids = None if tokenizer is None else [tokenizer(solution_str, add_special_tokens=False)["input_ids"]]
    scores = {}
    for function in functions:
        value = function([None], [solution_str], completion_ids=ids, **columns)[0]
        if value is None or not math.isfinite(value):
            raise FloatingPointError(f"reward {function.__name__!r} is {value} for {solution_str[:80]!r}")
        scores[function.__name__] = float(value)
    return {"score": sum(weight * value for weight, value in zip(weights, scores.values())), **scores}
