"""The analysis config (``analysis:``), field by field: which analyses run, against which reference, and each
analysis' own settings."""

from __future__ import annotations

from dataclasses import dataclass

from ..options import OptionError, Options, option, summary

__all__ = ["ANALYSES", "MATRICES", "RESTORE_MODES", "AnalysisConfig", "RestoreConfig"]

# Analyses of a checkpoint against its reference, each a target analysis/<name>.{json,csv,png}
ANALYSES = ("svd", "attention", "concepts", "probe", "drift")
# The linear maps of a decoder layer, by their short names: attention q, k, v, o and the MLP's gate, up, down.
MATRICES = ("q", "k", "v", "o", "gate", "up", "down")
# How part of a reference is put back into a checkpoint (forgetlab.analysis.restore)
RESTORE_MODES = ("directions", "components", "values", "layers")
SPAN = r"^[0-9]+-[0-9]+$"


@dataclass(kw_only=True)
class SVDConfig(Options):
    """Principal angles between the top-k singular subspaces, singular-value drift and rotation share of every
    linear weight."""

    fraction: float = option(0.25, "k as a share of min(rows, cols) (at most 1/2)", exclusiveMinimum=0, maximum=0.5)
    matrices: list[str] = option(help="which linear maps of each layer", factory=lambda: list(MATRICES),
                                 items={"enum": list(MATRICES)}, minItems=1)  # fmt: skip
    seed: int = option(0, "seed of the random-subspace baseline")


@dataclass(kw_only=True)
class RestoreConfig(Options):
    """Restore experiments: checkpoints with part of the reference's weights put back, evaluated like any other."""

    modes: list[str] = option(help=f"restore modes: {', '.join(RESTORE_MODES)}", factory=lambda: ["directions"],
                              items={"enum": list(RESTORE_MODES)})  # fmt: skip
    fractions: list[float] = option(
        help="shares restored: of the singular components, top first (layers mode: of the layers, first first)",
        factory=lambda: [0.2], items={"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    )  # fmt: skip
    layers: list[str] = option(help="layer ranges the layers mode resets, as first-last (e.g. 0-7), besides the "
                               "fractions", factory=list, items={"type": "string", "pattern": SPAN})  # fmt: skip
    tail: float = option(0.0, "components mode: also this bottom share of the components", minimum=0, maximum=1)
    control: bool = option(True, "also restore as many randomly chosen components (or layers): the control")
    lineages: list[str] | None = option(None, "checkpoints to restore (lineage paths; null: every trained lineage)")
    kl: bool = option(True, "also measure the restored checkpoints' KL to the base (evaluate.kl)")
    seed: int = option(0, "seed of the random control")


@dataclass(kw_only=True)
class PromptsConfig(Options):
    """Prompts of a task a representation analysis reads: the checkpoint's own evaluation items."""

    task: str | None = option(None, "task (null: analysis.task)")
    n: int = option(16, "items (the first n of the task's evaluation)", minimum=1)


@dataclass(kw_only=True)
class AttentionConfig(PromptsConfig):
    """Per layer and head: JS divergence of the attention distributions, entropy and first-token mass change,
    on items the checkpoint answers right and wrong."""


@dataclass(kw_only=True)
class DriftConfig(PromptsConfig):
    """Next-token JS divergence and top-k overlap along prompt and reference answer; hidden-state cosine per
    layer."""

    top_k: int = option(10, "k of the top-k overlap", minimum=1)


@dataclass(kw_only=True)
class ProbeConfig(PromptsConfig):
    """Per-layer logistic-regression probes for a label of the task's records, on both models' states."""

    n: int = option(64, "items (the first n of the task's evaluation)", minimum=4)
    label: str = option("correct", "a record field to predict (operator, subject, answer, ...), or correct: "
                        "whether the checkpoint answered the item right")  # fmt: skip
    seed: int = option(0, "seed of the train/test split")


@dataclass(kw_only=True)
class ConceptsConfig(Options):
    """MLP neurons that read (up_proj) or write (down_proj) a concept: located in the reference, followed into
    the checkpoint."""

    words: list[str] = option(help="concepts as words", factory=lambda: ["number", "answer", "add", "multiply"])
    task: str | None = option(None, "also the reference answers of this task's first n_answers items")
    n_answers: int = option(8, "how many answers of that task", minimum=1)
    top_n: int = option(20, "neurons per concept, layer and side", minimum=1)


@dataclass(kw_only=True)
class AnalysisConfig(Options):
    """Why a checkpoint forgot: how its weights, attention and representations moved from a reference, and
    restore experiments."""

    run: list[str] = option(help="analyses to run on every analysed checkpoint, and restore for the restore "
                            "experiments", factory=list, items={"enum": [*ANALYSES, "restore"]})  # fmt: skip
    reference: str = option(
        "base", "what each checkpoint is compared with: base, parent (the lineage's parent) or a checkpoint path "
        "such as base/sft-countdown or base/sft-countdown/steps/10",
    )  # fmt: skip
    checkpoints: str = option("final", "which checkpoints: each lineage's final model, or all (kept steps too)",
                              enum=["final", "all"])  # fmt: skip
    lineages: list[str] | None = option(None, "the lineages analysed (paths such as base/sft-countdown; null: every "
                                        "trained lineage)")  # fmt: skip
    task: str | None = option(None, "the task the representation analyses read (null: figures.prior_task, else "
                              "the first of evaluate.tasks)")  # fmt: skip
    svd: SVDConfig = option(help=summary(SVDConfig), factory=SVDConfig)
    restore: RestoreConfig = option(help=summary(RestoreConfig), factory=RestoreConfig)
    attention: AttentionConfig = option(help=summary(AttentionConfig), factory=AttentionConfig)
    concepts: ConceptsConfig = option(help=summary(ConceptsConfig), factory=ConceptsConfig)
    probe: ProbeConfig = option(help=summary(ProbeConfig), factory=ProbeConfig)
    drift: DriftConfig = option(help=summary(DriftConfig), factory=DriftConfig)

    def __post_init__(self):
        if "restore" in self.run and not (self.restore.modes or self.restore.layers):
            raise OptionError("restore.modes", "restore is to run but no mode or layer range is given")
        if self.restore.layers and "layers" not in self.restore.modes:
            self.restore.modes = [*self.restore.modes, "layers"]
