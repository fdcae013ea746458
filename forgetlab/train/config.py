"""The training stage config, field by field: options every method shares, then each method's own.

A stage entry in the config (``stages.<label>``) names its ``method``; :meth:`StageConfig.from_dict` builds that
method's class and refuses options of other methods. No trainer is imported here, so a workflow can check every
stage when it starts.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

from ..evaluate.config import MAX_NEW_TOKENS
from ..lineages import checkpoint_steps
from ..options import OptionError, Options, option
from ..prompts import (
    CURRICULA,
    FORMATS,
    ONESHOT_EXAMPLE_HELP,
    ONESHOT_EXAMPLES,
    SYSTEM_PROMPT_HELP,
    check_oneshot_example,
    check_system_prompt,
)
from ..resources import ResourceRequest
from ..rewards import REWARD_KINDS
from ..verl.names import LOSS_AGGREGATION, SCHEDULERS
from .memory import MemoryOptions

__all__ = [
    "ENGINES", "METHODS", "OPTIMIZERS", "SWEEP_EXCLUDED", "GRPOStageConfig", "LoraOptions", "PPOStageConfig",
    "RLOOStageConfig", "RLStageConfig", "ReplayOptions", "SFTStageConfig", "StageConfig",
]  # fmt: skip

# Options that say what a stage is rather than how it trains: never swept.
SWEEP_EXCLUDED = ("task", "sweep", "resources")
# optimizer option -> transformers' name; AdamW as one fused kernel (4x faster steps on the CPU than the per-tensor
# loop), the 8-bit one needs bitsandbytes and a GPU
OPTIMIZERS = {"adamw": "adamw_torch_fused", "adamw_8bit": "adamw_bnb_8bit"}
# What trains an RL stage: TRL's trainers in one process (one node), or verl's Ray trainer (FSDP actors, vLLM or
# SGLang rollouts, one node or several) in an environment of its own (requirements/verl.txt).
ENGINES = ("trl", "verl")
# Rollout engines verl starts (rollouts: auto is vllm there).
VERL_ROLLOUTS = ("auto", "vllm", "sglang")


@dataclass(kw_only=True)
class LoraOptions(Options):
    """LoRA adapters (peft) instead of full fine-tuning; the stage's model is still a full folder (merged)."""

    r: int = option(16, "rank of the adapters", minimum=1)
    alpha: int = option(32, "scaling numerator (the update is scaled by alpha / r)", minimum=1)
    dropout: float = option(0.05, "dropout on the adapters' input", minimum=0, maximum=1)
    target_modules: list[str] | None = option(
        None, "module names to adapt (q_proj, v_proj, ...); null: every linear layer but the output head"
    )


@dataclass(kw_only=True)
class ReplayOptions(Options):
    """Rehearsal of a prior task: a share of the stage's examples (SFT) or prompts (RL) drawn from its train split,
    each trained on as that task (its prompt format, its reference, its reward). Sweep it as replay.ratio."""

    task: str = option(help="the prior task whose training records are mixed in")
    ratio: float = option(
        0.25, "share of the stage's examples or prompts from that task", exclusiveMinimum=0, exclusiveMaximum=1
    )


@dataclass(kw_only=True)
class StageConfig(Options):
    """One training stage (``stages.<label>``): trains the parent checkpoint on a task's train split."""

    discriminator: ClassVar[str] = "method"
    discriminator_help: ClassVar[str] = (
        "training method: sft (TRL SFTTrainer), grpo (TRL GRPOTrainer or verl), rloo (TRL RLOOTrainer or verl) or "
        "ppo (verl's PPO with a learned critic; needs engine: verl)"
    )

    task: str = option(help="the task whose train split this stage trains on")
    lr: float = option(1e-5, "learning rate (1e-5 and 1.0e-5 both read as numbers)", exclusiveMinimum=0)
    steps: int = option(20, "optimizer steps (leave it out when epochs is set)", minimum=1)
    epochs: float | None = option(
        None,
        "instead of steps: passes over the task's n_train training records, resolved with the config to steps = "
        "ceil(epochs x n_train / (batch_size less its replay share)), times num_iterations in RL; null: steps",
        exclusiveMinimum=0,
    )
    batch_size: int = option(
        4, "prompts per optimizer step (GRPO samples num_generations completions for each)", minimum=1
    )
    seed: int = option(0, "seed of the trainer (data order, sampling, initialisation of new parameters)")
    warmup_ratio: float = option(0.0, "share of the steps spent warming the learning rate up", minimum=0, maximum=1)
    lr_scheduler: str = option(
        "constant", "learning-rate schedule", enum=["constant", "constant_with_warmup", "linear", "cosine"]
    )
    weight_decay: float = option(0.0, "AdamW weight decay", minimum=0)
    adam_beta1: float = option(0.9, "AdamW's decay of the gradient's running mean", minimum=0, exclusiveMaximum=1)
    adam_beta2: float = option(
        0.999, "AdamW's decay of the squared gradient's running mean", minimum=0, exclusiveMaximum=1
    )
    adam_epsilon: float = option(1e-8, "AdamW's epsilon, added to the root of the squared mean", exclusiveMinimum=0)
    max_grad_norm: float = option(1.0, "gradient clipping norm", exclusiveMinimum=0)
    save_every: int | None = option(
        None,
        "keep the weights every K steps as steps/<step>/model for curves over training; 0 keeps none; "
        "null: evaluate.every_steps in a workflow, none on its own",
        minimum=0,
    )
    resume_every: int | None = option(
        None,
        "save the trainer state (weights, optimizer, scheduler, RNG) every K steps, so a killed job resumes from "
        "the last save; null: every resume_minutes of training; 0: never",
        minimum=0,
    )
    resume_minutes: float = option(
        10.0,
        "with resume_every null: save the trainer state at the first step that ends this many minutes after the "
        "last save (a state of a small model takes seconds to write, of a large one minutes: a stage shorter than "
        "this never saves)",
        exclusiveMinimum=0,
    )
    format: str | None = option(None, "prompt format of the training prompts (null: the task's)", enum=list(FORMATS))
    chat: bool = option(True, "true: the model's chat template; false: a plain 'Question: ... Answer:' prompt")
    system_prompt: str | None = option(None, SYSTEM_PROMPT_HELP, minLength=1)
    oneshot_example: str = option("user", ONESHOT_EXAMPLE_HELP, enum=list(ONESHOT_EXAMPLES))
    mix_oneshot: float = option(
        0.0, "m of the one-shot -> zero-shot curriculum (laid out as curriculum says); 0: none", minimum=0, maximum=1
    )
    curriculum: str = option(
        "per_prompt",
        "how mix_oneshot lays one-shot prompts out: per_prompt, each prompt one-shot with a chance decaying linearly "
        "from m at the first prompt to 0 at the last; per_step, all prompts of a step one-shot or none, with a chance "
        "decaying linearly from 1 at the first step to 1 - m at the last (the countdown seed's schedule; its code "
        "decays to 0 whatever --mix_oneshot above 0 it is given, which is m = 1 here)",
        enum=list(CURRICULA),
    )
    replay: ReplayOptions | None = option(None, "mix in a prior task's training records; null: none")
    lora: LoraOptions | None = option(None, "train LoRA adapters (peft) and merge them; null: every weight")
    gradient_checkpointing: bool = option(
        False, "recompute activations in the backward pass: less memory for about a third more time"
    )
    optimizer: str = option(
        "adamw", "adamw, or adamw_8bit (bitsandbytes 8-bit states; GPU only)", enum=list(OPTIMIZERS)
    )
    liger_kernel: bool = option(
        False,
        "Liger's fused Triton kernels (RMSNorm, RoPE, SwiGLU, fused linear cross-entropy) through the "
        "trainer's use_liger_kernel: less memory and time on a GPU; needs liger-kernel (the gpu extra)",
    )
    resources: ResourceRequest | None = option(None, "this stage's training request (overrides resources.train)")
    sweep: dict[str, list] | None = option(
        None,
        "option -> values for this stage alone: one variant per combination (see the top-level sweep)",
        propertyNames={"not": {"enum": list(SWEEP_EXCLUDED)}},
        additionalProperties={"type": "array", "minItems": 1},
    )

    def __post_init__(self):
        super().__post_init__()
        if self.replay is not None and self.replay.task == self.task:
            raise OptionError("replay.task", f"{self.task!r} is the stage's own task; replay names a prior task")
        check_system_prompt(self.chat, self.system_prompt)
        check_oneshot_example(self.chat, self.oneshot_example)
        # steps at its default reads as not given: a config cannot say more, once its defaults are filled in
        if self.epochs is not None and self.steps != StageConfig.steps:
            raise OptionError(
                "epochs", f"steps ({self.steps}) and epochs ({self.epochs}) are both given; give one of them"
            )

    @property
    def steps_per_batch(self) -> int:
        """Optimizer steps trained on each batch of batch_size examples or prompts."""
        return 1

    @property
    def examples(self) -> int:
        """Examples (SFT) or prompts (RL) the stage consumes: batch_size per batch."""
        return math.ceil(self.steps / self.steps_per_batch) * self.batch_size

    def with_epochs_as_steps(self, n_train: int) -> StageConfig:
        """The stage with ``epochs`` passes over ``n_train`` records of its task turned into ``steps`` (a replay
        share of each batch is another task's); unchanged without epochs."""
        if self.epochs is None:
            return self
        own = self.batch_size * (1 - (self.replay.ratio if self.replay else 0))
        batches = math.ceil(self.epochs * n_train / own - 1e-9)  # 1e-9: 0.07 x 100 is 7.000000000000001
        return dataclasses.replace(self, steps=max(batches, 1) * self.steps_per_batch, epochs=None)

    @property
    def checkpoint_steps(self) -> list[int]:
        """Steps whose weights are kept besides the final model (the final step is the model itself)."""
        return checkpoint_steps(self.steps, self.save_every or 0)


@dataclass(kw_only=True)
class SFTStageConfig(StageConfig):
    """Supervised fine-tuning on the task's reference completions (TRL SFTTrainer)."""

    tag: ClassVar[str] = "sft"

    max_length: int = option(256, "longest prompt + completion in tokens; longer examples are truncated", minimum=8)
    completion_only_loss: bool = option(
        True, "loss on the completion's tokens only; false: on the whole prompt + completion text"
    )


@dataclass(kw_only=True)
class RLStageConfig(StageConfig):
    """What the RL methods share: batch_size prompts x num_generations sampled completions a step, scored by the
    task's rewards."""

    beta: float = option(0.0, "KL coefficient to the parent (0 loads no reference model)", minimum=0)
    epsilon: float = option(0.2, "clip range of the policy ratio", exclusiveMinimum=0)
    num_generations: int = option(
        4,
        "completions sampled per prompt: the group whose rewards GRPO's and RLOO's advantages compare (2 or more); "
        "PPO's critic is the baseline, so 1 will do",
        minimum=1,
    )
    max_completion_length: int = option(32, "longest completion in tokens", minimum=1, maximum=MAX_NEW_TOKENS)
    temperature: float = option(1.0, "sampling temperature of the rollouts", exclusiveMinimum=0)
    top_p: float = option(
        1.0,
        "rollouts sample from the likeliest tokens holding this much probability; 1: every token",
        exclusiveMinimum=0,
        maximum=1,
    )
    top_k: int = option(0, "rollouts sample from the k likeliest tokens; 0: every token", minimum=0)
    num_iterations: int = option(
        1,
        "optimizer steps on each batch of rollouts (mu of the GRPO paper, PPO's epochs): the policy ratio is to "
        "the log-probabilities at generation, so epsilon clips the later steps",
        minimum=1,
    )
    rewards: dict[str, float] = option(
        help="reward -> weight: correct (the task's scorer), format (the prompt format's answer marking: tags, or "
        "\\boxed{} in the boxed format), length (1 - tokens / max_completion_length), boxed_format (a boxed{...} "
        "anywhere, backslash or not: seed 000's format reward), graded (the task's own graded reward: GeneralPoints' "
        "+5 ... -3 of RL_Heals_SFT), tag_credit (the countdown seed's: 1 when correct, "
        "else 0.1 per <think> and <answer> block), xml_count, soft_format, strict_format, integer_answer (Memory-R's "
        "format rewards over <reasoning>/<answer> blocks, in its units: weight 1.0 each is its sum)",
        factory=lambda: {"correct": 1.0, "format": 0.1},
        propertyNames={"enum": list(REWARD_KINDS)},
    )
    memory: MemoryOptions | None = option(
        None, "Memory-R / Memory-R+: an intrinsic reward from an episodic memory of past completions; null: none"
    )
    engine: str = option(
        "trl",
        "what trains the stage: trl (TRL's trainer, one node), or verl (verl's Ray trainer: FSDP actors, vLLM or "
        "SGLang rollouts, resources.nodes nodes; in an environment of its own, docs/verl.md)",
        enum=list(ENGINES),
    )
    rollouts: str = option(
        "auto",
        "what generates the rollouts: vllm (TRL's vLLM integration, GPU only), hf (the HF model: forgetlab's "
        "decode loop in one process, the model's generate in several), sglang (engine: verl only); "
        "auto: vllm when it is installed and the job has a GPU, hf where the task takes several tries (verify_iter); "
        "with engine: verl, vllm",
        enum=["auto", "hf", "vllm", "sglang"],
    )
    vllm_mode: str = option(
        "colocate",
        "colocate: vLLM inside the training process, sharing its GPUs; server: a separate `trl "
        "vllm-serve` process the job connects to",
        enum=["colocate", "server"],
    )
    vllm_gpu_memory_utilization: float = option(
        0.3,
        "share of each GPU's memory vLLM may take in colocate mode (the rest trains)",
        exclusiveMinimum=0,
        maximum=1,
    )

    def __post_init__(self):
        super().__post_init__()
        if not any(self.rewards.values()) and self.memory is None:
            raise OptionError("rewards", "at least one reward needs a non-zero weight")
        if self.num_generations < 2 and self.tag != "ppo":
            raise OptionError("num_generations", f"{self.tag}'s advantages compare a group: 2 or more completions")
        if self.engine == "verl":
            self._check_verl()
        elif self.rollouts == "sglang":
            raise OptionError("rollouts", "sglang rollouts run in verl: set engine: verl, or rollouts: auto|hf|vllm")

    # options verl's trainer has no counterpart for -> why (each refused with engine: verl, before any job)
    _VERL_REFUSES: ClassVar[dict[str, str]] = {
        "memory": "Memory-R's intrinsic reward lives in forgetlab's TRL rollouts",
        "replay": "replayed prompts are mixed by forgetlab's TRL data path",
        "lora": "forgetlab merges LoRA adapters after its TRL stages",
        "mix_oneshot": "the one-shot curriculum orders forgetlab's TRL data",
    }

    def _check_verl(self) -> None:
        for key, why in self._VERL_REFUSES.items():
            if getattr(self, key):
                raise OptionError(key, f"{key} is not available with engine: verl ({why}); use engine: trl")
        if self.rollouts not in VERL_ROLLOUTS:
            raise OptionError("rollouts", f"engine: verl generates with vllm or sglang, not {self.rollouts}")
        if self.lr_scheduler not in SCHEDULERS:
            raise OptionError("lr_scheduler", f"verl's FSDP optimizer schedules {list(SCHEDULERS)}, not linear")
        if not self.chat:
            raise OptionError("chat", "verl's dataset puts every prompt through the chat template: chat: true")
        if getattr(self, "loss_type", "dapo") not in LOSS_AGGREGATION:
            raise OptionError("loss_type", f"verl aggregates the loss as one of {list(LOSS_AGGREGATION)}")
        if getattr(self, "scale_rewards", "group") == "batch" or getattr(self, "normalize_advantages", False):
            key = "scale_rewards" if hasattr(self, "scale_rewards") else "normalize_advantages"
            raise OptionError(key, "verl scales advantages by the group's std or not at all")
        # verl counts batches; forgetlab's steps and saves count optimizer steps, num_iterations per batch
        for key in ("steps", "save_every", "resume_every"):
            if (getattr(self, key) or 0) % self.num_iterations:
                raise OptionError(key, f"with engine: verl, a multiple of num_iterations ({self.num_iterations})")

    @property
    def steps_per_batch(self) -> int:
        return self.num_iterations


@dataclass(kw_only=True)
class GRPOStageConfig(RLStageConfig):
    """GRPO with the task's rewards (TRL GRPOTrainer): advantages relative to the prompt's group."""

    tag: ClassVar[str] = "grpo"

    loss_type: str = option(
        "dapo",
        "TRL's loss aggregation",
        enum=["grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo", "vespo"],
    )
    scale_rewards: str = option(
        "group", "advantage scaling: by the group's std, the batch's, or none", enum=["group", "batch", "none"]
    )


@dataclass(kw_only=True)
class RLOOStageConfig(RLStageConfig):
    """REINFORCE leave-one-out (TRL RLOOTrainer): each completion's baseline is the mean reward of the others."""

    tag: ClassVar[str] = "rloo"

    normalize_advantages: bool = option(False, "scale the advantages to unit variance over the batch")


@dataclass(kw_only=True)
class PPOStageConfig(RLStageConfig):
    """PPO with a learned critic (verl's trainer; TRL 1.x has no PPO): the value model starts from the parent's
    weights with a fresh scalar head, and GAE turns its values and the rewards into advantages."""

    tag: ClassVar[str] = "ppo"

    gamma: float = option(1.0, "GAE's discount of later tokens' rewards", minimum=0, maximum=1)
    gae_lambda: float = option(1.0, "GAE's lambda: 1 is the Monte-Carlo return, 0 one-step TD", minimum=0, maximum=1)
    critic_lr: float = option(1e-5, "the critic's learning rate (its own AdamW, same schedule)", exclusiveMinimum=0)
    value_clip: float = option(0.5, "clip range of the critic's new values around the old ones", exclusiveMinimum=0)
    entropy_coef: float = option(0.0, "weight of the policy's token entropy bonus in its loss", minimum=0)
    critic_warmup: int = option(0, "batches that train the critic alone before the policy moves", minimum=0)

    def __post_init__(self):
        super().__post_init__()
        if self.engine != "verl":
            raise OptionError("engine", "method ppo trains in verl (TRL 1.x has no PPO trainer): set engine: verl")


METHODS: dict[str, type[StageConfig]] = {
    cls.tag: cls for cls in (SFTStageConfig, GRPOStageConfig, RLOOStageConfig, PPOStageConfig)
}
StageConfig.variants = METHODS
