"""Memory-R and Memory-R+ against values computed by hand on fixed embeddings, and in a real GRPO stage."""

import math

import numpy as np
import pytest

from forgetlab.io import read_jsonl
from forgetlab.tasks import make_task
from forgetlab.train import StageConfig, train_stage
from forgetlab.train.memory import EpisodicMemory, MemoryOptions, MemoryReward, annealing

# fixed unit embeddings of the completions' texts
VECTORS = {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [math.sqrt(0.5), math.sqrt(0.5)], "d": [-1.0, 0.0]}


def _embed(texts):
    return np.array([VECTORS[text] for text in texts])


def _reward(**options):
    correct = lambda record, text: text in ("a", "c")  # noqa: E731 - the tasks' scorer, fixed for the test
    return MemoryReward(MemoryOptions(anneal="constant", **options), correct, steps=10, embed=_embed)


def _call(reward, texts, ids):
    return reward(prompts=["q"] * len(texts), completions=texts, id=ids)


def test_memory_r_rewards_closeness_to_past_successes_scored_before_remembering():
    reward = _reward()
    # a meets no memory; b meets a (0.5), the only value in the window: no range, no reward yet
    assert _call(reward, ["a", "b"], ["q1", "q1"]) == [0.0, 0.0]
    # q1 remembers a (a success); b failed and R does not keep failures
    assert reward.successes.distance("q1", np.array(VECTORS["c"]), 1) == pytest.approx(1 - math.sqrt(0.5))
    raw = [reward.raw_value("q1", np.array(VECTORS[t])) for t in ("a", "c", "b", "d")]
    assert raw == pytest.approx([1.0, 1 - (1 - math.sqrt(0.5)) / 2, 0.5, 0.0])
    values = _call(reward, ["b", "c", "d"], ["q1", "q1", "q2"])  # q2 has no memory
    assert values == pytest.approx([0.0, 1.0, 0.0])  # min-max over the window: c highest, b lowest
    assert sorted(reward.recent) == pytest.approx([0.5, 0.5, 1 - (1 - math.sqrt(0.5)) / 2])
    # one after the other: a later completion of the same question meets an earlier success of the same call
    fresh = _reward()
    _call(fresh, ["a", "c"], ["q", "q"])
    assert list(fresh.recent) == pytest.approx([1 - (1 - math.sqrt(0.5)) / 2])


def test_memory_r_plus_adds_novelty_against_remembered_failures_never_itself():
    reward = _reward(explore=True)
    _call(reward, ["b"], ["q"])  # a failure, remembered after it was scored
    assert reward.raw_value("q", np.array(VECTORS["b"])) == pytest.approx(0.0)  # the same text again: not novel
    assert reward.raw_value("q", np.array(VECTORS["d"])) == pytest.approx(0.5)  # orthogonal: distance 1 -> 0.5
    _call(reward, ["a"], ["q"])
    # a success a, a failure b: c is 1 - (1 - cos45)/2 close to a and (1 - cos45)/2 novel against b
    assert reward.raw_value("q", np.array(VECTORS["c"])) == pytest.approx(1.0)


def test_each_question_forgets_its_oldest_vector_first():
    memory = EpisodicMemory(capacity=2)
    for name in ("a", "b", "d"):
        memory.add("q", np.array(VECTORS[name]))
    assert [list(v) for v in memory.entries["q"]] == [VECTORS["b"], VECTORS["d"]]
    assert memory.distance("q", np.array(VECTORS["a"]), k=2) == pytest.approx((1.0 + 2.0) / 2)


def test_annealing_schedules():
    assert annealing("constant", 5, 10) == 1.0
    assert annealing("linear", 5, 10) == pytest.approx(0.5)
    assert annealing("cosine", 10, 10) == pytest.approx(0.0) and annealing("cosine", 0, 10) == pytest.approx(1.0)


def test_a_grpo_stage_with_memory_logs_its_raw_and_normalised_values(tiny_model, tmp_path):
    task = make_task("countdown", {"kind": "countdown"})
    stage = StageConfig.from_dict(
        {"method": "grpo", "task": "countdown", "lr": 1e-3, "steps": 2, "batch_size": 2, "num_generations": 2,
         "max_completion_length": 6, "memory": {"weight": 0.5, "explore": True}}
    )  # fmt: skip
    records = task.build("train", 2, seed=0)  # two questions, seen at both steps
    train_stage(stage, task, records, tiny_model, tmp_path / "m", tmp_path / "log.jsonl")
    rows = [row for row in read_jsonl(tmp_path / "log.jsonl") if "memory/raw" in row]
    assert len(rows) == 2 and {"memory/normalised", "memory/scale", "rewards/memory/mean"} <= set(rows[0])
    assert rows[0]["memory/scale"] == pytest.approx(1.0) and rows[1]["memory/scale"] == pytest.approx(0.5)
