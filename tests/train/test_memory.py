"""Memory-R and Memory-R+, forgetlab's and the study's (variant seed), against values computed by hand on fixed
embeddings, and in a real GRPO stage."""

import io
import math

import numpy as np
import pytest

from forgetlab.io import read_jsonl
from forgetlab.tasks import make_task
from forgetlab.train import StageConfig, train_stage
from forgetlab.train.memory import EpisodicMemory, MemoryOptions, MemoryReward, annealing
from forgetlab.train.memory_seed import SeedMemoryReward, question_text, reasoning_block

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


@pytest.mark.parametrize("variant", [{}, {"variant": "seed", "explore_warmup": 0}])
def test_a_grpo_stage_with_memory_logs_its_raw_and_normalised_values(variant, tiny_model, tmp_path):
    task = make_task("countdown", {"kind": "countdown"})
    stage = StageConfig.from_dict(
        {"method": "grpo", "task": "countdown", "lr": 1e-3, "steps": 2, "batch_size": 2, "num_generations": 2,
         "max_completion_length": 6, "memory": {"weight": 0.5, "explore": True, **variant}}
    )  # fmt: skip
    records = task.build("train", 2, seed=0)  # two questions, seen at both steps
    train_stage(stage, task, records, tiny_model, tmp_path / "m", tmp_path / "log.jsonl")
    rows = [row for row in read_jsonl(tmp_path / "log.jsonl") if "memory/raw" in row]
    assert len(rows) == 2 and {"memory/normalised", "memory/scale", "rewards/memory/mean"} <= set(rows[0])
    assert ("memory/raw_explore" in rows[0]) == bool(variant)
    assert rows[0]["memory/scale"] == pytest.approx(1.0) and rows[1]["memory/scale"] == pytest.approx(0.5)


# the seed variant also embeds the questions, its keys: q3 lies nearer q1 (squared L2 0.4) than q2 (0.8)
QUESTIONS = {"q1": [1.0, 0.0], "q2": [0.0, 1.0], "q3": [0.8, 0.6], "q—é": [0.6, 0.8]}
SIN = math.sin(math.pi / 8)  # the distance from c to the centroid of a and c (half of |a - c|)


def _seed(**options):
    embed = lambda texts: np.array([{**VECTORS, **QUESTIONS}[text] for text in texts])  # noqa: E731
    correct = lambda record, text: record["ok"]  # noqa: E731 - the verdicts, given with each completion
    return SeedMemoryReward(MemoryOptions(variant="seed", anneal="constant", window=100, **options), correct, 10, embed)


def _ask(reward, rows, **columns):
    """(question, completion, verdict) rows, in one call."""
    questions, texts, verdicts = zip(*rows)
    prompts = [[{"role": "user", "content": question}] for question in questions]
    return reward(prompts=prompts, completions=list(texts), ok=verdicts, **columns)


def test_the_seed_variant_scores_after_remembering_against_the_centroid_under_the_nearest_key():
    reward = _seed()
    # a is remembered, then meets itself: distance 0, no range yet, so 1 - 0; b lies sqrt 2 from a: normalised 1
    assert _ask(reward, [("q1", "a", True), ("q1", "<reasoning>b</reasoning>\n<answer>3</answer>", False)]) == [1, 0]
    values = _ask(reward, [("q1", "c", True), ("q3", "b", False), ("q2", "b", True)])
    # c joins a: sin(pi/8) from their centroid; q3 has no success, its nearest key q1 lends a and c; q2's first
    # success meets itself again
    centroid = (np.array(VECTORS["a"]) + VECTORS["c"]) / 2
    assert values == pytest.approx(
        [1 - SIN / math.sqrt(2), 1 - np.linalg.norm(VECTORS["b"] - centroid) / math.sqrt(2), 1]
    )
    assert list(reward.exploit_window) == pytest.approx(
        [0, math.sqrt(2), SIN, np.linalg.norm(VECTORS["b"] - centroid), 0]
    )
    assert reward.successes.keys == ["q1", "q2"] and reward.failures.keys == []  # knn keeps no failures
    assert [text for text, _ in reward.successes.values[0]] == ["a", "c"]
    # k = 2 gathers the completions of both keys nearest q3: q1's, then q2's
    gathered = reward.successes.nearest(np.array(QUESTIONS["q3"]), 2)
    assert np.array_equal(gathered, [VECTORS["a"], VECTORS["c"], VECTORS["b"]])


def test_the_seed_variant_explores_once_failures_of_warmup_questions_are_remembered():
    logged = {}
    rows = [("q1", "b", False), ("q2", "d", False), ("q1", "a", True), ("q1", "c", True)]
    reward = _seed(explore=True, explore_warmup=2)
    values = _ask(reward, rows, log_metric=logged.__setitem__)
    # b: one question with failures, still warming up (and no success anywhere: exploit 0); d: two, and d meets
    # itself (novelty 0, no range); a: exploit 1 - 0 and novelty 1 against b (normalised 1); c: exploit normalised
    # 1 (reward 0), novelty 1 - cos 45 over the window [0, 1, 1 - cos 45]
    assert values == pytest.approx([0, 0, 2, 1 - math.sqrt(0.5)])
    assert list(reward.explore_window) == pytest.approx([0, 1, 1 - math.sqrt(0.5)])
    assert logged == pytest.approx({"memory/raw": SIN / 2, "memory/raw_explore": (2 - math.sqrt(0.5)) / 3,
                                    "memory/normalised": (3 - math.sqrt(0.5)) / 4, "memory/scale": 1.0})  # fmt: skip
    warming = _seed(explore=True, explore_warmup=3)  # two questions with failures: never past the warm-up
    assert _ask(warming, rows) == pytest.approx([0, 0, 1, 0]) and not warming.explore_window


def test_the_variants_differ_on_a_questions_first_success():
    # forgetlab: a finds nothing (0), then b meets a; the seed: a meets itself (1), then b is sqrt 2 from a (0)
    forgetlab, seed = _reward(), _seed()
    assert _call(forgetlab, ["a", "b"], ["q1", "q1"]) == [0, 0] and list(forgetlab.recent) == [0.5]
    assert _ask(seed, [("q1", "a", True), ("q1", "b", False)]) == [1, 0]


def test_the_study_reads_the_reasoning_block_and_the_question_turn():
    assert reasoning_block("<reasoning>\n2 + 2\n</reasoning>\n<answer>4</answer>") == "2 + 2"
    assert reasoning_block("<think>x</think> then <think>y</think>") == "y"  # the last block
    assert reasoning_block(" no tags ") == "no tags"
    assert question_text([{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]) == "q"
    assert question_text("q") == "q"


@pytest.mark.parametrize("make", [lambda: _reward(explore=True), lambda: _seed(explore=True, explore_warmup=1)])
def test_a_memory_restored_from_its_saved_arrays_scores_as_the_original(make):
    original, restored = make(), make()
    _ask(original, [("q—é", "a", True), ("q2", "b", False), ("q—é", "d", False)])
    saved = io.BytesIO()
    np.savez(saved, **original.state())
    saved.seek(0)
    with np.load(saved, allow_pickle=False) as arrays:
        restored.restore(arrays)
    rows = [("q—é", "c", True), ("q2", "a", False), ("q3", "d", False)]
    assert _ask(restored, rows) == _ask(original, rows)
    assert original.state().keys() == restored.state().keys()
    assert all(np.array_equal(original.state()[key], restored.state()[key]) for key in original.state())
