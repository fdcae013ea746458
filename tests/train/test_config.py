"""The stage config: each method's options, defaults and checks; every method has its trainer module."""

import dataclasses

import pytest

from forgetlab.options import ConfigError
from forgetlab.train.config import METHODS, GRPOStageConfig, SFTStageConfig, StageConfig
from forgetlab.train.stage import trainer_builder


def test_the_method_picks_the_config_class_and_its_defaults():
    sft = StageConfig.from_dict({"method": "sft", "task": "countdown"})
    grpo = StageConfig.from_dict({"method": "grpo", "task": "countdown", "lr": "3e-6"})
    assert isinstance(sft, SFTStageConfig) and sft.max_length == 256 and sft.lr == 1e-5
    assert isinstance(grpo, GRPOStageConfig) and grpo.lr == 3e-6 and grpo.rewards == {"correct": 1.0, "format": 0.1}


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            {"method": "sft", "task": "countdown", "learning_rate": 1e-5},
            r"stage.learning_rate: unknown option 'learning_rate'",
        ),
        (
            {"method": "sft", "task": "countdown", "beta": 0.1},
            r"stage.beta: not an option of method 'sft' \(an option of grpo, rloo\)",
        ),
        (
            {"method": "grpo", "task": "countdown", "num_generations": 1},
            r"stage.num_generations: 1 is less than the minimum of 2",
        ),
        ({"method": "grpo", "task": "countdown", "loss_type": "ppo"}, r"stage.loss_type: 'ppo' is not one of"),
        (
            {"method": "sft", "task": "countdown", "mix_oneshot": 1.5},
            r"stage.mix_oneshot: 1.5 is greater than the maximum of 1",
        ),
        ({"method": "dpo", "task": "countdown"}, r"stage.method: 'dpo' is not one of \['grpo', 'rloo', 'sft'\]"),
        ({"method": "sft"}, r"stage: 'task' is required"),
    ],
)
def test_stage_options_are_checked_per_method(spec, message):
    with pytest.raises(ConfigError, match=message):
        StageConfig.from_dict(spec, "stage")


def test_kept_steps_follow_save_every():
    stage = StageConfig.from_dict({"method": "sft", "task": "t", "steps": 3, "save_every": 1})
    assert stage.checkpoint_steps == [1, 2]  # the final step is the model itself
    assert dataclasses.replace(stage, save_every=None).checkpoint_steps == []


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_has_a_trainer_module(method):
    assert callable(trainer_builder(method))


def test_every_grpo_loss_type_offered_is_one_trl_accepts():
    from trl import GRPOConfig

    offered = GRPOStageConfig.json_schema()["properties"]["loss_type"]["enum"]
    for loss_type in offered:
        GRPOConfig(output_dir="/tmp/unused", loss_type=loss_type, use_cpu=True, report_to="none")
