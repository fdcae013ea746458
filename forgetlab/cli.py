"""forgetlab (or python -m forgetlab): single stages by hand, calling the same functions as the workflow.

Task, stage, model and evaluation settings come from a workflow config (--config, else config/config.yaml in the
current folder when there is one), checked as the workflow checks it; each command says on stderr which config
it read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .options import ConfigError, did_you_mean

__all__ = ["build_parser", "main"]

DEFAULT_CONFIG = "config/config.yaml"


# -- argument types and help ------------------------------------------------------------------------------
def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {value}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, not {value}")
    return value


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Every optional argument's help ends with its default."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "%(default)" in text or "default:" in text or action.required or action.default is argparse.SUPPRESS:
            return text
        if action.option_strings and action.nargs != 0:
            return f"{text} (default: %(default)s)"
        return text


def _field(cls, name: str) -> tuple[str, object]:
    """(help, default) of a config class's option: the one source of both."""
    from .options import field_default

    field = cls.option_fields()[name]
    return field.metadata["help"], field_default(field)


def _setting(parser, flag: str, cls, name: str, section: str, **kwargs) -> None:
    """An option whose help and default come from the config class; a config in use supplies its own value."""
    help_text, default = _field(cls, name)
    help_text += f" (default: the config's {section}.{name}; {default!r} without one)"
    parser.add_argument(flag, dest=name, default=None, help=help_text, **kwargs)


def _analysis_flags(parser) -> None:
    """Each registered analysis' command-line options (``Analysis.flags``), typed, helped and defaulted by its
    option class; an option several analyses take is one flag."""
    import typing

    from .analysis.registry import ANALYSES

    owners: dict[str, list] = {}
    for analysis in ANALYSES.values():
        for name in analysis.flags:
            owners.setdefault(name, []).append(analysis)
    for name, analyses in owners.items():
        help_text = _field(analyses[0].options, name)[0]
        defaults = ", ".join(f"{a.name} {_field(a.options, name)[1]!r}" for a in analyses)
        hint = typing.get_type_hints(analyses[0].options)[name]
        kind = {"type": hint} if hint in (int, float) else {"nargs": "+"} if typing.get_origin(hint) is list else {}
        help_text += f" ({'/'.join(a.name for a in analyses)}; default: the config's analysis.<analysis>.{name}; "
        help_text += f"without one {defaults})"
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help=help_text, **kind)


def _settings(args, config: dict | None, cls, section: str, names: list[str]) -> dict:
    """The value of each option: the command line's, else the config's ``section``, else the class default."""
    values = {}
    for name in names:
        given = getattr(args, name)
        if given is not None:
            values[name] = given
        elif config is not None:
            node = config
            for key in section.split("."):
                node = node[key]
            values[name] = node[name]
        else:
            values[name] = _field(cls, name)[1]
    return values


# -- configs, tasks, inputs --------------------------------------------------------------------------------
def _note(args, text: str) -> None:
    print(f"forgetlab {args.command}: {text}", file=sys.stderr)


def _config(args, required: bool = False) -> tuple[dict | None, str | None]:
    """(resolved config, its path) from --config or config/config.yaml here; (None, None) when there is none."""
    from .config import load_config

    path = args.config or (DEFAULT_CONFIG if os.path.exists(DEFAULT_CONFIG) else None)
    if path is None:
        if required:
            raise ValueError(f"no config: give --config FILE (there is no {DEFAULT_CONFIG} in {os.getcwd()})")
        return None, None
    return load_config(path), path


def _task(args, config: dict | None, path: str | None, name: str):
    """The task called ``name``: the config's entry when it has one, else the task kind of that name with its
    defaults. Says on stderr which it took."""
    from .tasks import TASK_KINDS, make_task

    tasks = (config or {}).get("tasks", {})
    if name in tasks:
        _note(args, f"task {name!r} from {path}")
        return make_task(name, tasks[name])
    if args.config:
        raise ValueError(
            f"task {name!r} is not defined in {args.config} (defined: {sorted(tasks)}){did_you_mean(name, tasks)}"
        )
    if name not in TASK_KINDS:
        known = sorted({*tasks, *TASK_KINDS})
        raise ValueError(
            f"task {name!r} is neither defined in a config nor a task kind (known: {known}){did_you_mean(name, known)}"
        )
    where = f"not defined in {path}" if path else f"no config (no --config, no {DEFAULT_CONFIG} in {os.getcwd()})"
    _note(args, f"task {name!r}: {where}; the {name} kind with its defaults")
    return make_task(name, {"kind": name})


def _records(args, task, n: int | None) -> list[dict]:
    """``--data`` records (checked for the fields the task needs), or the task's test split; the first ``n``."""
    from .data import read_records

    records = read_records(task, args.data) if args.data else task.build("test", n)
    return records[:n] if n is not None else records


def _check_model(path: str, flag: str) -> None:
    from .models import check_model_dir

    check_model_dir(path, flag)


def _check_out(path: str | None, flag: str = "--out") -> None:
    from .io import check_writable

    if path is not None:
        check_writable(path, flag)


def _threads(args) -> None:
    import torch

    torch.set_num_threads(args.threads)


def _emit(result: dict) -> None:
    print(json.dumps(result))


# -- commands ----------------------------------------------------------------------------------------------
def cmd_data(args) -> None:
    import dataclasses

    from .data import load_source_records
    from .io import write_jsonl

    _check_out(args.out)
    config, path = _config(args)
    task = _task(args, config, path, args.task)
    if args.format:
        task = dataclasses.replace(task, format=args.format)
    if args.source:
        records = load_source_records(task, args.source, args.split, args.n, args.seed)
    else:
        records = task.build(args.split, args.n, args.seed)
    write_jsonl(records, args.out)
    _emit({"task": args.task, "split": args.split, "n": len(records), "out": args.out, "config": path})


def cmd_score(args) -> None:
    from .evaluate.generation import score_rows
    from .io import read_jsonl, write_json

    _check_out(args.out)
    config, path = _config(args)
    task = _task(args, config, path, args.task)
    metrics, scored = score_rows(task.for_format(args.format or task.format), read_jsonl(args.input), source=args.input)
    if args.out:
        write_json({"metrics": metrics, "rows": scored}, args.out)
    _emit(metrics)


def cmd_base(args) -> None:
    from .models import materialise

    _check_out(args.out)
    config, path = _config(args, required=True)
    models = config["models"]
    if args.model not in models:
        hint = did_you_mean(args.model, models)
        raise ValueError(f"model {args.model!r} is not defined in {path} (defined: {sorted(models)}){hint}")
    _note(args, f"model {args.model!r} from {path}")
    materialise(models[args.model], args.out, fast_paths=config["fast_paths"])
    _emit({"model": args.model, "out": args.out, "config": path})


def _stage(config: dict, path: str, name: str) -> dict:
    stages = config["stages"]
    if name in stages:
        return stages[name]
    variants = sorted(label for label in stages if label.startswith(f"{name}-"))
    if variants:
        raise ValueError(f"stage {name!r} is swept in {path}: name one of its variants: {variants}")
    raise ValueError(f"stage {name!r} is not defined in {path} (defined: {sorted(stages)}){did_you_mean(name, stages)}")


def cmd_train(args) -> None:
    from .data import read_records
    from .tasks import make_task
    from .train import run_stage

    _check_model(args.model, "--model")
    for flag, value in (("--out", args.out), ("--log", args.log), ("--checkpoints", args.checkpoints)):
        _check_out(value, flag)
    config, path = _config(args, required=True)
    stage = _stage(config, path, args.stage)
    _note(args, f"stage {args.stage!r} and task {stage['task']!r} from {path}")
    task_spec = config["tasks"][stage["task"]]
    read_records(make_task(stage["task"], task_spec), args.data)  # every record checked before training starts
    replay = (stage.get("replay") or {}).get("task")
    if replay and not args.replay_data:
        raise ValueError(f"--replay-data: stage {args.stage!r} replays task {replay!r}; give its training records")
    if replay:
        read_records(make_task(replay, config["tasks"][replay]), args.replay_data)
    _threads(args)
    log = args.log or os.path.join(os.path.dirname(os.path.abspath(args.out)), "train_log.jsonl")
    run_stage(
        stage, stage["task"], task_spec, args.data, args.model, args.out, log, args.checkpoints,
        device=args.device or config["device"], gpus=args.gpus, accelerate_config=args.accelerate_config,
        replay_task=config["tasks"][replay] if replay else None, replay_data=args.replay_data,
        resume_dir=args.resume_dir, fast_paths=config["fast_paths"],
    )  # fmt: skip
    _emit({"stage": args.stage, "out": args.out, "train_log": log, "config": path})


EVAL_OPTIONS = ["max_new_tokens", "batch_size", "chat", "samples", "temperature", "loglik_format", "backend"]


def cmd_eval(args) -> None:
    from .evaluate.checkpoint import evaluate_checkpoint
    from .evaluate.config import EvaluateConfig
    from .io import write_json, write_jsonl

    _check_model(args.model, "--model")
    _check_out(args.out)
    config, path = _config(args)
    task = _task(args, config, path, args.task)
    settings = _settings(args, config, EvaluateConfig, "evaluate", EVAL_OPTIONS)
    style = args.format or (config["evaluate"]["format"] if config else None)
    records = _records(args, task, args.n)
    _threads(args)
    metrics, samples = evaluate_checkpoint(
        args.model, task, records, style=style, device=args.device or (config or {}).get("device", "auto"), **settings
    )
    write_jsonl(samples, args.out.removesuffix(".json") + ".samples.jsonl")
    write_json(metrics, args.out)
    _emit(metrics)


KL_OPTIONS = ["n", "max_new_tokens", "seed"]


def cmd_kl(args) -> None:
    from .evaluate.checkpoint import checkpoint_kl
    from .evaluate.config import KLConfig
    from .io import write_json

    _check_model(args.base, "--base")
    _check_model(args.model, "--model")
    _check_out(args.out)
    config, path = _config(args)
    task = _task(args, config, path, args.task)
    settings = _settings(args, config, KLConfig, "evaluate.kl", KL_OPTIONS)
    chat = args.chat if args.chat is not None else (config["evaluate"]["chat"] if config else True)
    style = args.format or (config["evaluate"]["format"] if config else None)
    records = _records(args, task, settings.pop("n"))
    _threads(args)
    metrics = checkpoint_kl(
        args.base, args.model, task, records, style=style, chat=chat, reverse=args.reverse,
        device=args.device or (config or {}).get("device", "auto"), **settings,
    )  # fmt: skip
    write_json(metrics, args.out)
    _emit(metrics)


def cmd_analyse(args) -> None:
    from .analysis import analysis_rows, run_analysis
    from .analysis.config import AnalysisConfig
    from .analysis.registry import analysis_named
    from .io import read_jsonl, write_json

    _check_model(args.reference, "--reference")
    _check_model(args.model, "--model")
    _check_out(args.out)
    config, path = _config(args)
    name = args.analysis
    section = (config or {}).get("analysis", {}).get(name) or AnalysisConfig().to_dict()[name]
    analysis = analysis_named(name)
    given = {key: getattr(args, key) for key in analysis.flags if getattr(args, key) is not None}
    settings = {**section, **given}
    task = rows = None
    if analysis.reads_items or args.task:
        if not args.task:
            raise ValueError(f"the {name} analysis reads a task's items: give --task")
        task = _task(args, config, path, args.task)
        records = read_jsonl(args.samples) if args.samples else task.build("test")
        rows = analysis_rows(task, records, args.format, settings.get("n", len(records)))
        if name == "concepts":
            settings = {**settings, "task": args.task, "n_answers": len(rows)}
    _threads(args)
    chat = args.chat if args.chat is not None else (config["evaluate"]["chat"] if config else True)
    device = args.device or (config or {}).get("device", "auto")
    result = run_analysis(name, args.reference, args.model, settings, task, rows, args.format, chat, device)
    write_json({"analysis": name, "reference": args.reference, **result}, args.out)
    _emit(result["summary"])


def cmd_restore(args) -> None:
    from .analysis.restore import restore_model

    _check_model(args.reference, "--reference")
    _check_model(args.model, "--model")
    _check_out(args.out)
    span = None
    if args.layers:
        first, _, last = args.layers.partition("-")
        if not (first.isdigit() and last.isdigit()):
            raise ValueError(f"--layers {args.layers!r}: expected a range first-last, e.g. 0-7")
        span = (int(first), int(last))
    if args.mode != "layers" and args.fraction is None:
        raise ValueError(f"--mode {args.mode} needs --fraction (the share of singular components restored)")
    if args.mode == "layers" and span is None and args.fraction is None:
        raise ValueError("--mode layers needs --layers A-B or --fraction (of the layers, from the first)")
    _threads(args)
    restored = restore_model(
        args.reference, args.model, args.out, args.mode, args.fraction, span, args.tail, args.control == "random",
        args.seed,
    )  # fmt: skip
    _emit({**restored, "out": args.out})


def cmd_schema(args) -> None:
    from .config import schema_yaml

    text = schema_yaml()
    if args.out:
        _check_out(args.out)
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
    _check_out(args.out)
    table = pd.read_csv(args.metrics)
    missing = [column for column in ("metric", "task", "value", "method") if column not in table]
    if missing:
        raise ValueError(f"--metrics: {args.metrics} is not a forgetlab metrics table (no column {missing[0]!r})")
    fits = fit_predictors(table)
    with atomic_path(args.out) as tmp:
        fits.to_csv(tmp, index=False)
    best = fits[fits["method"] == "all"].head(1)
    _emit({"rows": len(fits), **({"best": best["predictor"].iloc[0], "r2_linear": best["r2_linear"].iloc[0]}
                                 if len(best) else {})})  # fmt: skip


# -- the parser --------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from .analysis.config import RESTORE_MODES
    from .analysis.registry import ANALYSES
    from .evaluate.config import BACKENDS, EvaluateConfig, KLConfig
    from .models import DEVICES
    from .prompts import FORMATS
    from .tasks import SPLITS

    parser = argparse.ArgumentParser(prog="forgetlab", description=__doc__, formatter_class=_Formatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, run) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, formatter_class=_Formatter)
        sub.set_defaults(run=run)
        return sub

    def config_option(sub, what: str) -> None:
        sub.add_argument("--config", help=f"workflow config to take {what} from (default: {DEFAULT_CONFIG} in the "
                         "current folder, when there is one)")  # fmt: skip

    def common(sub, what: str = "task options") -> None:
        config_option(sub, what)
        sub.add_argument("--threads", type=positive_int, default=os.cpu_count() or 1, help="CPU threads of torch")

    def device_option(sub) -> None:
        sub.add_argument("--device", choices=DEVICES, help="where models load (default: the config's device; auto "
                         "without one: CUDA when a GPU is visible)")  # fmt: skip

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

    train = command("train", "train one stage of a config from a model folder", cmd_train)
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
    train.add_argument("--accelerate-config", help="accelerate config of a multi-GPU launch, e.g. "
                       "config/deepspeed/zero3.yaml")  # fmt: skip
    device_option(train)
    common(train, "the stage and its task")

    evaluate = command("eval", "generation accuracy and reference log-likelihood of a model folder on a task", cmd_eval)
    evaluate.add_argument("--model", required=True, help="checkpoint to evaluate (HF folder)")
    evaluate.add_argument("--task", required=True, help="a task of the config, or a task kind")
    evaluate.add_argument("--data", help="test records (JSONL; default: the task's test split)")
    evaluate.add_argument("--n", type=positive_int, help="evaluate the first n records (default: all)")
    evaluate.add_argument("--format", choices=FORMATS, help="prompt format (default: the config's evaluate.format, "
                          "else the task's)")  # fmt: skip
    _setting(evaluate, "--max-new-tokens", EvaluateConfig, "max_new_tokens", "evaluate", type=positive_int)
    _setting(evaluate, "--batch-size", EvaluateConfig, "batch_size", "evaluate", type=positive_int)
    _setting(evaluate, "--samples", EvaluateConfig, "samples", "evaluate", type=positive_int)
    _setting(evaluate, "--temperature", EvaluateConfig, "temperature", "evaluate", type=non_negative_float)
    _setting(evaluate, "--loglik-format", EvaluateConfig, "loglik_format", "evaluate", choices=FORMATS)
    _setting(evaluate, "--backend", EvaluateConfig, "backend", "evaluate", choices=BACKENDS)
    _setting(evaluate, "--chat", EvaluateConfig, "chat", "evaluate", action=argparse.BooleanOptionalAction)
    evaluate.add_argument("--out", required=True, help="metrics JSON; the samples go beside it (.samples.jsonl)")
    device_option(evaluate)
    common(evaluate)

    kl = command("kl", "KL(base || model) on a task, over completions sampled from the base", cmd_kl)
    kl.add_argument("--base", required=True, help="the base model (HF folder)")
    kl.add_argument("--model", required=True, help="the checkpoint (HF folder)")
    kl.add_argument("--task", required=True, help="a task of the config, or a task kind")
    kl.add_argument("--data", help="prompts (JSONL task records; default: the task's test split)")
    _setting(kl, "--n", KLConfig, "n", "evaluate.kl", type=positive_int)
    _setting(kl, "--max-new-tokens", KLConfig, "max_new_tokens", "evaluate.kl", type=positive_int)
    _setting(kl, "--seed", KLConfig, "seed", "evaluate.kl", type=int)
    kl.add_argument("--reverse", action="store_true", help="KL(model || base), sampling from the model")
    kl.add_argument("--format", choices=FORMATS, help="prompt format (default: the config's evaluate.format, else "
                    "the task's)")  # fmt: skip
    _setting(kl, "--chat", EvaluateConfig, "chat", "evaluate", action=argparse.BooleanOptionalAction)
    kl.add_argument("--out", required=True, help="metrics JSON")
    device_option(kl)
    common(kl)

    analyse = command("analyse", "how a checkpoint moved from a reference: weights, attention, concepts, probes, "
                      "outputs", cmd_analyse)  # fmt: skip
    analyse.add_argument("analysis", choices=ANALYSES, help="which analysis")
    analyse.add_argument("--reference", required=True, help="the reference model (HF folder), e.g. the base")
    analyse.add_argument("--model", required=True, help="the checkpoint (HF folder)")
    analyse.add_argument("--task", help="task whose items the analysis reads (attention, drift, probe; concepts: "
                         "its answers as concepts)")  # fmt: skip
    analyse.add_argument("--samples", help="the checkpoint's evaluation samples of the task (eval/<task>.samples"
                         ".jsonl): its items and which it answered right (default: the task's test split)")  # fmt: skip
    analyse.add_argument("--format", choices=FORMATS, help="prompt format of the items (default: the task's)")
    _analysis_flags(analyse)
    _setting(analyse, "--chat", EvaluateConfig, "chat", "evaluate", action=argparse.BooleanOptionalAction)
    analyse.add_argument("--out", required=True, help="JSON of the summary and the rows")
    device_option(analyse)
    common(analyse, "task options and the analysis settings")

    restore = command("restore", "a checkpoint with part of a reference's weights put back, as a model folder",
                      cmd_restore)  # fmt: skip
    restore.add_argument("--reference", required=True, help="the model to take weights from (HF folder)")
    restore.add_argument("--model", required=True, help="the checkpoint to restore (HF folder)")
    restore.add_argument("--mode", required=True, choices=RESTORE_MODES, help="what is put back")
    restore.add_argument("--fraction", type=float, help="share of the singular components restored, largest first "
                         "(layers mode: of the layers, first first)")  # fmt: skip
    restore.add_argument("--layers", help="layers mode: the layer range reset, first-last (e.g. 0-7)")
    restore.add_argument("--tail", type=float, default=0.0, help="components mode: also this bottom share")
    restore.add_argument("--control", choices=["random"], help="as many components (or layers) chosen at random")
    restore.add_argument("--seed", type=int, default=0, help="seed of the random control")
    restore.add_argument("--out", required=True, help="folder to write the restored model to")
    restore.add_argument("--threads", type=positive_int, default=os.cpu_count() or 1, help="CPU threads of torch")

    fit = command("fit", "rank the predictors of forgetting: linear/quadratic R² and Spearman per method", cmd_fit)
    fit.add_argument("--metrics", required=True, help="a metrics table (results/tables/metrics.csv)")
    fit.add_argument("--out", required=True, help="the predictors table (CSV)")

    schema = command("schema", "print the config's JSON schema (config/schema.yaml): every key, described", cmd_schema)
    schema.add_argument("--out", help="write it to this file instead of stdout")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ConfigError, ValueError, OSError) as error:
        message = (
            str(error)
            if not isinstance(error, OSError) or not error.filename
            else f"{error.filename}: {error.strerror}"
        )
        print(f"forgetlab {args.command}: {message}", file=sys.stderr)
        return 2
    return 0
