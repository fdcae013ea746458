"""GRPO with the task's rewards (TRL GRPOTrainer). ``batch_size`` prompts x ``num_generations`` per step."""

from __future__ import annotations

from trl import GRPOConfig, GRPOTrainer

from ..compat.trl import quiet_rollout_func_warning, rollout_func_argument
from .config import GRPOStageConfig
from .episodes import episode_rollouts
from .rl import finish_trainer, rl_arguments, rl_dataset, rl_rewards
from .shared import rollout_function, with_shared_prompt_passes


def build_trainer(
    stage: GRPOStageConfig, tasks, records, model, tokenizer, arguments: dict, peft_config=None, fast_paths=True
) -> GRPOTrainer:
    """TRL's GRPOTrainer; with ``fast_paths``, each group's prompt run once in the rollouts and in every
    log-probability pass (train/shared.py); episodes of tries where the stage's task takes several."""
    functions, weights = rl_rewards(stage, tasks, tokenizer)
    args = GRPOConfig(
        **rl_arguments(stage, arguments, weights, tries=tasks[stage.task].verify_iter > 1),
        loss_type=stage.loss_type,
        scale_rewards=stage.scale_rewards,
    )
    trainer_class = with_shared_prompt_passes(GRPOTrainer, fast_paths)
    dataset = rl_dataset(stage, tasks, records)
    # A task with tries trains episodes (train/episodes.py); else one completion per prompt.
    rollouts = episode_rollouts(stage, tasks, dataset, args, trainer_class)
    with quiet_rollout_func_warning():
        trainer = trainer_class(
            model=model, reward_funcs=functions, args=args, train_dataset=dataset, processing_class=tokenizer,
            peft_config=peft_config,
            **rollout_func_argument(rollouts or rollout_function(args, trainer_class, fast_paths)),
        )  # fmt: skip
    return finish_trainer(trainer, stage, functions)
