"""GRPO with the task's rewards (TRL GRPOTrainer). ``batch_size`` prompts x ``num_generations`` per step."""

from __future__ import annotations

from datasets import Dataset
from transformers import TrainerCallback
from trl import GRPOConfig, GRPOTrainer

from ..rewards import task_rewards
from .advantages import advantage_summary
from .common import as_prompt, split_batch, trainer_defaults, training_prompts
from .config import GRPOStageConfig


def build_trainer(
    stage: GRPOStageConfig, task, records, model, tokenizer, output_dir: str, device: str
) -> GRPOTrainer:
    # Task fields (numbers, target, answer, ...) stay as columns: TRL passes them to the reward functions.
    dataset = Dataset.from_list(
        [
            {**record, "prompt": as_prompt(prompt, stage.chat)}
            for record, prompt, _ in training_prompts(stage, task, records)
        ]
    )
    style = stage.format or task.format
    reward_funcs, reward_weights = task_rewards(task.for_format(style), stage.rewards, stage.max_completion_length)
    args = GRPOConfig(
        **trainer_defaults(stage, output_dir, device),
        # One prompt's group per forward/backward, accumulated over the step's prompts: all completions of
        # a step are still generated together, but logits memory (batch x length x vocab) stays one group.
        per_device_train_batch_size=stage.num_generations,
        gradient_accumulation_steps=split_batch(stage.batch_size, "batch_size (prompts per step)"),
        num_generations=stage.num_generations,
        max_completion_length=stage.max_completion_length,
        temperature=stage.temperature,
        beta=stage.beta,
        epsilon=stage.epsilon,
        loss_type=stage.loss_type,
        scale_rewards=stage.scale_rewards,
        reward_weights=reward_weights,
        # A one-shot -> zero-shot curriculum is laid out in training order; shuffling would undo it.
        shuffle_dataset=not stage.mix_oneshot,
    )
    trainer = GRPOTrainer(
        model=model, reward_funcs=reward_funcs, args=args, train_dataset=dataset, processing_class=tokenizer
    )
    trainer.add_callback(AdvantageCallback(trainer, stage.num_generations))
    return trainer


class AdvantageCallback(TrainerCallback):
    """Adds the step's advantage histogram and share of all-zero groups to each log event. It reads the
    advantages TRL keeps of the latest generation batch (every process's, in group order); one generation
    batch is one optimizer step here. Added before the step log's callback, so the log row carries them."""

    def __init__(self, trainer: GRPOTrainer, group_size: int):
        self.trainer, self.group_size = trainer, group_size

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs is not None and "train_runtime" not in logs:
            logs.update(advantage_summary(list(self.trainer._logs["advantages"]), self.group_size))
