"""The analysis config (``analysis:``): which analyses run, against which reference, the restore experiments,
and each registered analysis' own section (its option class, :mod:`forgetlab.analysis.registry`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..options import OptionError, Options, option, summary
from ..prompts import FORMATS
from .registry import ANALYSES

__all__ = ["ANALYSES", "REALIGN_TARGETS", "RESTORE_MODES", "AnalysisConfig", "RealignConfig", "RestoreConfig"]

# How part of a reference is put back into a checkpoint (forgetlab.analysis.restore)
RESTORE_MODES = ("directions", "components", "values", "layers")
SPAN = r"^[0-9]+-[0-9]+$"
# What the re-alignment examples teach: the reference model's own correct completions, or the task's answers in a
# prompt format
REALIGN_TARGETS = ("reference", *FORMATS)


@dataclass(kw_only=True)
class RestoreConfig(Options):
    """Restore experiments: checkpoints with part of the reference's weights put back, evaluated like any other."""

    modes: list[str] = option(help=f"restore modes: {', '.join(RESTORE_MODES)}", factory=lambda: ["directions"],
                              items={"enum": list(RESTORE_MODES)})  # fmt: skip
    fractions: list[float] = option(
        help="shares restored: of the singular components, top first (layers mode: of the layers, first first)",
        factory=lambda: [0.2],
        items={"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    )
    layers: list[str] = option(help="layer ranges the layers mode resets, as first-last (e.g. 0-7), besides the "
                               "fractions", factory=list, items={"type": "string", "pattern": SPAN})  # fmt: skip
    tail: float = option(0.0, "components mode: also this bottom share of the components", minimum=0, maximum=1)
    control: bool = option(True, "also restore as many randomly chosen components (or layers): the control")
    lineages: list[str] | None = option(None, "checkpoints to restore (lineage paths; null: every trained lineage)")
    kl: bool = option(True, "also measure the restored checkpoints' KL to the base (evaluate.kl)")
    tasks: list[str] | None = option(
        None, "tasks the restored checkpoints are evaluated on, in their own formats (null: evaluate.tasks)"
    )
    seed: int = option(0, "seed of the random control")


@dataclass(kw_only=True)
class RealignConfig(Options):
    """Re-alignment test (is the forgetting spurious?): a few SFT steps on a few prior-task records from each
    checkpoint, then the prior task evaluated again; the same steps from the reference are the control."""

    task: str | None = option(None, "the prior task re-aligned to (null: analysis.task)")
    targets: str = option(
        "reference",
        "what the examples teach: reference (the reference model's own correct completions of them, its format "
        "included) or a prompt format (the task's reference answers in it)",
        enum=list(REALIGN_TARGETS),
    )
    n: int = option(
        16, "records trained on (the first the reference answers right, with targets: reference)", minimum=1
    )
    candidates: int = option(
        64, "train records the reference answers to find n it gets right (targets: reference)", minimum=1
    )
    steps: int = option(4, "SFT steps", minimum=1)
    lr: float = option(5e-5, "learning rate", exclusiveMinimum=0)
    batch_size: int = option(4, "records per step", minimum=1)
    lineages: list[str] | None = option(
        None, "lineages whose final checkpoint is re-aligned (null: analysis.lineages, else every trained lineage)"
    )
    control: bool = option(True, "also re-align the reference itself: what the few examples teach on their own")
    seed: int = option(0, "seed of the SFT steps")


@dataclass(kw_only=True)
class AnalysisSettings(Options):
    """Why a checkpoint forgot: how its weights, attention and representations moved from a reference, and
    restore experiments."""

    run: list[str] = option(help="analyses to run on every analysed checkpoint, restore for the restore "
                            "experiments and realign for the re-alignment test", factory=list,
                            items={"enum": [*ANALYSES, "restore", "realign"]})  # fmt: skip
    reference: str = option(
        "base",
        "what each checkpoint is compared with: base, parent (the lineage's parent) or a checkpoint path "
        "such as base/sft-countdown or base/sft-countdown/steps/10",
    )
    checkpoints: str = option(
        "final", "which checkpoints: each lineage's final model, or all (kept steps too)", enum=["final", "all"]
    )
    steps: list[str] | None = option(
        None,
        "with checkpoints: all, the analyses that also run on the kept steps (null: every analysis); the others "
        "read each lineage's final model alone",
        items={"enum": list(ANALYSES)},
    )
    lineages: list[str] | None = option(
        None, "the lineages analysed (paths such as base/sft-countdown; null: every trained lineage)"
    )
    task: str | None = option(
        None, "the task the representation analyses read (null: figures.prior_task, else the first of evaluate.tasks)"
    )
    restore: RestoreConfig = option(help=summary(RestoreConfig), factory=RestoreConfig)
    realign: RealignConfig = option(help=summary(RealignConfig), factory=RealignConfig)

    def __post_init__(self):
        if "restore" in self.run and not (self.restore.modes or self.restore.layers):
            raise OptionError("restore.modes", "restore is to run but no mode or layer range is given")
        if self.restore.layers and "layers" not in self.restore.modes:
            self.restore.modes = [*self.restore.modes, "layers"]


# One section per registered analysis, after the settings every analysis shares.
AnalysisConfig = dataclasses.make_dataclass(
    "AnalysisConfig",
    [(name, analysis.options, option(help=summary(analysis.options), factory=analysis.options))
     for name, analysis in ANALYSES.items()],
    bases=(AnalysisSettings,), kw_only=True, namespace={"__doc__": AnalysisSettings.__doc__, "__module__": __name__},
)  # fmt: skip
