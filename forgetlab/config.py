"""The workflow config: its top level, and the one check every entry point runs before anything else.

:func:`resolve_config` validates a config (types, ranges, names, the options of each task kind and training
method, cross-references), fills every default from the option classes and expands sweeps. The workflow
(rules/common.smk) and every command (``forgetlab train --config ...``) call it, so both stop on the same
message naming the field. The JSON schema, ``forgetlab schema`` and config/schema.yaml come from the same classes.
"""

from __future__ import annotations

import copy
import os
from dataclasses import MISSING, dataclass

from .analysis.config import ANALYSES, AnalysisConfig
from .analysis.plan import analysed_checkpoints, analysis_task
from .evaluate.config import EvaluateConfig
from .lineages import BASE, checkpoint_steps, expand_sweeps, lineage_paths, lineage_stage, split_checkpoint
from .models import DEVICES, ModelSpec
from .options import ConfigError, OptionError, Options, did_you_mean, option, raise_errors, summary, validate_value
from .resources import Resources
from .tasks import Task
from .tracking.config import TrackingConfig
from .train.config import SWEEP_EXCLUDED, StageConfig
from .verl.settings import check_nodes

__all__ = [
    "RESERVED_LABELS",
    "ConfigError",
    "WorkflowConfig",
    "config_schema",
    "load_config",
    "load_yaml",
    "merge_configs",
    "missing_sections",
    "resolve_config",
]

# Folder names of the target scheme: a model, task or stage label must not shadow them.
RESERVED_LABELS = ("base", "model", "eval", "steps", "kl", "harness", "evalscope", "analysis", "checkpoints",
                   "restored", "resume", "data", "tables", "figures", "benchmarks")  # fmt: skip
LABEL = {"pattern": "^[A-Za-z0-9][A-Za-z0-9_.+-]*$"}


@dataclass(kw_only=True)
class FiguresConfig(Options):
    """Which tasks the summary figures put on their axes, and how they are drawn."""

    new_task: str | None = option(None, "the trained task (y axis of learning vs forgetting; x axis of KL)")
    prior_task: str | None = option(None, "the task that may be forgotten (x axis of learning vs forgetting)")
    ood_task: str | None = option(None, "an out-of-distribution variant of the new task (recovery figure)")
    smoothing: int = option(1, "training figure: rolling mean over this many logged steps (1: raw)", minimum=1)
    advantage_steps: list[int] | None = option(
        None,
        "advantages figure: the steps whose histograms it draws (null: the first, middle and last)",
        items={"type": "integer", "minimum": 1},
    )


@dataclass(kw_only=True)
class RecoveryConfig(Options):
    """RL after SFT from several points of SFT: how far the first stage went against what the second recovers."""

    from_steps: list[int] = option(
        help="kept steps of the stage before the last of every lineage of two or more stages: its last stage is "
        "also trained from each (base/sft/steps/10/grpo); the DAG grows with the list",
        factory=list,
        items={"type": "integer", "minimum": 1},
    )


@dataclass(kw_only=True)
class WorkflowConfig(Options):
    """forgetlab workflow configuration (config/config.yaml is the embedded default)."""

    models: dict[str, ModelSpec] = option(
        help="models to fine-tune by label; every lineage runs on every model", minProperties=1, propertyNames=LABEL
    )
    tasks: dict[str, Task] = option(help="tasks by label; `kind` picks the task", minProperties=1, propertyNames=LABEL)
    stages: dict[str, StageConfig] = option(
        help="training stages by label; a lineage chains them", factory=dict, propertyNames=LABEL
    )
    lineages: list[list[str]] = option(
        help="chains of stages trained one after the other from the base model (every prefix is a checkpoint too)",
        factory=list,
        items={"type": "array", "minItems": 1, "items": {"type": "string"}},
    )
    sweep: dict[str, list] = option(
        help="option -> values, for every stage that takes the option: each becomes one variant per combination "
        "(labels like grpo-countdown-lr1e-5-s0); seeds pair up along a lineage, other options multiply",
        factory=dict,
        additionalProperties={"type": "array", "minItems": 1},
        propertyNames={"not": {"enum": list(SWEEP_EXCLUDED)}},
    )
    evaluate: EvaluateConfig = option(help=summary(EvaluateConfig))
    figures: FiguresConfig = option(help=summary(FiguresConfig), factory=FiguresConfig)
    recovery: RecoveryConfig = option(help=summary(RecoveryConfig), factory=RecoveryConfig)
    analysis: AnalysisConfig = option(help=summary(AnalysisConfig), factory=AnalysisConfig)
    resources: Resources = option(help=summary(Resources), factory=Resources)
    tracking: TrackingConfig = option(help=summary(TrackingConfig), factory=TrackingConfig)
    device: str = option(
        "auto",
        "where jobs load models: auto (CUDA when a GPU is visible, else the CPU), cpu or cuda",
        enum=list(DEVICES),
    )
    cluster_file: str | None = option(None, "cluster specifics (account, partitions, qos); null: config/cluster.yaml")
    figures_only: bool = option(False, "gather and plot only the metric files that exist; train and evaluate nothing")
    verl_python: str = option(
        ".venvs/verl/bin/python",
        "the Python of verl's environment (bash requirements/venv.sh verl), which trains engine: verl stages when "
        "the job itself runs in another (no --sdm conda); relative to the working directory",
        minLength=1,
    )
    fast_paths: bool = option(
        True,
        "speed-ups that reach into TRL, transformers and gguf internals (forgetlab.compat); false runs their stock "
        "paths (the same results to float rounding, slower); each model folder's fast_paths.json says what ran",
    )

    def __post_init__(self):
        for kind, names in (("model", self.models), ("task", self.tasks), ("stage", self.stages)):
            for name in names:
                if name in RESERVED_LABELS:
                    raise OptionError(
                        f"{kind}s.{name}", f"{name!r} is a folder name of the results; choose another label"
                    )
        benchmarks = [*self.evaluate.harness.tasks, *self.evaluate.evalscope.tasks]
        for name in self.tasks:  # metrics.csv names a benchmark's rows by the benchmark: they would mix
            if name in benchmarks:
                raise OptionError(f"tasks.{name}", f"{name!r} is also a benchmark of evaluate; choose another label")
        for name, stage in self.stages.items():
            _require(stage.task, self.tasks, f"stages.{name}.task", "task")
            if stage.replay is not None:
                _require(stage.replay.task, self.tasks, f"stages.{name}.replay.task", "task")
            _check_tries(name, stage, self.tasks[stage.task])
            if stage.save_every is None:
                stage.save_every = self.evaluate.every_steps or 0
                if getattr(stage, "engine", "trl") == "verl" and stage.save_every % stage.num_iterations:
                    raise OptionError(
                        "evaluate.every_steps",
                        f"stage {name!r} trains in verl, which saves after whole batches: a multiple of its "
                        f"num_iterations ({stage.num_iterations}), or give the stage's save_every",
                    )
        for i, lineage in enumerate(self.lineages):
            for j, stage in enumerate(lineage):
                _require(stage, self.stages, f"lineages[{i}][{j}]", "stage")
        for field, names in (("evaluate.tasks", self.evaluate.tasks), ("evaluate.kl.tasks", self.evaluate.kl.tasks)):
            for i, task in enumerate(names):
                _require(task, self.tasks, f"{field}[{i}]", "task")
        for key in ("new_task", "prior_task", "ood_task"):
            if getattr(self.figures, key) is not None:
                _require(getattr(self.figures, key), self.tasks, f"figures.{key}", "task")
        named = {"analysis.task": self.analysis.task}
        for name in ANALYSES:
            if hasattr(section := getattr(self.analysis, name), "task"):
                named[f"analysis.{name}.task"] = section.task
        for field, task in named.items():
            if task is not None:
                _require(task, self.tasks, field, "task")


def _check_tries(name: str, stage: StageConfig, task) -> None:
    """Episodes of tries train with GRPO in forgetlab's HF rollouts (train/episodes.py), or with any method in
    verl's (verl/tries.py); SFT ignores them."""
    if task.verify_iter == 1 or not hasattr(stage, "rollouts") or stage.engine == "verl":
        return
    why = f"task {stage.task!r} takes {task.verify_iter} tries (verify_iter), which train"
    if stage.tag != "grpo":
        raise OptionError(f"stages.{name}.method", f"{why} with grpo only")
    if stage.rollouts == "vllm":
        raise OptionError(f"stages.{name}.rollouts", f"{why} in forgetlab's HF rollouts: hf or auto")


def _require(name: str, defined: dict, field: str, kind: str) -> None:
    if name not in defined:
        raise OptionError(
            field, f"{kind} {name!r} is not defined (defined {kind}s: {sorted(defined)}){did_you_mean(name, defined)}"
        )


def _takes(stage: StageConfig, key: str) -> bool:
    """Whether a stage takes a swept option; a dotted one (replay.ratio) only when the stage sets its section."""
    head, _, rest = key.partition(".")
    return head in type(stage).option_fields() and (not rest or getattr(stage, head) is not None)


def _sweep_grids(config: WorkflowConfig) -> dict[str, dict]:
    """Each stage's grid: the top-level sweep's options it takes, then its own sweep; every value checked (a
    nested option's values when each variant is built)."""
    grids = {}
    for key in config.sweep:
        if not any(_takes(stage, key) for stage in config.stages.values()):
            known = {name for stage in config.stages.values() for name in type(stage).option_fields()}
            raise ConfigError(f"sweep.{key}: no stage takes this option{did_you_mean(key, known)}")
    for name, stage in config.stages.items():
        shared = {key: values for key, values in config.sweep.items() if _takes(stage, key)}
        for key in stage.sweep or {}:
            if key.partition(".")[0] not in type(stage).option_fields():
                raise ConfigError(f"stages.{name}.sweep.{key}: {type(stage)._unknown(key)}")
            if not _takes(stage, key):
                raise ConfigError(f"stages.{name}.sweep.{key}: the stage sets no {key.partition('.')[0]} to sweep")
        grid, properties = {}, type(stage).json_schema()["properties"]
        for key, values in {**shared, **(stage.sweep or {})}.items():
            if "." in key:
                grid[key] = list(values)
                continue
            where = f"stages.{name}.sweep.{key}" if key in (stage.sweep or {}) else f"sweep.{key}"
            checked = [validate_value(value, properties[key], f"{where}[{i}]") for i, value in enumerate(values)]
            raise_errors([message for _, messages in checked for message in messages])
            grid[key] = [value for value, _ in checked]
        grids[name] = grid
    return grids


def resolve_config(raw: dict) -> tuple[dict, dict[str, str]]:
    """(the config with every default filled and every sweep expanded, seed groups) for a raw config; raises
    ConfigError naming the first wrong field.

    Seed groups map each stage label to its label without the seed part (for intervals over seeds).
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"config: expected a mapping of sections (models, tasks, ...), not {type(raw).__name__}")
    config = WorkflowConfig.from_dict(raw)
    grids = _sweep_grids(config)
    resolved = config.to_dict()
    specs = {name: {**spec, "sweep": grids[name]} for name, spec in resolved["stages"].items()}
    stages, lineages, groups = expand_sweeps(specs, config.lineages)
    resolved["stages"] = {label: _resolve_stage(spec, label, config.tasks) for label, spec in stages.items()}
    for spec in resolved["stages"].values():
        spec.pop("sweep")
    resolved.update(lineages=lineages, sweep={})
    _check_recovery(resolved)
    _check_analysis(resolved)
    check_nodes(resolved)
    return resolved, groups


def _resolve_stage(spec: dict, label: str, tasks: dict[str, Task]) -> dict:
    """A stage variant's entry, its epochs turned into steps (once, here: whatever reads the config sees steps)."""
    stage = StageConfig.from_dict(spec, f"stages.{label}")
    return stage.with_epochs_as_steps(tasks[stage.task].n_train).to_dict()


def _check_recovery(config: dict) -> None:
    """Every step recovery starts from is kept by the stage it branches from, in every lineage it applies to."""
    steps = config["recovery"]["from_steps"]
    chains = [lineage for lineage in config["lineages"] if len(lineage) > 1]
    if steps and not chains:
        raise ConfigError("recovery.from_steps: no lineage of two or more stages to branch (add one to lineages)")
    for lineage in chains:
        stage = lineage[-2]
        spec = config["stages"][stage]
        kept = checkpoint_steps(spec["steps"], spec["save_every"])
        for i, step in enumerate(steps):
            if step not in kept:
                raise ConfigError(
                    f"recovery.from_steps[{i}]: stage {stage!r} keeps no checkpoint at step {step} (kept: {kept}); "
                    f"set stages.{stage}.save_every or evaluate.every_steps so that it does"
                )


def _checkpoint_paths(config: dict) -> list[str]:
    """Every checkpoint path of the expanded config: lineages and their kept steps."""
    paths = []
    for lineage in lineage_paths(config["lineages"], config["recovery"]["from_steps"]):
        paths.append(lineage)
        if lineage != BASE:
            spec = config["stages"][lineage_stage(lineage)]
            paths += [f"{lineage}/steps/{step}" for step in checkpoint_steps(spec["steps"], spec["save_every"])]
    return paths


def _check_analysis(config: dict) -> None:
    """What the analysis section names exists once sweeps are expanded: its reference, the lineages to restore,
    and (evaluated, so their items and answers are there) the tasks its analyses read."""
    analysis, known = config["analysis"], _checkpoint_paths(config)
    if analysis["reference"] not in ("base", "parent", *known):
        hint = did_you_mean(analysis["reference"], known)
        raise ConfigError(
            f"analysis.reference: {analysis['reference']!r} is neither base, parent nor a checkpoint "
            f"of the lineages (checkpoints: {known}){hint}"
        )
    for field, chosen in (
        # an overlay that turns the analyses or an experiment off may leave their lineages of another set of lineages
        ("analysis.lineages", analysis["lineages"] if analysis["run"] else None),
        ("analysis.restore.lineages", analysis["restore"]["lineages"] if "restore" in analysis["run"] else None),
        ("analysis.realign.lineages", analysis["realign"]["lineages"] if "realign" in analysis["run"] else None),
    ):
        for i, lineage in enumerate(chosen or []):
            if lineage not in known or split_checkpoint(lineage)[1] is not None or lineage == BASE:
                hint = did_you_mean(lineage, known)
                raise ConfigError(f"{field}[{i}]: {lineage!r} is not a trained lineage{hint}")
    evaluated = config["evaluate"]["tasks"]
    for i, task in enumerate(analysis["restore"]["tasks"] or []):
        if task not in evaluated:
            hint = did_you_mean(task, evaluated)
            raise ConfigError(f"analysis.restore.tasks[{i}]: {task!r} is not in evaluate.tasks {evaluated}{hint}")
    for name in analysis["run"]:
        task = analysis_task(config, name) if name != "restore" else None
        if task is not None and task not in config["evaluate"]["tasks"]:
            raise ConfigError(
                f"analysis.{name}: it reads the evaluation items of task {task!r}, which evaluate.tasks "
                f"does not list ({config['evaluate']['tasks']})"
            )
    lineages = lineage_paths(config["lineages"], config["recovery"]["from_steps"])
    if analysis["run"] and not analysed_checkpoints(config, lineages):
        raise ConfigError("analysis.run: no checkpoint to analyse (every trained checkpoint is the reference itself)")


def missing_sections(raw: dict) -> list[str]:
    """The required top-level sections (those without a default: models, tasks, evaluate) a raw config lacks. A
    config file that sets some of them is an overlay, meant to be merged over a whole config."""
    fields = WorkflowConfig.option_fields().items()
    required = [name for name, field in fields if field.default is MISSING and field.default_factory is MISSING]
    return [name for name in required if name not in (raw or {})]


def merge_configs(*configs: dict) -> dict:
    """The raw configs merged in order as Snakemake merges several ``--configfile``: a mapping merges key by key
    into the one before it, any other value (a list included) replaces it. The arguments stay as they were."""
    merged: dict = {}
    for config in configs:
        for key, value in (config or {}).items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = merge_configs(merged[key], value)
            else:
                merged[key] = merge_configs(value) if isinstance(value, dict) else copy.deepcopy(value)
    return merged


def load_yaml(path: str | os.PathLike) -> dict:
    """A YAML config file as a dict; a missing file or bad YAML raises ConfigError with the file and position."""
    import yaml

    try:
        with open(path) as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: a folder, not a config file") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    return data if data is not None else {}


def load_config(path: str | os.PathLike) -> dict:
    """The resolved config in ``path`` (see :func:`resolve_config`); messages start with the file's name."""
    try:
        return resolve_config(load_yaml(path))[0]
    except ConfigError as error:
        if str(error).startswith(str(path)):
            raise
        raise ConfigError("\n".join(f"{path}: {line}" for line in str(error).splitlines())) from None


def config_schema() -> dict:
    """The JSON schema of a workflow config (what config/schema.yaml holds)."""
    return WorkflowConfig.json_schema()


SCHEMA_HEADER = """\
# The JSON schema of a forgetlab config: every key with its description and default.
# Generated from the option classes (forgetlab/config.py, forgetlab/evaluate/config.py, forgetlab/train/config.py,
# forgetlab/tasks/, forgetlab/models.py, forgetlab/resources.py, forgetlab/tracking/config.py), which are the
# source: edit those, then run
#   forgetlab schema --out config/schema.yaml
"""


def schema_yaml() -> str:
    """config/schema.yaml's text."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    return SCHEMA_HEADER + yaml.dump(config_schema(), Dumper=Dumper, sort_keys=False, width=116, allow_unicode=True)
