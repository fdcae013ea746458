"""Real TRL trainers on the tiny random Llama: parameters move, step logs are written, failures leave nothing."""

import pytest
import torch
from safetensors.torch import load_file

from forgetlab.io import read_jsonl
from forgetlab.tasks import make_task
from forgetlab.train import StageConfig, train_stage

TASK = make_task("countdown", {"kind": "countdown"})
RECORDS = TASK.build("train", 16, seed=0)


def _weights(folder):
    return load_file(str(folder / "model.safetensors"))


def _changed(before, after):
    return any(not torch.equal(before[name], after[name]) for name in before)


def test_sft_moves_parameters_and_logs_every_step(tiny_model, tmp_path):
    stage = StageConfig.from_dict({"method": "sft", "task": "countdown", "lr": 1e-3, "steps": 2, "batch_size": 2})
    out = train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "sft", tmp_path / "log.jsonl")
    assert _changed(_weights(tiny_model), _weights(out))
    steps = [row for row in read_jsonl(tmp_path / "log.jsonl") if "loss" in row]
    assert [row["step"] for row in steps] == [1, 2]


def test_grpo_with_kl_penalty_logs_reward_and_kl(tiny_model, tmp_path):
    stage = StageConfig.from_dict(
        {"method": "grpo", "task": "countdown", "lr": 1e-3, "steps": 1, "batch_size": 2, "num_generations": 2,
         "max_completion_length": 6, "beta": 0.1}
    )  # fmt: skip
    train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "grpo", tmp_path / "log.jsonl")
    first = read_jsonl(tmp_path / "log.jsonl")[0]
    assert {"reward", "kl", "rewards/correct/mean", "rewards/format/mean", "completions/mean_length"} <= set(first)
    assert (tmp_path / "grpo" / "model.safetensors").exists()


def test_a_failing_stage_leaves_no_target_behind(tiny_model, tmp_path):
    stage = StageConfig.from_dict({"method": "grpo", "task": "countdown", "steps": 1, "rewards": {"novelty": 1.0}})
    with pytest.raises(ValueError, match="unknown reward"):
        train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "grpo", tmp_path / "log.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_stage_config_rejects_unknown_options():
    with pytest.raises(ValueError, match=r"unknown stage option\(s\) \['learning_rate'\]"):
        StageConfig.from_dict({"method": "sft", "task": "countdown", "learning_rate": 1e-5})
    with pytest.raises(ValueError, match="num_generations >= 2"):
        StageConfig.from_dict({"method": "grpo", "task": "countdown", "num_generations": 1})
