"""forgetlab (or python -m forgetlab): single stages by hand, calling the same functions as the workflow.

Task, stage, model and evaluation settings come from a workflow config (--config, else config/config.yaml in the
current folder when there is one), checked as the workflow checks it; each command says on stderr which config
it read.
"""

from __future__ import annotations

import argparse
import os
import sys

from .arguments import (
    HelpFormatter,
    analysis_flags,
    chat_of,
    check_inputs,
    class_option,
    command_config,
    command_records,
    command_stage,
    command_task,
    common_options,
    config_option,
    config_setting,
    describe_os_error,
    device_of,
    device_option,
    emit,
    field_help,
    field_type,
    layer_span,
    note,
    positive_int,
    set_threads,
    settings,
    style_of,
    threads_option,
)
from .options import ConfigError, did_you_mean

__all__ = ["build_parser", "main"]


# -- commands ----------------------------------------------------------------------------------------------
def cmd_data(args) -> None:
    import dataclasses

    from .data import load_source_records
    from .io import write_jsonl

    config, path = command_config(args)
    task = command_task(args, config, path, args.task)
    if args.format:
        task = dataclasses.replace(task, format=args.format)
    if args.source:
        records = load_source_records(task, args.source, args.split, args.n, args.seed)
    else:
        records = task.build(args.split, args.n, args.seed)
    write_jsonl(records, args.out)
    emit({"task": args.task, "split": args.split, "n": len(records), "out": args.out, "config": path})


def cmd_score(args) -> None:
    from .evaluate.generation import score_rows
    from .io import read_jsonl, write_json

    config, path = command_config(args)
    task = command_task(args, config, path, args.task)
    metrics, scored = score_rows(task.for_format(args.format or task.format), read_jsonl(args.input), source=args.input)
    if args.out:
        write_json({"metrics": metrics, "rows": scored}, args.out)
    emit(metrics)


def cmd_base(args) -> None:
    from .models import materialise

    config, path = command_config(args, required=True)
    models = config["models"]
    if args.model not in models:
        hint = did_you_mean(args.model, models)
        raise ValueError(f"model {args.model!r} is not defined in {path} (defined: {sorted(models)}){hint}")
    note(args, f"model {args.model!r} from {path}")
    materialise(models[args.model], args.out, fast_paths=config["fast_paths"])
    emit({"model": args.model, "out": args.out, "config": path})


def cmd_train(args) -> None:
    from .data import read_records
    from .tasks import make_task
    from .train import run_stage

    config, path = command_config(args, required=True)
    stage = command_stage(config, path, args.stage)
    note(args, f"stage {args.stage!r} and task {stage['task']!r} from {path}")
    task_spec = config["tasks"][stage["task"]]
    read_records(make_task(stage["task"], task_spec), args.data)  # every record checked before training starts
    replay = (stage.get("replay") or {}).get("task")
    if replay and not args.replay_data:
        raise ValueError(f"--replay-data: stage {args.stage!r} replays task {replay!r}; give its training records")
    if replay:
        read_records(make_task(replay, config["tasks"][replay]), args.replay_data)
    set_threads(args)
    log = args.log or os.path.join(os.path.dirname(os.path.abspath(args.out)), "train_log.jsonl")
    run_stage(
        stage, stage["task"], task_spec, args.data, args.model, args.out, log, args.checkpoints,
        device=device_of(args, config), gpus=args.gpus, accelerate_config=args.accelerate_config,
        replay_task=config["tasks"][replay] if replay else None, replay_data=args.replay_data,
        resume_dir=args.resume_dir, fast_paths=config["fast_paths"],
    )  # fmt: skip
    emit({"stage": args.stage, "out": args.out, "train_log": log, "config": path})


EVAL_OPTIONS = ["max_new_tokens", "batch_size", "chat", "samples", "temperature", "loglik_format", "backend"]


def cmd_eval(args) -> None:
    from .evaluate.checkpoint import evaluate_checkpoint
    from .evaluate.config import EvaluateConfig
    from .io import write_json, write_jsonl

    config, path = command_config(args)
    task = command_task(args, config, path, args.task)
    values = settings(args, config, EvaluateConfig, "evaluate", EVAL_OPTIONS)
    records = command_records(args, task, args.n)
    set_threads(args)
    metrics, samples = evaluate_checkpoint(
        args.model, task, records, style=style_of(args, config), device=device_of(args, config), **values
    )
    write_jsonl(samples, args.out.removesuffix(".json") + ".samples.jsonl")
    write_json(metrics, args.out)
    emit(metrics)


KL_OPTIONS = ["n", "max_new_tokens", "seed"]


def cmd_kl(args) -> None:
    from .evaluate.checkpoint import checkpoint_kl
    from .evaluate.config import KLConfig
    from .io import write_json

    config, path = command_config(args)
    task = command_task(args, config, path, args.task)
    values = settings(args, config, KLConfig, "evaluate.kl", KL_OPTIONS)
    records = command_records(args, task, values.pop("n"))
    set_threads(args)
    metrics = checkpoint_kl(
        args.base, args.model, task, records, style=style_of(args, config), chat=chat_of(args, config),
        reverse=args.reverse, device=device_of(args, config), **values,
    )  # fmt: skip
    write_json(metrics, args.out)
    emit(metrics)


def cmd_analyse(args) -> None:
    from .analysis import analysis_rows, run_analysis
    from .analysis.config import AnalysisConfig
    from .analysis.registry import analysis_named
    from .io import read_jsonl, write_json

    config, path = command_config(args)
    name = args.analysis
    section = (config or {}).get("analysis", {}).get(name) or AnalysisConfig().to_dict()[name]
    analysis = analysis_named(name)
    given = {key: getattr(args, key) for key in analysis.flags if getattr(args, key) is not None}
    values = {**section, **given}
    task = rows = None
    if analysis.reads_items or args.task:
        if not args.task:
            raise ValueError(f"the {name} analysis reads a task's items: give --task")
        task = command_task(args, config, path, args.task)
        records = read_jsonl(args.samples) if args.samples else task.build("test")
        rows = analysis_rows(task, records, args.format, values.get("n", len(records)))
        if name == "concepts":
            values = {**values, "task": args.task, "n_answers": len(rows)}
    set_threads(args)
    chat, device = chat_of(args, config), device_of(args, config)
    result = run_analysis(name, args.reference, args.model, values, task, rows, args.format, chat, device)
    write_json({"analysis": name, "reference": args.reference, **result}, args.out)
    emit(result["summary"])


def cmd_restore(args) -> None:
    from .analysis.restore import restore_model

    span = args.layers
    if args.mode != "layers" and args.fraction is None:
        raise ValueError(f"--mode {args.mode} needs --fraction (the share of singular components restored)")
    if args.mode == "layers" and span is None and args.fraction is None:
        raise ValueError("--mode layers needs --layers A-B or --fraction (of the layers, from the first)")
    set_threads(args)
    restored = restore_model(
        args.reference, args.model, args.out, args.mode, args.fraction, span, args.tail, args.control == "random",
        args.seed,
    )  # fmt: skip
    emit({**restored, "out": args.out})


def cmd_schema(args) -> None:
    from .config import schema_yaml

    text = schema_yaml()
    if args.out:
        from .io import atomic_path

        with atomic_path(args.out) as tmp:
            tmp.write_text(text)
    else:
        sys.stdout.write(text)


def cmd_fit(args) -> None:
    import pandas as pd

    from .io import atomic_path
    from .report.fits import fit_predictors

    if not os.path.isfile(args.metrics):
        raise ValueError(f"--metrics: no such file: {args.metrics}")
    table = pd.read_csv(args.metrics)
    missing = [column for column in ("metric", "task", "value", "method") if column not in table]
    if missing:
        raise ValueError(f"--metrics: {args.metrics} is not a forgetlab metrics table (no column {missing[0]!r})")
    fits = fit_predictors(table)
    with atomic_path(args.out) as tmp:
        fits.to_csv(tmp, index=False)
    best = fits[fits["method"] == "all"].head(1)
    emit({"rows": len(fits), **({"best": best["predictor"].iloc[0], "r2_linear": best["r2_linear"].iloc[0]}
                                 if len(best) else {})})  # fmt: skip


# -- the parser --------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from .analysis.config import RESTORE_MODES, RestoreConfig
    from .analysis.registry import ANALYSES
    from .evaluate.config import BACKENDS, EvaluateConfig, KLConfig
    from .prompts import FORMATS
    from .tasks import SPLITS

    parser = argparse.ArgumentParser(prog="forgetlab", description=__doc__, formatter_class=HelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, run, outputs=("out",), models=()) -> argparse.ArgumentParser:
        """A command; ``outputs`` and ``models`` name its arguments checked before it runs (arguments.check_inputs)."""
        sub = commands.add_parser(name, help=help_text, description=help_text, formatter_class=HelpFormatter)
        sub.set_defaults(run=run, outputs=outputs, models=models)
        return sub

    data = command("data", "write a task split as JSONL", cmd_data)
    data.add_argument("--task", required=True, help="a task of the config, or a task kind")
    data.add_argument("--split", required=True, choices=SPLITS, help="which split")
    data.add_argument("--n", type=positive_int, help="how many records (default: the task's n_train / n_test)")
    data.add_argument("--seed", type=int, help="seed of the records drawn (default: the task's seed)")
    data.add_argument("--source", help="read the records from this JSONL/JSON file instead of generating them")
    data.add_argument("--format", choices=FORMATS, help="prompt format of the records (default: the task's)")
    data.add_argument("--out", required=True, help="JSONL file to write")
    config_option(data, "task options")

    score = command("score", "score completions: rows are task records plus 'completion'", cmd_score)
    score.add_argument("--task", required=True, help="a task of the config, or a task kind")
    score.add_argument("--input", required=True, help="JSONL rows: a task record plus its 'completion'")
    score.add_argument("--format", choices=FORMATS, help="prompt format the completions answer (default: the task's)")
    score.add_argument("--out", help="write per-row scores and the metrics here (JSON)")
    config_option(score, "task options")

    base = command("base", "materialise a config's model as an HF folder", cmd_base)
    base.add_argument("--model", required=True, help="a model label of the config")
    base.add_argument("--out", required=True, help="folder to write the model to")
    config_option(base, "the model")

    train = command("train", "train one stage of a config from a model folder", cmd_train,
                    outputs=("out", "log", "checkpoints", "resume_dir"), models=("model",))  # fmt: skip
    train.add_argument("--stage", required=True, help="a stage label of the config (a swept stage: one variant)")
    train.add_argument("--model", required=True, help="parent checkpoint (HF folder)")
    train.add_argument("--data", required=True, help="training records of the stage's task (JSONL)")
    train.add_argument("--replay-data", help="training records of the task the stage replays (replay.task)")
    train.add_argument("--resume-dir", help="folder for the trainer state saved every resume_minutes (or "
                       "resume_every steps); run again after a kill, the command resumes from it")  # fmt: skip
    train.add_argument("--out", required=True, help="folder to write the trained model to")
    train.add_argument("--log", help="step log (JSONL; default: train_log.jsonl beside --out)")
    train.add_argument("--checkpoints", help="folder for the stage's intermediate checkpoints (save_every)")
    train.add_argument("--gpus", type=positive_int, default=1, help="GPUs; more than 1 launches under accelerate")
    train.add_argument(
        "--accelerate-config", help="accelerate config of a multi-GPU launch, e.g. config/deepspeed/zero3.yaml"
    )
    device_option(train)
    common_options(train, "the stage and its task")

    evaluate = command("eval", "generation accuracy and reference log-likelihood of a model folder on a task",
                       cmd_eval, models=("model",))  # fmt: skip
    evaluate.add_argument("--model", required=True, help="checkpoint to evaluate (HF folder)")
    evaluate.add_argument("--task", required=True, help="a task of the config, or a task kind")
    evaluate.add_argument("--data", help="test records (JSONL; default: the task's test split)")
    evaluate.add_argument("--n", type=positive_int, help="evaluate the first n records (default: all)")
    evaluate.add_argument(
        "--format", choices=FORMATS, help="prompt format (default: the config's evaluate.format, else the task's)"
    )
    config_setting(evaluate, "--max-new-tokens", EvaluateConfig, "max_new_tokens", "evaluate", convert=int)
    config_setting(evaluate, "--batch-size", EvaluateConfig, "batch_size", "evaluate", convert=int)
    config_setting(evaluate, "--samples", EvaluateConfig, "samples", "evaluate", convert=int)
    config_setting(evaluate, "--temperature", EvaluateConfig, "temperature", "evaluate", convert=float)
    config_setting(evaluate, "--loglik-format", EvaluateConfig, "loglik_format", "evaluate", choices=FORMATS)
    config_setting(evaluate, "--backend", EvaluateConfig, "backend", "evaluate", choices=BACKENDS)
    config_setting(evaluate, "--chat", EvaluateConfig, "chat", "evaluate", action=argparse.BooleanOptionalAction)
    evaluate.add_argument("--out", required=True, help="metrics JSON; the samples go beside it (.samples.jsonl)")
    device_option(evaluate)
    common_options(evaluate)

    kl = command(
        "kl", "KL(base || model) on a task, over completions sampled from the base", cmd_kl, models=("base", "model")
    )
    kl.add_argument("--base", required=True, help="the base model (HF folder)")
    kl.add_argument("--model", required=True, help="the checkpoint (HF folder)")
    kl.add_argument("--task", required=True, help="a task of the config, or a task kind")
    kl.add_argument("--data", help="prompts (JSONL task records; default: the task's test split)")
    config_setting(kl, "--n", KLConfig, "n", "evaluate.kl", convert=int)
    config_setting(kl, "--max-new-tokens", KLConfig, "max_new_tokens", "evaluate.kl", convert=int)
    config_setting(kl, "--seed", KLConfig, "seed", "evaluate.kl", convert=int)
    kl.add_argument("--reverse", action="store_true", help="KL(model || base), sampling from the model")
    kl.add_argument(
        "--format", choices=FORMATS, help="prompt format (default: the config's evaluate.format, else the task's)"
    )
    config_setting(kl, "--chat", EvaluateConfig, "chat", "evaluate", action=argparse.BooleanOptionalAction)
    kl.add_argument("--out", required=True, help="metrics JSON")
    device_option(kl)
    common_options(kl)

    analyse = command("analyse", "how a checkpoint moved from a reference: weights, attention, concepts, probes, "
                      "outputs", cmd_analyse, models=("reference", "model"))  # fmt: skip
    analyse.add_argument("analysis", choices=ANALYSES, help="which analysis")
    analyse.add_argument("--reference", required=True, help="the reference model (HF folder), e.g. the base")
    analyse.add_argument("--model", required=True, help="the checkpoint (HF folder)")
    analyse.add_argument(
        "--task",
        help="task whose items the analysis reads (attention, drift, probe; concepts: its answers as concepts)",
    )
    analyse.add_argument("--samples", help="the checkpoint's evaluation samples of the task (eval/<task>.samples"
                         ".jsonl): its items and which it answered right (default: the task's test split)")  # fmt: skip
    analyse.add_argument("--format", choices=FORMATS, help="prompt format of the items (default: the task's)")
    analysis_flags(analyse)
    config_setting(analyse, "--chat", EvaluateConfig, "chat", "evaluate", action=argparse.BooleanOptionalAction)
    analyse.add_argument("--out", required=True, help="JSON of the summary and the rows")
    device_option(analyse)
    common_options(analyse, "task options and the analysis settings")

    restore = command("restore", "a checkpoint with part of a reference's weights put back, as a model folder",
                      cmd_restore, models=("reference", "model"))  # fmt: skip
    restore.add_argument("--reference", required=True, help="the model to take weights from (HF folder)")
    restore.add_argument("--model", required=True, help="the checkpoint to restore (HF folder)")
    restore.add_argument("--mode", required=True, choices=RESTORE_MODES, help="what is put back")
    restore.add_argument("--fraction", type=field_type(RestoreConfig, "fractions", "analysis.restore.fractions",
                         float, items=True), help=field_help(RestoreConfig, "fractions")[0])  # fmt: skip
    restore.add_argument("--layers", type=layer_span, help="layers mode: the layer range reset, first-last (e.g. 0-7)")
    class_option(restore, "--tail", RestoreConfig, "tail", "analysis.restore", float)
    restore.add_argument("--control", choices=["random"], help="as many components (or layers) chosen at random")
    class_option(restore, "--seed", RestoreConfig, "seed", "analysis.restore", int)
    restore.add_argument("--out", required=True, help="folder to write the restored model to")
    threads_option(restore)

    fit = command("fit", "rank the predictors of forgetting: linear/quadratic R² and Spearman per method", cmd_fit)
    fit.add_argument("--metrics", required=True, help="a metrics table (results/tables/metrics.csv)")
    fit.add_argument("--out", required=True, help="the predictors table (CSV)")

    schema = command("schema", "print the config's JSON schema (config/schema.yaml): every key, described", cmd_schema)
    schema.add_argument("--out", help="write it to this file instead of stdout")
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
