"""Real TRL trainers on the tiny random Llama: parameters move, step logs are written, failures leave nothing."""

import pytest
import torch
from safetensors.torch import load_file

from forgetlab.io import read_jsonl
from forgetlab.tasks import make_task
from forgetlab.train import StageConfig, train_stage
from forgetlab.train.advantages import ADVANTAGE_EDGES, HISTOGRAM_KEY, ZERO_GROUPS_KEY, advantage_summary

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


def test_grpo_with_kl_penalty_logs_reward_kl_and_advantages(tiny_model, tmp_path):
    stage = StageConfig.from_dict(
        {"method": "grpo", "task": "countdown", "lr": 1e-3, "steps": 1, "batch_size": 2, "num_generations": 2,
         "max_completion_length": 6, "beta": 0.1}
    )  # fmt: skip
    train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "grpo", tmp_path / "log.jsonl")
    first = read_jsonl(tmp_path / "log.jsonl")[0]
    assert {"reward", "kl", "rewards/correct/mean", "rewards/format/mean", "completions/mean_length"} <= set(first)
    # the step's 2 prompts x 2 completions, each advantage in one bin; two groups: zero share 0, 0.5 or 1
    assert sum(first[HISTOGRAM_KEY]) == 4 and len(first[HISTOGRAM_KEY]) == len(ADVANTAGE_EDGES) - 1
    assert first[ZERO_GROUPS_KEY] in (0.0, 0.5, 1.0)
    assert (tmp_path / "grpo" / "model.safetensors").exists()


def test_advantage_histogram_bins_and_zero_groups():
    summary = advantage_summary([0.0, 0.0, 0.0, 0.0, 1.5, -1.5, 0.5, -0.5, 9.0, -9.0, 0.0, 0.0], group_size=4)
    counts = summary[HISTOGRAM_KEY]
    centre = len(counts) // 2  # exact zeros have the middle bin to themselves
    assert counts[centre] == 6 and counts[centre + 6] == 1 and counts[centre - 2] == 1
    assert counts[-1] == 1 and counts[0] == 1  # beyond ±3: the outermost bins
    assert summary[ZERO_GROUPS_KEY] == pytest.approx(1 / 3)  # the first of three groups; the third has ±9
    assert advantage_summary([0.0] * 4 + [1.0, -1.0, 0.0, 0.0], 4)[ZERO_GROUPS_KEY] == 0.5
    assert advantage_summary([], 4) == {}


def test_a_failing_stage_leaves_no_target_behind(tiny_model, tmp_path, monkeypatch):
    from transformers import Trainer

    def killed(self, *args, **kwargs):
        raise RuntimeError("the job was killed")

    monkeypatch.setattr(Trainer, "train", killed)
    stage = StageConfig.from_dict({"method": "sft", "task": "countdown", "steps": 1, "save_every": 0})
    with pytest.raises(RuntimeError, match="killed"):
        train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "sft", tmp_path / "log.jsonl", tmp_path / "steps")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_intermediate_checkpoints_are_kept_every_k_steps(tiny_model, tmp_path):
    stage = StageConfig.from_dict(
        {"method": "sft", "task": "countdown", "lr": 1e-3, "steps": 3, "batch_size": 2, "save_every": 1}
    )
    assert stage.checkpoint_steps == [1, 2]  # the final step is the model itself
    out = train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "sft", tmp_path / "log.jsonl", tmp_path / "steps")
    assert sorted(p.name for p in (tmp_path / "steps").iterdir()) == ["1", "2"]
    first, second, final = _weights(tmp_path / "steps/1"), _weights(tmp_path / "steps/2"), _weights(out)
    assert _changed(first, second) and _changed(second, final) and _changed(_weights(tiny_model), first)
    assert (tmp_path / "steps/1/tokenizer.json").exists()
    assert not (out / "training_args.bin").exists() and not (tmp_path / "steps/1/training_args.bin").exists()
