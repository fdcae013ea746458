"""``forgetlab`` / ``python -m forgetlab``: single stages by hand, calling the same functions as the workflow."""

from __future__ import annotations

import argparse
import json
import os
import sys

__all__ = ["main"]

from .config import BACKENDS
from .prompts import FORMATS

DEFAULT_CONFIG = "config/config.yaml"


def _task_spec(name: str, config_path: str | None) -> dict:
    """The task's entry in the config when it has one, else the task kind of the same name with defaults."""
    path = config_path or (DEFAULT_CONFIG if os.path.exists(DEFAULT_CONFIG) else None)
    if path:
        import yaml

        with open(path) as handle:
            tasks = (yaml.safe_load(handle) or {}).get("tasks", {})
        if name in tasks:
            return tasks[name]
        if config_path:
            raise SystemExit(f"forgetlab: task {name!r} is not defined in {config_path} (defined: {sorted(tasks)})")
    return {"kind": name}


def _emit(result: dict) -> None:
    print(json.dumps(result))


def cmd_data(args) -> None:
    from .data import build_split, load_source_records
    from .io import write_jsonl

    spec = _task_spec(args.task, args.config)
    if args.format:
        spec = {**spec, "format": args.format}
    if args.source:
        records = load_source_records(args.task, spec, args.source, args.split, args.n, args.seed)
    else:
        records = build_split(args.task, spec, args.split, args.n, args.seed)
    write_jsonl(records, args.out)
    _emit({"task": args.task, "split": args.split, "n": len(records), "out": args.out})


def cmd_score(args) -> None:
    from .evaluate.generation import score_rows
    from .io import read_jsonl, write_json
    from .tasks import make_task

    task = make_task(args.task, _task_spec(args.task, args.config))
    task = task.for_format(args.format or task.format)
    rows = read_jsonl(args.input)
    metrics, scored = score_rows(task, rows, source=args.input)
    if args.out:
        write_json({"metrics": metrics, "rows": scored}, args.out)
    _emit(metrics)


def _test_records(args, spec: dict) -> list[dict]:
    """``--data`` records, or the task's generated test split; the first ``--n`` of them."""
    from .data import build_split
    from .io import read_jsonl

    records = read_jsonl(args.data) if args.data else build_split(args.task, spec, "test", args.n)
    return records[: args.n]


def cmd_eval(args) -> None:
    import torch

    from .evaluate import evaluate_records, open_engine
    from .io import write_json, write_jsonl
    from .models import load_tokenizer
    from .tasks import make_task

    torch.set_num_threads(args.threads)
    spec = _task_spec(args.task, args.config)
    tokenizer = load_tokenizer(args.model)
    metrics, samples = evaluate_records(
        open_engine(args.backend, args.model, tokenizer, args.batch_size), tokenizer, make_task(args.task, spec),
        _test_records(args, spec), max_new_tokens=args.max_new_tokens, style=args.format, chat=not args.plain,
    )  # fmt: skip
    write_jsonl(samples, args.out.removesuffix(".json") + ".samples.jsonl")
    write_json(metrics, args.out)
    _emit(metrics)


def cmd_kl(args) -> None:
    import torch

    from .evaluate import policy_kl
    from .io import write_json
    from .models import load_model, load_tokenizer
    from .tasks import make_task

    torch.set_num_threads(args.threads)
    spec = _task_spec(args.task, args.config)
    base, model = load_model(args.base), load_model(args.model)
    sampler, other = (model, base) if args.reverse else (base, model)
    metrics = policy_kl(
        sampler, other, load_tokenizer(args.base), make_task(args.task, spec), _test_records(args, spec),
        max_new_tokens=args.max_new_tokens, seed=args.seed, style=args.format, chat=not args.plain,
    )  # fmt: skip
    metrics["direction"] = "reverse" if args.reverse else "forward"
    write_json(metrics, args.out)
    _emit(metrics)


def cmd_train(args) -> None:
    import torch
    import yaml

    from .io import read_jsonl
    from .tasks import make_task
    from .train import StageConfig, train_stage

    torch.set_num_threads(args.threads)
    with open(args.config) as handle:
        config = yaml.safe_load(handle)
    if args.stage not in config.get("stages", {}):
        raise SystemExit(f"forgetlab: stage {args.stage!r} is not defined in {args.config}")
    stage = StageConfig.from_dict(config["stages"][args.stage])
    task = make_task(stage.task, config["tasks"][stage.task])
    log = args.log or os.path.join(os.path.dirname(os.path.abspath(args.out)), "train_log.jsonl")
    train_stage(stage, task, read_jsonl(args.data), args.model, args.out, log, args.checkpoints)
    _emit({"stage": args.stage, "out": args.out, "train_log": log})


def cmd_base(args) -> None:
    import yaml

    from .models import materialise

    with open(args.config) as handle:
        models = yaml.safe_load(handle).get("models", {})
    if args.model not in models:
        raise SystemExit(f"forgetlab: model {args.model!r} is not defined in {args.config} (defined: {sorted(models)})")
    materialise(models[args.model], args.out)
    _emit({"model": args.model, "out": args.out})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="forgetlab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="write a task split as JSONL")
    data.add_argument("--task", required=True)
    data.add_argument("--split", required=True, choices=["train", "test"])
    data.add_argument("--n", type=int)
    data.add_argument("--seed", type=int)
    data.add_argument("--source", help="read records from this JSONL/JSON file instead of generating them")
    data.add_argument("--out", required=True)
    data.set_defaults(run=cmd_data)

    score = commands.add_parser("score", help="score completions: rows are task records plus 'completion'")
    score.add_argument("--task", required=True)
    score.add_argument("--input", required=True)
    score.add_argument("--out", help="write per-row scores and the metrics here (JSON)")
    score.set_defaults(run=cmd_score)

    evaluate = commands.add_parser("eval", help="greedy generation accuracy of a model folder on a task")
    evaluate.add_argument("--model", required=True)
    evaluate.add_argument("--task", required=True)
    evaluate.add_argument("--data", help="test records (JSONL); generated from the task when absent")
    evaluate.add_argument("--n", type=int)
    evaluate.add_argument("--max-new-tokens", type=int, default=64)
    evaluate.add_argument("--batch-size", type=int, default=16)
    evaluate.add_argument("--backend", choices=BACKENDS, default="auto", help="auto: vLLM when installed and a GPU is present")
    evaluate.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    evaluate.add_argument("--plain", action="store_true", help="plain completion prompt instead of the chat template")
    evaluate.add_argument("--out", required=True)
    evaluate.set_defaults(run=cmd_eval)

    kl = commands.add_parser("kl", help="KL(base || model) on a task, over completions sampled from the base")
    kl.add_argument("--base", required=True)
    kl.add_argument("--model", required=True)
    kl.add_argument("--task", required=True)
    kl.add_argument("--data", help="prompts (JSONL task records); generated from the task when absent")
    kl.add_argument("--n", type=int, default=32)
    kl.add_argument("--max-new-tokens", type=int, default=64)
    kl.add_argument("--seed", type=int, default=0)
    kl.add_argument("--reverse", action="store_true", help="KL(model || base), sampling from the model")
    kl.add_argument("--plain", action="store_true", help="plain completion prompt instead of the chat template")
    kl.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    kl.add_argument("--out", required=True)
    kl.set_defaults(run=cmd_kl)

    train = commands.add_parser("train", help="train one stage of a config from a model folder")
    train.add_argument("--config", required=True)
    train.add_argument("--stage", required=True)
    train.add_argument("--model", required=True, help="parent checkpoint (HF folder)")
    train.add_argument("--data", required=True, help="training records (JSONL)")
    train.add_argument("--out", required=True)
    train.add_argument("--log", help="step log (JSONL); default: train_log.jsonl beside --out")
    train.add_argument("--checkpoints", help="folder for the stage's intermediate checkpoints (save_every)")
    train.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    train.set_defaults(run=cmd_train)

    base = commands.add_parser("base", help="materialise a config's model as an HF folder")
    base.add_argument("--config", required=True)
    base.add_argument("--model", required=True)
    base.add_argument("--out", required=True)
    base.set_defaults(run=cmd_base)

    for sub in (data, score, evaluate, kl):
        sub.add_argument("--config", help=f"take task options from this config (default: {DEFAULT_CONFIG} if present)")
        sub.add_argument("--format", choices=FORMATS, help="prompt format (default: the task's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, FileNotFoundError, KeyError) as error:
        print(f"forgetlab {args.command}: {error}", file=sys.stderr)
        return 2
    return 0
