"""verl_settings composed with verl's own ppo_trainer config and checked by its config classes and validator."""

import pytest

from .conftest import VERL_ONLY

pytest.importorskip("verl", reason=VERL_ONLY)
from hydra import compose, initialize_config_module
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf
from verl.trainer.ppo.utils import need_critic, need_reference_policy
from verl.utils.config import omega_conf_to_dataclass, validate_config

from forgetlab.verl.settings import hydra_overrides, response_length, save_frequency, verl_settings

from .conftest import verl_stage


def compose_verl(settings):
    with initialize_config_module(config_module="verl.trainer.config", version_base=None):
        return compose(config_name="ppo_trainer", overrides=hydra_overrides(settings))


PPO = dict(gamma=0.9, gae_lambda=0.95, epsilon=0.1, num_iterations=4, entropy_coef=0.01, critic_lr=2e-6,
           value_clip=0.2, num_generations=1, lr=1e-6, lr_scheduler="cosine", warmup_ratio=0.1, adam_beta2=0.98,
           adam_epsilon=1e-7, max_grad_norm=0.01, temperature=0.2, top_k=50, save_every=4, critic_warmup=2)  # fmt: skip


@pytest.mark.parametrize(
    "method, options",
    [("ppo", PPO), ("grpo", {"beta": 0.04, "loss_type": "grpo", "scale_rewards": "none", "num_generations": 5}),
     ("rloo", {"num_generations": 3, "optimizer": "adamw_8bit"})],
)  # fmt: skip
def test_every_setting_lands_on_its_field_of_verls_config(method, options, files):
    stage = verl_stage(method, **options)
    settings = verl_settings(stage, files, rows=8, max_prompt_length=96, gpus=2, nodes=2)
    config = compose_verl(settings)
    for key, value in settings.items():
        got = OmegaConf.select(config, key)
        got = OmegaConf.to_container(got) if OmegaConf.is_config(got) else got
        assert got == (list(value) if isinstance(value, tuple) else value), key
    # verl's config classes take every section, and its validator the whole (batch sizes, GPUs, critic)
    sections = [config.actor_rollout_ref.actor, config.actor_rollout_ref.rollout, config.algorithm,
                config.actor_rollout_ref.actor.optim, config.actor_rollout_ref.model]  # fmt: skip
    for section in sections + ([config.critic] if method == "ppo" else []):
        omega_conf_to_dataclass(section)
    validate_config(config=config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))
    assert need_critic(config) == (method == "ppo")
    assert need_reference_policy(config) == (stage.beta > 0)


def test_ppo_reads_as_the_seeds_ppo(files):
    config = compose_verl(verl_settings(verl_stage("ppo", **PPO), files, rows=8, max_prompt_length=96, gpus=1))
    actor = config.actor_rollout_ref.actor
    assert (config.algorithm.adv_estimator, config.algorithm.gamma, config.algorithm.lam) == ("gae", 0.9, 0.95)
    assert (actor.clip_ratio, actor.ppo_epochs, actor.entropy_coeff, actor.use_kl_loss) == (0.1, 4, 0.01, False)
    assert (config.critic.optim.lr, config.critic.cliprange_value, config.critic.ppo_epochs) == (2e-6, 0.2, 4)
    assert actor.optim.override_optimizer_config == {"eps": 1e-7} and list(actor.optim.betas) == [0.9, 0.98]
    # 8 optimizer steps of 4 iterations: 2 batches, each saved (save_every 4 = every batch)
    assert (config.trainer.total_training_steps, config.trainer.save_freq) == (2, 1)
    # verl moves the policy from batch critic_warmup on, counting from 1: 2 batches of the critic alone
    assert config.actor_rollout_ref.rollout.top_k == 50 and config.trainer.critic_warmup == 3


def test_a_misspelled_or_removed_verl_field_fails_the_composition(files):
    settings = verl_settings(verl_stage("grpo"), files, rows=8, max_prompt_length=96, gpus=1)
    with pytest.raises(ConfigCompositionException, match="cliprange_valu"):
        compose_verl({**settings, "critic.cliprange_valu": 0.2})


def test_saves_fall_on_every_kept_step_and_resume_point():
    stage = verl_stage("grpo", steps=12, num_iterations=2, save_every=4, resume_every=6)
    assert save_frequency(stage) == 1  # batches of 2 steps: kept every 2 batches, resumed every 3
    assert save_frequency(verl_stage("grpo", steps=12, num_iterations=2)) == 6  # the last batch alone


def test_every_batch_is_trained_and_the_last_saved_whatever_the_rows(files):
    """verl drops each pass's incomplete batch: enough passes for every batch, so the last (merged) is reached."""
    stage = verl_stage("grpo", steps=311, batch_size=32)
    settings = verl_settings(stage, files, rows=1000, max_prompt_length=96, gpus=1)
    assert settings["trainer.total_epochs"] * (1000 // 32) >= settings["trainer.total_training_steps"] == 311
    with pytest.raises(ValueError, match="3 training prompts make no batch of batch_size 32"):
        verl_settings(stage, files, rows=3, max_prompt_length=96, gpus=1)


def test_a_batch_that_does_not_split_over_the_gpus_is_refused(files):
    stage = verl_stage("grpo", batch_size=6, num_generations=2)
    verl_settings(stage, files, rows=12, max_prompt_length=96, gpus=4, nodes=3)  # 12 rollouts on 12 GPUs
    with pytest.raises(ValueError, match=r"12 rollouts \(batch_size 6 x num_generations 2\) over 8 GPUs"):
        verl_settings(stage, files, rows=12, max_prompt_length=96, gpus=4, nodes=2)


def test_dr_grpo_sums_tokens_over_a_constant_as_trl(files):
    stage = verl_stage("grpo", loss_type="dr_grpo", max_completion_length=64)
    config = compose_verl(verl_settings(stage, files, rows=8, max_prompt_length=96, gpus=1))
    actor = config.actor_rollout_ref.actor
    assert response_length(stage) == 64
    assert (actor.loss_agg_mode, actor.loss_scale_factor) == ("seq-mean-token-sum-norm", 64)


def test_forgetlabs_trackers_are_verls_tracking_backends(files):
    from verl.utils.tracking import Tracking

    from forgetlab.tracking.config import TRACKERS

    assert set(TRACKERS) <= set(Tracking.supported_backend)
    settings = verl_settings(verl_stage("grpo"), files, rows=8, max_prompt_length=96, gpus=1,
                             trackers=("tensorboard", "wandb"), project="study")  # fmt: skip
    config = compose_verl(settings)
    assert (list(config.trainer.logger), config.trainer.project_name) == (
        ["console", "file", "tensorboard", "wandb"],
        "study",
    )
