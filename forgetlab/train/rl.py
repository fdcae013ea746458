"""What the RL methods (GRPO, RLOO) share: the prompt dataset, the checked rewards, the trainer arguments and the
advantage log."""

from __future__ import annotations

import math
import sys

from datasets import Dataset
from transformers import TrainerCallback

from .. import compat
from ..compat.trl import latest_advantages
from ..prompts import as_prompt
from ..rewards import CorrectnessReward, as_scored, stage_rewards
from .advantages import advantage_summary
from .common import split_batch, training_prompts
from .config import RLStageConfig
from .memory import MemoryReward, PolicyEmbedder, make_embedder
from .memory_seed import SeedMemoryReward

__all__ = [
    "AdvantageCallback", "FiniteReward", "finish_trainer", "rl_arguments", "rl_dataset", "rl_rewards",
    "rollout_arguments",
]  # fmt: skip


def rl_dataset(stage: RLStageConfig, tasks: dict, records) -> Dataset:
    """The stage's prompts in training order; the task fields (numbers, target, answer, ...) stay as columns,
    which TRL passes to the reward functions. Records of several tasks (replay) share the columns of all."""
    prompts = training_prompts(stage, tasks, records)
    rows = [{**record, "prompt": as_prompt(prompt, stage.chat, stage.system_prompt)} for record, prompt, *_ in prompts]
    columns = dict.fromkeys(key for row in rows for key in row)
    return Dataset.from_list([{key: row.get(key) for key in columns} for row in rows])


class FiniteReward:
    """A reward function that stops training at once when it returns NaN or an infinity, naming the reward,
    the step and the value (TRL would silently average NaN away)."""

    def __init__(self, function):
        self.function = function
        self.__name__ = function.__name__  # TRL logs rewards under rewards/<__name__>/mean

    def __call__(self, prompts, completions, **columns) -> list[float]:
        values = self.function(prompts, completions, **columns)
        for index, value in enumerate(values):
            if value is not None and not math.isfinite(value):
                state = columns.get("trainer_state")
                step = state.global_step + 1 if state is not None else "?"
                raise FloatingPointError(
                    f"step {step}: reward {self.__name__!r} is {value} for completion {index} "
                    f"({str(completions[index])[:80]!r}); training stopped, no model written"
                )
        return values


def rl_rewards(stage: RLStageConfig, tasks: dict, tokenizer) -> tuple[list, list[float]]:
    """(reward functions, weights) of the stage's rewards, each record scored as its own task in the stage's
    prompt format (or that task's), with the memory reward when the stage has one."""
    functions, weights = stage_rewards(stage, tasks)
    if stage.memory is not None:
        formatted = as_scored(stage, tasks)
        correct = CorrectnessReward(formatted.pop(stage.task), formatted)
        embed = make_embedder(stage.memory.embedder, tokenizer)
        variant = SeedMemoryReward if stage.memory.variant == "seed" else MemoryReward
        functions.append(variant(stage.memory, correct.of, stage.steps, embed))
        weights.append(stage.memory.weight)
    return [FiniteReward(function) for function in functions], weights


def finish_trainer(trainer, stage: RLStageConfig, functions: list):
    """The parts that need the built trainer: the advantage log, and the policy as the memory's embedder."""
    trainer.add_callback(AdvantageCallback(trainer, stage.num_generations))
    for function in functions:
        embed = getattr(function.function, "embed", None)
        if isinstance(embed, PolicyEmbedder):
            embed.bind(trainer.model)
    return trainer


def rollout_arguments(stage: RLStageConfig, device: str, vllm_installed: bool | None = None, tries=False) -> dict:
    """TRL's switches for the stage's rollout engine on ``device``: vLLM (colocated or a server) or none (HF).
    ``tries``: the task's episodes of tries run in forgetlab's HF loop (train/episodes.py), which 'auto' picks."""
    from ..evaluate.engines import resolve_backend

    if tries and stage.rollouts == "auto":
        return {}
    try:
        engine = resolve_backend(stage.rollouts, vllm_installed=vllm_installed, gpu=device == "cuda")
    except ValueError as error:
        raise ValueError(f"rollouts: {error}".replace("generation backend 'vllm'", "vllm")) from None
    if engine == "hf":
        return {}
    return {"use_vllm": True, "vllm_mode": stage.vllm_mode,
            "vllm_gpu_memory_utilization": stage.vllm_gpu_memory_utilization}  # fmt: skip


def rl_arguments(stage: RLStageConfig, arguments: dict, weights: list[float], tries: bool = False) -> dict:
    """``arguments`` (every method's, common.trainer_defaults) with those every RL method takes; ``tries``: the
    stage's task takes several (rollout_arguments)."""
    groups = split_batch(stage.batch_size, "batch_size (prompts per step)")
    # All completions of a step are generated together. On the CPU they are also trained in one forward/backward,
    # so each group's prompt runs once for all its completions (shared.with_shared_prompt_passes; TRL shuffles the
    # step's rows before splitting them into passes, which would part the groups). On a GPU one group per pass,
    # accumulated over the step's prompts, so activation memory stays one group's.
    per_pass = groups if arguments.get("use_cpu") else 1
    return dict(
        **arguments,
        **rollout_arguments(stage, "cpu" if arguments.get("use_cpu") else "cuda", tries=tries),
        per_device_train_batch_size=stage.num_generations * per_pass,
        gradient_accumulation_steps=groups // per_pass,
        num_generations=stage.num_generations,
        max_completion_length=stage.max_completion_length,
        temperature=stage.temperature,
        top_p=stage.top_p,
        top_k=stage.top_k,
        num_iterations=stage.num_iterations,
        beta=stage.beta,
        epsilon=stage.epsilon,
        reward_weights=weights,
        # A one-shot -> zero-shot curriculum is laid out in training order; shuffling would undo it.
        shuffle_dataset=not stage.mix_oneshot,
    )


class AdvantageCallback(TrainerCallback):
    """Adds the step's advantage histogram and share of all-zero groups to each log event. It reads the
    advantages TRL keeps of the latest generation batch (every process's, in group order): the batch the step
    trained on (one generation batch trains num_iterations steps, each logging it). Added before the step log's
    callback, so the log row carries them."""

    def __init__(self, trainer, group_size: int):
        self.trainer, self.group_size = trainer, group_size

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs is None or "train_runtime" in logs or self.group_size is None:
            return
        advantages = latest_advantages(self.trainer)
        if advantages is None:  # said once; the step log goes on without them
            print(
                f"warning: trl {compat.version('trl')} keeps no advantages where forgetlab reads them "
                "(compat.trl.latest_advantages): the step log has no advantage histograms",
                file=sys.stderr,
            )
            self.group_size = None
        else:
            logs.update(advantage_summary(advantages, self.group_size))
