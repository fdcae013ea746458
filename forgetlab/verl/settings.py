"""A stage as verl's settings: Hydra overrides of verl's ``ppo_trainer`` config, one key per forgetlab option.

Overrides rather than a config file of our own: Hydra refuses an override of a key verl's config lacks, so a
misspelled or removed verl field stops the job (and the suite, which composes them against verl's config) instead
of being ignored. Also the checks of a resolved config's requests that only verl stages may ask for several nodes,
and that a verl batch splits over its GPUs (run before any job).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..options import ConfigError
from ..resources import FAMILIES, request_of
from ..train.config import RLStageConfig, StageConfig
from .names import ADVANTAGE_ESTIMATORS, LOSS_AGGREGATION, OPTIMIZERS, SCHEDULERS

__all__ = [
    "StageFiles", "batches", "check_nodes", "check_parallel", "hydra_overrides", "response_length", "save_frequency",
    "verl_settings",
]  # fmt: skip

ACTOR, ROLLOUT, CRITIC = "actor_rollout_ref.actor", "actor_rollout_ref.rollout", "critic"
# room for the chat template's and the verifier's tokens between two tries of an episode
FEEDBACK_TOKENS = 128
# Keys verl's config does not declare, which Hydra adds with a leading '+'.
ADDED = ("reward.custom_reward_function.reward_kwargs",)


@dataclass(frozen=True)
class StageFiles:
    """Where a verl stage reads and writes; every path is the job's to choose."""

    model: str  # the parent's HF model folder
    train: str  # the prompts as verl's parquet (data.write_rows)
    reward_spec: str  # the stage and its tasks as JSON, for the reward function (reward.write_spec)
    work: str  # verl's checkpoints (FSDP shards per saved batch), kept outside the outputs: a rerun resumes
    experiment: str  # the run's name in verl's loggers
    agent_loops: str | None = None  # verl's agent loop file (tries.write_agent_loops), for tasks of several tries


def batches(stage: RLStageConfig) -> int:
    """verl's training steps: batches of batch_size prompts, each trained on for num_iterations optimizer steps."""
    return stage.steps // stage.num_iterations


def check_parallel(stage: RLStageConfig, nodes: int, gpus: int) -> None:
    """verl splits each batch's batch_size x num_generations rollouts evenly over every GPU of the job."""
    rollouts, devices = stage.batch_size * stage.num_generations, nodes * max(gpus, 1)
    if rollouts % devices:
        raise ValueError(
            f"engine: verl splits a batch's {rollouts} rollouts (batch_size {stage.batch_size} x num_generations "
            f"{stage.num_generations}) over {devices} GPUs ({nodes} nodes x {gpus}): make them a multiple"
        )


def check_nodes(config: dict) -> None:
    """Only a verl stage trains on several nodes (it starts Ray across them); every other job runs on one. A verl
    stage's batch splits evenly over the GPUs it asks for."""
    for model in config["models"]:
        for family in FAMILIES:
            stages = config["stages"] if family == "train" else {None: None}
            for label, stage in stages.items():
                request = request_of(config, family, model, label)
                nodes = request["nodes"]
                if stage and stage.get("engine") == "verl":
                    try:
                        check_parallel(StageConfig.from_dict(stage, f"stages.{label}"), nodes, request["gpu"])
                    except ValueError as error:
                        raise ConfigError(f"stages.{label}: model {model!r}: {error}") from None
                elif nodes > 1:
                    what = f"stage {label!r} trains with {stage['method']} in TRL" if stage else f"{family} jobs"
                    raise ConfigError(
                        f"resources: model {model!r} asks for {nodes} nodes, but {what}, on one node: only "
                        "engine: verl stages train on several"
                    )


def response_length(stage: RLStageConfig, tries: int = 1) -> int:
    """verl's response length: an episode of ``tries`` tries of max_completion_length each, feedback between."""
    return stage.max_completion_length * tries + FEEDBACK_TOKENS * (tries - 1)


def save_frequency(stage: RLStageConfig) -> int:
    """Batches between verl's saves: every kept step and resume point falls on one, and the last batch is always
    saved (the final model is merged from it)."""
    every = [value // stage.num_iterations for value in (stage.save_every, stage.resume_every) if value]
    return math.gcd(*every) if every else batches(stage)


def _optimizer(stage: RLStageConfig, lr: float) -> dict:
    implementation, name = OPTIMIZERS[stage.optimizer]
    return {
        "lr": lr,
        "lr_warmup_steps_ratio": stage.warmup_ratio,
        "lr_scheduler_type": SCHEDULERS[stage.lr_scheduler],
        "weight_decay": stage.weight_decay,
        "betas": [stage.adam_beta1, stage.adam_beta2],
        "clip_grad": stage.max_grad_norm,
        "optimizer_impl": implementation,
        "optimizer": name,
        "override_optimizer_config": {"eps": stage.adam_epsilon},
    }


def verl_settings(
    stage: RLStageConfig,
    files: StageFiles,
    *,
    rows: int,
    max_prompt_length: int,
    gpus: int,
    nodes: int = 1,
    tries: int = 1,
    trackers: tuple[str, ...] = (),
    project: str = "forgetlab",
) -> dict[str, object]:
    """verl's settings (dotted key -> value) for ``stage`` on ``nodes`` x ``gpus``; ``rows``: prompts in the
    training file, ``max_prompt_length``: its longest prompt in tokens, ``tries``: the most tries of its tasks;
    ``trackers`` (tracking.report_to's names, which are verl's too) also receive verl's metrics, in ``project``."""
    if stage.engine != "verl":
        raise ValueError(f"stage trains with engine {stage.engine!r}, not verl")
    check_parallel(stage, nodes, gpus)
    per_epoch = rows // stage.batch_size  # verl drops the last, incomplete batch of each pass
    if not per_epoch:
        raise ValueError(f"{rows} training prompts make no batch of batch_size {stage.batch_size}")
    total = batches(stage)
    settings = {
        "algorithm.adv_estimator": ADVANTAGE_ESTIMATORS[stage.tag],
        "algorithm.use_kl_in_reward": False,
        "critic.enable": stage.tag == "ppo",
        "data.train_files": files.train,
        # verl builds a validation loader whether or not it validates (test_freq -1 never does)
        "data.val_files": files.train,
        "data.train_batch_size": stage.batch_size,
        "data.max_prompt_length": max_prompt_length,
        "data.max_response_length": response_length(stage, tries),
        "data.shuffle": True,
        "data.seed": stage.seed,
        "actor_rollout_ref.model.path": files.model,
        "actor_rollout_ref.model.enable_gradient_checkpointing": stage.gradient_checkpointing,
        "actor_rollout_ref.model.use_liger": stage.liger_kernel,
        **{f"{ACTOR}.optim.{key}": value for key, value in _optimizer(stage, stage.lr).items()},
        f"{ACTOR}.grad_clip": stage.max_grad_norm,
        # batch_size prompts per optimizer step, as forgetlab counts them: one mini-batch per batch and iteration
        f"{ACTOR}.ppo_mini_batch_size": stage.batch_size,
        f"{ACTOR}.ppo_epochs": stage.num_iterations,
        f"{ACTOR}.use_dynamic_bsz": True,  # micro-batches by tokens, so no per-GPU micro-batch size to choose
        f"{ACTOR}.clip_ratio": stage.epsilon,
        f"{ACTOR}.clip_ratio_low": stage.epsilon,
        f"{ACTOR}.clip_ratio_high": stage.epsilon,
        f"{ACTOR}.loss_agg_mode": LOSS_AGGREGATION[getattr(stage, "loss_type", "dapo")],
        # dr_grpo's token sums over a constant, as TRL's (verl's default is each micro-batch's padded width)
        f"{ACTOR}.loss_scale_factor": response_length(stage, tries)
        if getattr(stage, "loss_type", "") == "dr_grpo"
        else None,
        # the KL to the parent in the loss with the k3 estimator, as TRL's beta (no reference model at 0)
        f"{ACTOR}.use_kl_loss": stage.beta > 0,
        f"{ACTOR}.kl_loss_coef": stage.beta,
        f"{ACTOR}.kl_loss_type": "low_var_kl",
        f"{ACTOR}.entropy_coeff": getattr(stage, "entropy_coef", 0.0),
        f"{ACTOR}.data_loader_seed": stage.seed,
        f"{ROLLOUT}.name": "vllm" if stage.rollouts == "auto" else stage.rollouts,
        f"{ROLLOUT}.n": stage.num_generations,
        f"{ROLLOUT}.temperature": stage.temperature,
        f"{ROLLOUT}.top_p": stage.top_p,
        f"{ROLLOUT}.top_k": stage.top_k or -1,  # verl's "every token" is -1
        f"{ROLLOUT}.seed": stage.seed,
        f"{ROLLOUT}.gpu_memory_utilization": stage.vllm_gpu_memory_utilization,
        f"{ROLLOUT}.tensor_model_parallel_size": 1,
        f"{ROLLOUT}.agent.agent_loop_config_path": files.agent_loops,
        "reward.reward_manager.name": "naive",
        "reward.custom_reward_function.path": str(Path(__file__).with_name("reward.py")),
        "reward.custom_reward_function.name": "compute_score",
        "reward.custom_reward_function.reward_kwargs": {"spec": files.reward_spec},
        "trainer.total_training_steps": total,
        # enough passes over the file for every batch (total_training_steps stops it at the last, which is saved)
        "trainer.total_epochs": math.ceil(total / per_epoch),
        "trainer.nnodes": nodes,
        "trainer.n_gpus_per_node": gpus,
        "trainer.save_freq": save_frequency(stage),
        "trainer.max_actor_ckpt_to_keep": None,  # the kept steps are merged from their saves
        "trainer.test_freq": -1,
        "trainer.val_before_train": False,
        "trainer.logger": ["console", "file", *trackers],
        "trainer.project_name": project,
        "trainer.experiment_name": files.experiment,
        "trainer.default_local_dir": files.work,
        "trainer.resume_mode": "auto",
    }
    if stage.tag == "grpo":
        settings["algorithm.norm_adv_by_std_in_grpo"] = stage.scale_rewards == "group"
    if stage.tag == "ppo":
        settings |= {
            "algorithm.gamma": stage.gamma,
            "algorithm.lam": stage.gae_lambda,
            "critic.model.path": files.model,
            "critic.ppo_epochs": stage.num_iterations,
            "critic.cliprange_value": stage.value_clip,
            "critic.grad_clip": stage.max_grad_norm,
            # verl moves the policy from the batch numbered critic_warmup on, counting from 1
            "trainer.critic_warmup": stage.critic_warmup + 1,
            **{f"{CRITIC}.optim.{key}": value for key, value in _optimizer(stage, stage.critic_lr).items()},
        }
    return settings


def _value(value) -> str:
    """One value in Hydra's override grammar: strings quoted (paths hold '=', ',' or spaces), lists and mappings
    element by element."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{key}:{_value(item)}" for key, item in value.items()) + "}"
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def hydra_overrides(settings: dict[str, object]) -> list[str]:
    """``settings`` as Hydra command-line overrides (``key=value``; '+key=value' for the keys verl's config lacks)."""
    return [f"{'+' if key in ADDED else ''}{key}={_value(value)}" for key, value in settings.items()]
