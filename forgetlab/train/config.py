"""The training stage config, field by field: options every method shares, then each method's own.

A stage entry in the config (``stages.<label>``) names its ``method``; :meth:`StageConfig.from_dict` builds that
method's class and refuses options of other methods. No trainer is imported here, so a workflow can check every
stage when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..lineages import checkpoint_steps
from ..options import OptionError, Options, option
from ..prompts import FORMATS
from ..resources import ResourceRequest
from ..rewards import REWARD_KINDS

__all__ = ["METHODS", "SWEEP_EXCLUDED", "GRPOStageConfig", "SFTStageConfig", "StageConfig"]

# Options that say what a stage is rather than how it trains: never swept.
SWEEP_EXCLUDED = ("task", "sweep", "resources")


@dataclass(kw_only=True)
class StageConfig(Options):
    """One training stage (``stages.<label>``): trains the parent checkpoint on a task's train split."""

    discriminator: ClassVar[str] = "method"
    discriminator_help: ClassVar[str] = "training method: sft (TRL SFTTrainer) or grpo (TRL GRPOTrainer)"

    task: str = option(help="the task whose train split this stage trains on")
    lr: float = option(1e-5, "learning rate (1e-5 and 1.0e-5 both read as numbers)", exclusiveMinimum=0)
    steps: int = option(20, "optimizer steps", minimum=1)
    batch_size: int = option(
        4, "prompts per optimizer step (GRPO samples num_generations completions for each)", minimum=1
    )
    seed: int = option(0, "seed of the trainer (data order, sampling, initialisation of new parameters)")
    warmup_ratio: float = option(0.0, "share of the steps spent warming the learning rate up", minimum=0, maximum=1)
    lr_scheduler: str = option(
        "constant", "learning-rate schedule", enum=["constant", "constant_with_warmup", "linear", "cosine"]
    )
    weight_decay: float = option(0.0, "AdamW weight decay", minimum=0)
    max_grad_norm: float = option(1.0, "gradient clipping norm", exclusiveMinimum=0)
    save_every: int | None = option(
        None,
        "keep the weights every K steps as steps/<step>/model for curves over training; 0 keeps none; "
        "null: evaluate.every_steps in a workflow, none on its own",
        minimum=0,
    )
    format: str | None = option(None, "prompt format of the training prompts (null: the task's)", enum=list(FORMATS))
    chat: bool = option(True, "true: the model's chat template; false: a plain 'Question: ... Answer:' prompt")
    mix_oneshot: float = option(
        0.0, "one-shot share of the prompts at the first step, decaying linearly to 0 at the last", minimum=0, maximum=1
    )
    resources: ResourceRequest | None = option(None, "this stage's training request (overrides resources.train)")
    sweep: dict[str, list] | None = option(
        None, "option -> values for this stage alone: one variant per combination (see the top-level sweep)",
        propertyNames={"not": {"enum": list(SWEEP_EXCLUDED)}}, additionalProperties={"type": "array", "minItems": 1},
    )  # fmt: skip

    @property
    def checkpoint_steps(self) -> list[int]:
        """Steps whose weights are kept besides the final model (the final step is the model itself)."""
        return checkpoint_steps(self.steps, self.save_every or 0)


@dataclass(kw_only=True)
class SFTStageConfig(StageConfig):
    """Supervised fine-tuning on the task's reference completions (TRL SFTTrainer, completion-only loss)."""

    tag: ClassVar[str] = "sft"

    max_length: int = option(256, "longest prompt + completion in tokens; longer examples are truncated", minimum=8)


@dataclass(kw_only=True)
class GRPOStageConfig(StageConfig):
    """GRPO with the task's rewards (TRL GRPOTrainer): batch_size prompts x num_generations completions a step."""

    tag: ClassVar[str] = "grpo"

    beta: float = option(0.0, "KL coefficient to the parent (0 loads no reference model)", minimum=0)
    epsilon: float = option(0.2, "clip range of the policy ratio", exclusiveMinimum=0)
    num_generations: int = option(4, "completions sampled per prompt (the group advantages compare)", minimum=2)
    max_completion_length: int = option(32, "longest completion in tokens", minimum=1)
    temperature: float = option(1.0, "sampling temperature of the rollouts", exclusiveMinimum=0)
    loss_type: str = option(
        "dapo", "TRL's loss aggregation",
        enum=["grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo", "vespo"],
    )  # fmt: skip
    scale_rewards: str = option("group", "advantage scaling: by the group's std, the batch's, or none",
                                enum=["group", "batch", "none"])  # fmt: skip
    rewards: dict[str, float] = option(
        help="reward -> weight; length is 1 - tokens / max_completion_length",
        factory=lambda: {"correct": 1.0, "format": 0.1},
        propertyNames={"enum": list(REWARD_KINDS)},
    )

    def __post_init__(self):
        super().__post_init__()
        if not any(self.rewards.values()):
            raise OptionError("rewards", "at least one reward needs a non-zero weight")


METHODS: dict[str, type[StageConfig]] = {cls.tag: cls for cls in (SFTStageConfig, GRPOStageConfig)}
StageConfig.variants = METHODS
