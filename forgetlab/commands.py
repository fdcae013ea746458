"""What each command of the command line (forgetlab.cli) does: read its inputs, call the library as the workflow
does, write its outputs, print its result."""

from __future__ import annotations

import os
import sys

from .arguments import (
    command_config,
    command_records,
    command_stage,
    command_task,
    device_of,
    emit,
    note,
    one_of,
    prompting_of,
    set_threads,
    settings,
    style_of,
)
from .options import did_you_mean

__all__ = [
    "EVAL_OPTIONS", "GENERATE_OPTIONS", "KL_OPTIONS", "PROFILE_OPTIONS", "REALIGN_OPTIONS", "analyse",
    "analysed_models", "base", "data", "evaluate", "fit", "generate", "kl", "memory", "realign", "restore", "schema",
    "score", "train",
]  # fmt: skip


def data(args) -> None:
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


def score(args) -> None:
    from .evaluate.generation import score_rows
    from .io import read_jsonl, write_json

    config, path = command_config(args)
    task = command_task(args, config, path, args.task)
    metrics, scored = score_rows(task.for_format(args.format or task.format), read_jsonl(args.input), source=args.input)
    if args.out:
        write_json({"metrics": metrics, "rows": scored}, args.out)
    emit(metrics)


def base(args) -> None:
    from .models import materialise

    config, path = command_config(args, required=True)
    models = config["models"]
    if args.model not in models:
        hint = did_you_mean(args.model, models)
        raise ValueError(f"model {args.model!r} is not defined in {path} (defined: {sorted(models)}){hint}")
    note(args, f"model {args.model!r} from {path}")
    materialise(models[args.model], args.out, fast_paths=config["fast_paths"])
    emit({"model": args.model, "out": args.out, "config": path})


def train(args) -> None:
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


REALIGN_OPTIONS = ["targets", "n", "candidates", "steps", "lr", "batch_size", "seed"]


def realign(args) -> None:
    import tempfile

    from .analysis.config import RealignConfig
    from .analysis.realign import demonstrations, realign_stage
    from .data import read_records
    from .io import write_jsonl
    from .train import run_stage

    config, path = command_config(args)
    task = command_task(args, config, path, args.task)
    options = RealignConfig.from_dict(
        settings(args, config, RealignConfig, "analysis.realign", REALIGN_OPTIONS), "analysis.realign"
    )
    records = read_records(task, args.data) if args.data else task.build("train")
    set_threads(args)
    style, prompting, device = style_of(args, config), prompting_of(args, config), device_of(args, config)
    examples = demonstrations(args.reference, task, records, options, style=style, **prompting, device=device)
    with tempfile.TemporaryDirectory() as folder:
        data = os.path.join(folder, "examples.jsonl")
        write_jsonl(examples, data)
        log = os.path.join(os.path.dirname(os.path.abspath(args.out)), "train_log.jsonl")
        stage = realign_stage(options, args.task, style, **prompting)
        run_stage(stage, args.task, task.to_dict(), data, args.model, args.out, log, device=device,
                  fast_paths=(config or {}).get("fast_paths", True))  # fmt: skip
    emit({"task": args.task, "examples": len(examples), "out": args.out, "train_log": log, "config": path})


EVAL_OPTIONS = ["max_new_tokens", "batch_size", "samples", "temperature", "loglik_format", "backend"]


def evaluate(args) -> None:
    from .evaluate.checkpoint import evaluate_checkpoint
    from .evaluate.config import EvaluateConfig
    from .io import write_json, write_jsonl

    config, path = command_config(args)
    task = command_task(args, config, path, args.task)
    values = settings(args, config, EvaluateConfig, "evaluate", EVAL_OPTIONS) | prompting_of(args, config)
    records = command_records(args, task, args.n)
    set_threads(args)
    metrics, samples = evaluate_checkpoint(
        args.model, task, records, style=style_of(args, config), device=device_of(args, config), **values
    )
    write_jsonl(samples, args.out.removesuffix(".json") + ".samples.jsonl")
    write_json(metrics, args.out)
    emit(metrics)


GENERATE_OPTIONS = ["max_new_tokens", "temperature"]


def generate(args) -> None:
    from .evaluate.config import EvaluateConfig
    from .evaluate.engines import HFEngine
    from .evaluate.generation import evaluate_records
    from .evaluate.generation import generate as complete
    from .models import load_model, load_tokenizer

    asked = one_of(args, "prompt task")
    if asked == "task" and args.item is None:
        raise ValueError("--task needs --item N: which item of its test split (or of --data), from 0")
    if asked == "prompt" and (args.item is not None or args.data):
        raise ValueError("--item and --data pick a task's item: give them with --task, not --prompt")
    config, path = command_config(args)
    values = settings(args, config, EvaluateConfig, "evaluate", GENERATE_OPTIONS)
    prompting = prompting_of(args, config)
    if asked == "task":
        task = command_task(args, config, path, args.task)
        records = command_records(args, task, None)
        if args.item >= len(records):
            raise ValueError(
                f"--item {args.item}: task {args.task!r} has {len(records)} items (0 to {len(records) - 1})"
            )
    set_threads(args)
    model, tokenizer = load_model(args.model, device_of(args, config)), load_tokenizer(args.model)
    if asked == "prompt":
        chat, system = prompting["chat"], prompting["system_prompt"]  # a message of its own: no one-shot example
        print(complete(model, tokenizer, [args.prompt], **values, chat=chat, system_prompt=system)[0])
        return
    # the evaluation's own call on this one item: its prompt format, chat template and system turn, and scoring
    _, (row,) = evaluate_records(
        HFEngine(model, tokenizer), tokenizer, task, [records[args.item]], style=style_of(args, config),
        **values, **prompting,
    )  # fmt: skip
    print(f"completion: {row['completion']}\nreference: {task.answer_text(records[args.item])}")
    print(f"correct: {row['correct']:g}, formatted: {row['formatted']:g}")


PROFILE_OPTIONS = ["stage", "batch", "seq_len", "generations", "completion_len", "dtype", "optimizer", "measure"]


def memory(args) -> None:
    from .memory_profile import ProfileOptions, estimate_memory, memory_notes, memory_table, shape_config
    from .models import resolve_device

    source = one_of(args, "model shape")
    config, path = command_config(args)
    options = ProfileOptions.from_dict({name: getattr(args, name) for name in PROFILE_OPTIONS}, "memory")
    model_config = shape_config(args.shape) if source == "shape" else _model_config(args, config, path)
    device = resolve_device(device_of(args, config))
    measure = options.measure if options.measure is not None else not (options.dtype == "bfloat16" and device == "cpu")
    set_threads(args)
    estimated = estimate_memory(model_config, options)
    measured = None
    if measure:
        from .memory_meter import measure_memory

        measured = measure_memory(model_config, options, device)
    print(f"{args.shape or args.model}\n{memory_table(estimated, measured)}")
    print("\n".join(memory_notes(model_config, options, estimated, device if measure else None)))


def _model_config(args, config: dict | None, path: str | None):
    """The transformers config of --model: a folder's config.json, or a model entry of the config."""
    from transformers import AutoConfig

    from .memory_profile import source_config

    if os.path.isdir(args.model):
        if not os.path.isfile(os.path.join(args.model, "config.json")):
            raise ValueError(f"--model {args.model}: not a Hugging Face model folder (no config.json)")
        return AutoConfig.from_pretrained(args.model)
    models = (config or {}).get("models", {})
    if args.model not in models:
        where = f"a model of {path} (defined: {sorted(models)})" if path else "a model of a config (none read)"
        raise ValueError(f"--model {args.model!r} is neither a folder nor {where}{did_you_mean(args.model, models)}")
    note(args, f"model {args.model!r} from {path}")
    return source_config(models[args.model])


KL_OPTIONS = ["n", "max_new_tokens", "seed", "source"]


def kl(args) -> None:
    from .evaluate.checkpoint import checkpoint_kl
    from .evaluate.config import KLConfig
    from .io import write_json

    config, path = command_config(args)
    task = command_task(args, config, path, args.task)
    values = settings(args, config, KLConfig, "evaluate.kl", KL_OPTIONS)
    records = command_records(args, task, values.pop("n"))
    set_threads(args)
    metrics = checkpoint_kl(
        args.base, args.model, task, records, style=style_of(args, config), **prompting_of(args, config),
        reverse=args.reverse, device=device_of(args, config), **values,
    )  # fmt: skip
    write_json(metrics, args.out)
    emit(metrics)


def analysed_models(args) -> tuple[str, ...]:
    """The arguments of `forgetlab analyse` that name model folders: none where it compares evaluation samples."""
    from .analysis.registry import analysis_named

    return () if analysis_named(args.analysis).reads_samples else ("reference", "model")


def analyse(args) -> None:
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
    prompting = prompting_of(args, config)
    oneshot_example = prompting.pop("oneshot_example")  # the rows carry their prompts: it renders them
    for flag, file in (("--reference", args.reference), ("--checkpoint", args.model)) if analysis.reads_samples else ():
        if not os.path.isfile(file):
            raise ValueError(f"{flag}: no such file: {file} (the {name} analysis compares eval/<task>.samples.jsonl)")
    if analysis.reads_items or (args.task and not analysis.reads_samples):
        if not args.task:
            raise ValueError(f"the {name} analysis reads a task's items: give --task")
        task = command_task(args, config, path, args.task)
        records = read_jsonl(args.samples) if args.samples else task.build("test")
        rows = analysis_rows(task, records, args.format, values.get("n", len(records)), oneshot_example)
        if name == "concepts":
            values = {**values, "task": args.task, "n_answers": len(rows)}
    set_threads(args)
    device = device_of(args, config)
    result = run_analysis(name, args.reference, args.model, values, task, rows, args.format, **prompting, device=device)
    write_json({"analysis": name, "reference": args.reference, **result}, args.out)
    emit(result["summary"])


def restore(args) -> None:
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


def schema(args) -> None:
    from .config import config_schema, schema_yaml
    from .options_page import options_markdown

    text = options_markdown(config_schema()) if args.markdown else schema_yaml()
    if args.out:
        from .io import atomic_path

        with atomic_path(args.out) as tmp:
            tmp.write_text(text)
    else:
        sys.stdout.write(text)


def fit(args) -> None:
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
