"""forgetlab (or python -m forgetlab): single stages by hand, calling the same functions as the workflow.

Task, stage, model and evaluation settings come from a workflow config (--config, else config/config.yaml in the
current folder when there is one), checked as the workflow checks it; each command says on stderr which config
it read.
"""

from __future__ import annotations

import argparse

from . import commands
from .arguments import (
    PROMPT_OPTIONS,
    HelpFormatter,
    add_inputs,
    add_options,
    analysis_flags,
    check_inputs,
    describe_os_error,
    field_help,
    field_type,
    index_int,
    layer_span,
    note,
    positive_int,
)
from .options import ConfigError

__all__ = ["build_parser", "main"]


# -- the parser: each command's arguments named, their help, choices, bounds and defaults from one place ----------
def build_parser() -> argparse.ArgumentParser:
    from .analysis.config import RESTORE_MODES, RealignConfig, RestoreConfig
    from .analysis.registry import ANALYSES
    from .config import WorkflowConfig
    from .evaluate.config import EvaluateConfig, KLConfig
    from .memory_profile import SHAPES, ProfileOptions
    from .tasks import SPLITS

    parser = argparse.ArgumentParser(prog="forgetlab", description=__doc__, formatter_class=HelpFormatter)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help_text, run, required="", optional="", outputs=("out",), models=(), **own):
        """A command and its arguments (``arguments.add_inputs``); ``outputs`` and ``models`` name those checked
        before it runs (``arguments.check_inputs``)."""
        sub = subparsers.add_parser(name, help=help_text, description=help_text, formatter_class=HelpFormatter)
        sub.set_defaults(run=run, outputs=outputs, models=models)
        add_inputs(sub, required, optional, **own)
        return sub

    def loads_models(sub, *settings) -> None:
        """The settings of a command that loads models (option class, config section, names): the config's, unless
        a flag overrides one."""
        for cls, section, names in settings:
            add_options(sub, cls, section, names)
        add_options(sub, WorkflowConfig, "", ["device"])
        add_inputs(sub, optional="threads config")

    command(
        "data", "write a task split as JSONL", commands.data, "task split out", "n seed source format config",
        split={"choices": SPLITS, "help": "which split"},
        n={"type": positive_int, "help": "how many records (default: the task's n_train / n_test)"},
        seed={"type": int, "help": "seed of the records drawn (default: the task's seed)"},
        source="read the records from this JSONL/JSON file instead of generating them",
        format="prompt format of the records (default: the task's)",
        out="JSONL file to write",
    )  # fmt: skip
    command(
        "score", "score completions: rows are task records plus 'completion'", commands.score, "task input",
        "format out config",
        input="JSONL rows: a task record plus its 'completion'",
        format="prompt format the completions answer (default: the task's)",
        out="write per-row scores and the metrics here (JSON)",
    )  # fmt: skip
    command(
        "base", "materialise a config's model as an HF folder", commands.base, "model out", "config",
        model="a model label of the config",
        out="folder to write the model to",
    )  # fmt: skip
    train = command(
        "train", "train one stage of a config from a model folder", commands.train, "stage model data out",
        "replay_data resume_dir log checkpoints gpus accelerate_config",
        outputs=("out", "log", "checkpoints", "resume_dir"), models=("model",),
        stage="a stage label of the config (a swept stage: one variant)",
        model="parent checkpoint (HF folder)",
        data="training records of the stage's task (JSONL)",
        replay_data="training records of the task the stage replays (replay.task)",
        resume_dir="folder for the trainer state saved every resume_minutes (or resume_every steps); run again "
        "after a kill, the command resumes from it",
        out="folder to write the trained model to",
        log="step log (JSONL; default: train_log.jsonl beside --out)",
        checkpoints="folder for the stage's intermediate checkpoints (save_every)",
        gpus={"type": positive_int, "help": "GPUs; more than 1 launches under accelerate (default: this process)"},
        accelerate_config="accelerate config of a multi-GPU launch, e.g. config/deepspeed/zero3.yaml",
    )  # fmt: skip
    loads_models(train)
    evaluate = command(
        "eval", "generation accuracy and reference log-likelihood of a model folder on a task", commands.evaluate,
        "model task out", "data n", models=("model",),
        model="checkpoint to evaluate (HF folder)",
        out="metrics JSON; the samples go beside it (.samples.jsonl)",
    )  # fmt: skip
    loads_models(evaluate, (EvaluateConfig, "evaluate", ["format", *PROMPT_OPTIONS, *commands.EVAL_OPTIONS]))
    kl = command(
        "kl", "KL(base || model) on a task, over completions sampled from the base", commands.kl,
        "base model task out", "data reverse", models=("base", "model"),
        base="the base model (HF folder)",
        data="prompts (JSONL task records; default: the task's test split)",
        reverse={"action": "store_true", "help": "KL(model || base), sampling from the model"},
        out="metrics JSON",
    )  # fmt: skip
    loads_models(
        kl, (KLConfig, "evaluate.kl", commands.KL_OPTIONS), (EvaluateConfig, "evaluate", ["format", *PROMPT_OPTIONS])
    )
    analyse = command(
        "analyse", "how a checkpoint moved from a reference: weights, attention, concepts, probes, outputs",
        commands.analyse, "reference model out", "task samples format", models=commands.analysed_models,
        reference="the reference model (HF folder), e.g. the base; flips: its evaluation samples (.samples.jsonl)",
        model={"aliases": ["--checkpoint"], "help": "the checkpoint (HF folder); flips: its evaluation samples"},
        task="task whose items the analysis reads (attention, drift, probe, token_shift; concepts: its answers "
        "as concepts)",
        samples="the checkpoint's evaluation samples of the task (eval/<task>.samples.jsonl): its items and which "
        "it answered right, and token_shift its completions (default: the task's test split; token_shift then "
        "generates them)",
        format="prompt format of the items (default: the task's)",
        out="JSON of the summary and the rows",
    )  # fmt: skip
    analyse.add_argument("analysis", choices=ANALYSES, help="which analysis: " + ", ".join(ANALYSES))
    analysis_flags(analyse)
    loads_models(analyse, (EvaluateConfig, "evaluate", PROMPT_OPTIONS))
    restore = command(
        "restore", "a checkpoint with part of a reference's weights put back, as a model folder", commands.restore,
        "reference model mode out", "fraction layers control", models=("reference", "model"),
        reference="the model to take weights from (HF folder)",
        model="the checkpoint to restore (HF folder)",
        mode={"choices": RESTORE_MODES, "help": "what is put back"},
        fraction={"type": field_type(RestoreConfig, "fractions", "analysis.restore.fractions", items=True),
                  "help": field_help(RestoreConfig, "fractions")[0]},
        layers={"type": layer_span, "help": "layers mode: the layer range reset, first-last (e.g. 0-7)"},
        control={"choices": ["random"], "help": "as many components (or layers) chosen at random"},
        out="folder to write the restored model to",
    )  # fmt: skip
    add_options(restore, RestoreConfig, "analysis.restore", ["tail", "seed"], config=False)
    add_inputs(restore, optional="threads")
    realign = command(
        "realign", "the re-alignment test: a few SFT steps from a checkpoint on a few prior-task examples",
        commands.realign, "reference model task out", "data", models=("reference", "model"),
        reference="the model whose own right answers are the examples (HF folder), e.g. the base",
        model="the checkpoint to re-align (HF folder; the reference itself: the control)",
        data="train records of the task (JSONL; default: the task's train split)",
        out="folder to write the realigned model to (its train_log.jsonl beside it)",
    )  # fmt: skip
    loads_models(realign, (RealignConfig, "analysis.realign", commands.REALIGN_OPTIONS),
                 (EvaluateConfig, "evaluate", ["format", *PROMPT_OPTIONS]))  # fmt: skip
    generate = command(
        "generate", "one completion of a model folder: to a prompt, or to a task's item prompted as evaluation "
        "prompts it, with its reference answer and score", commands.generate, "model", "prompt task item data",
        outputs=(), models=("model",),
        model="the checkpoint (HF folder)",
        prompt="the user message (in the model's chat template, after --system-prompt, unless --no-chat)",
        task="a task of the config, or a task kind, whose item --item is prompted (not with --prompt)",
        item={"type": index_int, "help": "which item of the task's test split (or of --data), from 0"},
    )  # fmt: skip
    loads_models(generate, (EvaluateConfig, "evaluate", ["format", *PROMPT_OPTIONS, *commands.GENERATE_OPTIONS]))
    memory = command(
        "memory", "peak memory of one training step per component (weights, gradients, optimizer state, "
        "activations, rollouts): estimated from a model's shapes and measured on a random-weight model of them",
        commands.memory, optional="model shape", outputs=(),
        model="a model folder, or a model label of the config: its config alone is read",
        shape={"choices": list(SHAPES), "help": "a known architecture instead of --model"},
    )  # fmt: skip
    add_options(memory, ProfileOptions, "", commands.PROFILE_OPTIONS, config=False)
    loads_models(memory)
    command(
        "fit",
        "rank the predictors of forgetting: linear/quadratic R² and Spearman per method",
        commands.fit,
        "metrics out",
        metrics="a metrics table (results/tables/metrics.csv)",
        out="the predictors table (CSV)",
    )
    command(
        "schema",
        "print the config's JSON schema (config/schema.yaml): every key, described",
        commands.schema,
        optional="markdown out",
        markdown={"action": "store_true", "help": "the options reference page (docs/options.md) instead"},
        out="write it to this file instead of stdout",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command: 0 when it succeeds; a wrong input, config or path is one line on stderr and 2; Ctrl-C is
    one line and 130 (no output is left half-written: every output is written under a temporary name first)."""
    args = build_parser().parse_args(argv)
    try:
        check_inputs(args)
        args.run(args)
    except KeyboardInterrupt:
        note(args, "interrupted")
        return 130
    except (ConfigError, ValueError, OSError) as error:
        message = str(error) if not isinstance(error, OSError) or not error.filename else describe_os_error(error)
        note(args, message)
        return 2
    return 0
