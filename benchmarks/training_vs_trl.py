"""Seconds per training step with forgetlab's fast paths (forgetlab.compat) and with TRL's stock paths, on the
embedded default's SFT and GRPO stages: same model, batch, seed and threads.

    python benchmarks/training_vs_trl.py [--steps 4] [--threads 1] [--config config/config.yaml] [--model DIR]

Not a test: it prints a table. Each stage is trained --steps steps from the base (SmolLM2-135M-Instruct from the
offline package, or --model) with fast_paths on and off; a step's time is the gap between two step-log events, the
first step (warm-up) left out of the median. The losses of both must agree within --tolerance (relative, every
step). GRPO's fast rollouts sample other tokens from the same distribution, so its losses are compared on a third
run, every fast path but the rollouts, which the table also times; the decode loop is tested against TRL's own
generation in the suite (tests/train/test_shared.py).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def train(stage: dict, task, records, model: Path, folder: Path, fast_paths: bool, rollouts: bool = True) -> dict:
    """Step seconds and losses of one run."""
    from forgetlab.io import read_jsonl
    from forgetlab.train import StageConfig, grpo, train_stage
    from forgetlab.train import stage as stage_module

    times = []

    class Timed(stage_module.JsonlLogCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            times.append(time.perf_counter())

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                times.append(time.perf_counter())
            super().on_log(args, state, control, logs, **kwargs)

    logged, rollout_function = stage_module.JsonlLogCallback, grpo.rollout_function
    stage_module.JsonlLogCallback = Timed
    if not rollouts:
        grpo.rollout_function = lambda args, trainer_class, on: None
    try:
        config = StageConfig.from_dict(stage, "stage")
        train_stage(config, task, records, model, folder / "model", folder / "log.jsonl", fast_paths=fast_paths)
    finally:
        stage_module.JsonlLogCallback, grpo.rollout_function = logged, rollout_function
    steps = [after - before for before, after in itertools.pairwise(times)]
    losses = [row["loss"] for row in read_jsonl(folder / "log.jsonl") if "loss" in row]
    return {"first": steps[0], "median": statistics.median(steps[1:] or steps), "losses": losses}


def agree(left: list[float], right: list[float], tolerance: float) -> bool:
    scale = max(max(map(abs, left + right)), 1e-12)
    return len(left) == len(right) and all(abs(a - b) <= tolerance * scale for a, b in zip(left, right))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(ROOT / "config" / "config.yaml"))
    parser.add_argument("--sft", default="sft-countdown", help="the config's SFT stage")
    parser.add_argument("--grpo", default="grpo-countdown", help="the config's GRPO stage")
    parser.add_argument("--model", help="a base model folder (default: the config's first model, materialised)")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (a 2-core default run trains on 1)")
    parser.add_argument("--tolerance", type=float, default=1e-3, help="relative to the largest loss of the pair")
    args = parser.parse_args()

    import torch

    from forgetlab.config import load_config
    from forgetlab.models import materialise
    from forgetlab.tasks import make_task

    torch.set_num_threads(args.threads)
    config = load_config(args.config)
    rows, failed = [], False
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        model = Path(args.model) if args.model else materialise(next(iter(config["models"].values())), work / "base")
        for name in (args.sft, args.grpo):
            stage = {**config["stages"][name], "steps": args.steps}
            task = make_task(stage["task"], config["tasks"][stage["task"]])
            records = task.build("train")
            runs = {"stock": train(stage, task, records, model, work / f"{name}-stock", False)}
            runs["fast"] = train(stage, task, records, model, work / f"{name}-fast", True)
            compared = "fast"
            if stage["method"] != "sft":
                runs["fast, TRL rollouts"] = train(stage, task, records, model, work / f"{name}-f", True, False)
                compared = "fast, TRL rollouts"
            same = agree(runs[compared]["losses"], runs["stock"]["losses"], args.tolerance)
            failed |= not same
            for label, run in runs.items():
                ratio = runs["stock"]["median"] / run["median"]
                losses = " ".join(f"{loss:.4g}" for loss in run["losses"])
                check = ("equal" if same else "DIFFER") if label in ("stock", compared) else "other samples"
                rows.append((name, label, run["first"], run["median"], ratio, losses, check))
    print(f"\n{args.steps} steps, {args.threads} thread(s), losses compared within {args.tolerance:g} (relative)\n")
    print("| stage | paths | first step (s) | median step (s) | speed-up | losses | losses vs stock |")
    print("|---|---|---|---|---|---|---|")
    for name, label, first, median, ratio, losses, check in rows:
        print(f"| {name} | {label} | {first:.2f} | {median:.2f} | {ratio:.2f}x | {losses} | {check} |")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
