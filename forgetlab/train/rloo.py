"""REINFORCE leave-one-out with the task's rewards (TRL RLOOTrainer), the same prompts, rewards and logs as GRPO."""

from __future__ import annotations

from trl import RLOOConfig, RLOOTrainer

from .config import RLOOStageConfig
from .rl import finish_trainer, rl_arguments, rl_dataset, rl_rewards
from .shared import with_shared_prompt_passes


def build_trainer(
    stage: RLOOStageConfig, tasks, records, model, tokenizer, arguments: dict, peft_config=None, fast_paths=True
) -> RLOOTrainer:
    """TRL's RLOOTrainer; with ``fast_paths``, each group's prompt run once per log-probability pass."""
    if tasks[stage.task].verify_iter > 1:
        raise ValueError(f"tasks.{stage.task}.verify_iter > 1: episodes of tries train with grpo, not rloo")
    functions, weights = rl_rewards(stage, tasks, tokenizer)
    args = RLOOConfig(**rl_arguments(stage, arguments, weights), normalize_advantages=stage.normalize_advantages)
    trainer = with_shared_prompt_passes(RLOOTrainer, fast_paths)(
        model=model, reward_funcs=functions, args=args, train_dataset=rl_dataset(stage, tasks, records),
        processing_class=tokenizer, peft_config=peft_config,
    )  # fmt: skip
    return finish_trainer(trainer, stage, functions)
