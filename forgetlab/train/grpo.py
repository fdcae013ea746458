"""GRPO with the task's rewards (TRL GRPOTrainer). ``batch_size`` prompts x ``num_generations`` per step."""

from __future__ import annotations

import warnings

from trl import GRPOConfig, GRPOTrainer

from .config import GRPOStageConfig
from .rl import finish_trainer, rl_arguments, rl_dataset, rl_rewards
from .shared import SharedPromptPasses, rollout_function


class Trainer(SharedPromptPasses, GRPOTrainer):
    """TRL's GRPOTrainer with each group's prompt run once per log-probability pass."""


def build_trainer(
    stage: GRPOStageConfig, tasks, records, model, tokenizer, arguments: dict, peft_config=None
) -> Trainer:
    functions, weights = rl_rewards(stage, tasks, tokenizer)
    args = GRPOConfig(
        **rl_arguments(stage, arguments, weights),
        loss_type=stage.loss_type,
        scale_rewards=stage.scale_rewards,
    )
    with warnings.catch_warnings():  # TRL calls rollout_func experimental; decode_rollouts is tested against it
        warnings.filterwarnings("ignore", message="You are using 'rollout_func'")
        trainer = Trainer(
            model=model, reward_funcs=functions, args=args, train_dataset=rl_dataset(stage, tasks, records),
            processing_class=tokenizer, peft_config=peft_config, rollout_func=rollout_function(args, Trainer),
        )  # fmt: skip
    return finish_trainer(trainer, stage, functions)
