"""GRPO with the task's rewards (TRL GRPOTrainer). ``batch_size`` prompts x ``num_generations`` per step."""

from __future__ import annotations

from trl import GRPOConfig, GRPOTrainer

from .config import GRPOStageConfig
from .rl import finish_trainer, rl_arguments, rl_dataset, rl_rewards


def build_trainer(
    stage: GRPOStageConfig, tasks, records, model, tokenizer, arguments: dict, peft_config=None
) -> GRPOTrainer:
    functions, weights = rl_rewards(stage, tasks, tokenizer)
    args = GRPOConfig(
        **rl_arguments(stage, arguments, weights),
        loss_type=stage.loss_type,
        scale_rewards=stage.scale_rewards,
    )
    trainer = GRPOTrainer(
        model=model, reward_funcs=functions, args=args, train_dataset=rl_dataset(stage, tasks, records),
        processing_class=tokenizer, peft_config=peft_config,
    )  # fmt: skip
    return finish_trainer(trainer, stage, functions)
