"""forgetlab's option values in verl's names, for the settings and the checks that refuse what verl lacks."""

from __future__ import annotations

# the agent loop of episodes of tries (tries.TriesAgentLoop), as the rows of a task with verify_iter > 1 name it
AGENT_NAME = "forgetlab_tries"

# method -> verl's algorithm.adv_estimator
ADVANTAGE_ESTIMATORS = {"ppo": "gae", "grpo": "grpo", "rloo": "rloo"}

# GRPO's loss_type (TRL's names) -> verl's actor.loss_agg_mode: per-sequence token mean then batch mean (grpo),
# one token mean over the batch (dapo, bnpo), per-sequence token sums over a constant (dr_grpo)
LOSS_AGGREGATION = {
    "grpo": "seq-mean-token-mean",
    "dapo": "token-mean",
    "bnpo": "token-mean",
    "dr_grpo": "seq-mean-token-sum-norm",
}

# lr_scheduler -> verl's FSDP optimizer lr_scheduler_type (constant and cosine, each after lr_warmup_steps_ratio)
SCHEDULERS = {"constant": "constant", "constant_with_warmup": "constant", "cosine": "cosine"}

# optimizer -> verl's (optimizer_impl, optimizer)
OPTIMIZERS = {"adamw": ("torch.optim", "AdamW"), "adamw_8bit": ("bitsandbytes.optim", "AdamW8bit")}

# verl's metric -> the name forgetlab's step log and figures use (TRL's names)
LOG_NAMES = {
    "actor/pg_loss": "loss",
    "critic/score/mean": "reward",
    "actor/kl_loss": "kl",
    "response_length/mean": "completions/mean_length",
    "actor/entropy": "entropy",
    "actor/pg_clipfrac": "clip_ratio/region_mean",
    "actor/lr": "learning_rate",
    "actor/grad_norm": "grad_norm",
    "critic/vf_loss": "value_loss",
    "critic/vf_explained_var": "value_explained_variance",
}
