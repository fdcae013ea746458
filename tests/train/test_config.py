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
            r"stage.beta: not an option of method 'sft' \(an option of grpo, ppo, rloo\)",
        ),
        (
            {"method": "grpo", "task": "countdown", "num_generations": 1},
            r"stage.num_generations: grpo's advantages compare a group: 2 or more completions",
        ),
        ({"method": "grpo", "task": "countdown", "loss_type": "ppo"}, r"stage.loss_type: 'ppo' is not one of"),
        (
            {"method": "sft", "task": "countdown", "mix_oneshot": 1.5},
            r"stage.mix_oneshot: 1.5 is greater than the maximum of 1",
        ),
        ({"method": "dpo", "task": "countdown"}, r"stage.method: 'dpo' is not one of \['grpo', 'ppo', 'rloo', 'sft'\]"),
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


@pytest.mark.parametrize("method", sorted(set(METHODS) - {"ppo"}))  # ppo trains in verl alone (tests/verl)
def test_every_method_has_a_trainer_module(method):
    assert callable(trainer_builder(method))


def test_every_grpo_loss_type_offered_is_one_trl_accepts():
    from trl import GRPOConfig

    offered = GRPOStageConfig.json_schema()["properties"]["loss_type"]["enum"]
    for loss_type in offered:
        GRPOConfig(output_dir="/tmp/unused", loss_type=loss_type, use_cpu=True, report_to="none")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"adam_beta1": 1}, r"stage.adam_beta1: 1 is greater than or equal to the maximum of 1"),
        ({"adam_beta2": -0.1}, r"stage.adam_beta2: -0.1 is less than the minimum of 0"),
        ({"adam_epsilon": 0}, r"stage.adam_epsilon: 0 is less than or equal to the minimum of 0"),
        ({"top_p": 0}, r"stage.top_p: 0 is less than or equal to the minimum of 0"),
        ({"top_k": -1}, r"stage.top_k: -1 is less than the minimum of 0"),
        ({"num_iterations": 0}, r"stage.num_iterations: 0 is less than the minimum of 1"),
        ({"epochs": 0}, r"stage.epochs: 0 is less than or equal to the minimum of 0"),
        ({"epochs": 2, "steps": 10}, r"stage.epochs: steps \(10\) and epochs \(2.0\) are both given"),
    ],
)
def test_optimizer_sampling_and_length_options_are_bounded(options, message):
    with pytest.raises(ConfigError, match=message):
        StageConfig.from_dict({"method": "grpo", "task": "countdown", **options}, "stage")


def test_adam_defaults_are_the_trainers_own():
    from transformers import TrainingArguments

    stage, stock = StageConfig.from_dict({"method": "sft", "task": "t"}), TrainingArguments(output_dir="unused")
    names = ("adam_beta1", "adam_beta2", "adam_epsilon")
    assert [getattr(stage, name) for name in names] == [getattr(stock, name) for name in names]


@pytest.mark.parametrize(
    "spec, steps",
    [
        ({"method": "sft", "batch_size": 4, "epochs": 2}, 50),  # 2 x 100 / 4
        ({"method": "sft", "batch_size": 3, "epochs": 1}, 34),  # the last step's batch part of a second pass
        ({"method": "sft", "batch_size": 1, "epochs": 0.07}, 7),  # 0.07 x 100 is 7.000000000000001
        ({"method": "grpo", "batch_size": 4, "epochs": 1, "num_iterations": 3}, 75),  # 25 batches, 3 steps each
        ({"method": "sft", "batch_size": 4, "epochs": 1, "replay": {"task": "p", "ratio": 0.5}}, 50),  # 2 own a step
        ({"method": "rloo", "batch_size": 4, "steps": 7}, 7),  # no epochs: steps as given
    ],
)
def test_epochs_become_steps_over_the_tasks_records(spec, steps):
    stage = StageConfig.from_dict({"task": "t", **spec}).with_epochs_as_steps(100)
    assert (stage.steps, stage.epochs) == (steps, None)


def test_a_batch_of_rollouts_trained_num_iterations_times_consumes_its_prompts_once():
    spec = {"method": "grpo", "task": "t", "steps": 5, "batch_size": 4}
    assert StageConfig.from_dict({**spec, "num_iterations": 2}).examples == 12  # batches at steps 1, 3, 5
    assert StageConfig.from_dict(spec).examples == 20
