"""Scoring throughput per task (completions/s), with a share of hostile completions mixed in.

    python benchmarks/scoring_throughput.py [--n 20000]

Not a test: it prints a table. Hostile inputs (huge powers, deep nesting, 100 kB strings, code) must not
push countdown below 10k completions/s.
"""

from __future__ import annotations

import argparse
import random
import time

from forgetlab.tasks import make_task
from forgetlab.tasks.gsm8k import GSM8KTask
from forgetlab.tasks.mmlu import MMLUTask

HOSTILE = [
    "<answer>9**9**9**9</answer>",
    "<answer>" + "(" * 5000 + "1" + ")" * 5000 + "</answer>",
    "<answer>__import__('os').system('echo pwned')</answer>",
    "<answer>" + "1" * 100_000 + "</answer>",
    "<answer>" * 10_000,
    "x" * 100_000,
    "<answer>" + "1 + " * 20_000 + "1</answer>",
    "<" * 100_000,
    "<" * 50_000 + "<answer>1</answer>",
]


def _records(name: str, spec: dict) -> tuple:
    task = make_task(name, spec)
    if isinstance(task, GSM8KTask):
        rows = [{"question": f"q{i}", "answer": str(i * 7), "solution": f"{i} * 7 = {i * 7}."} for i in range(200)]
        return task, rows
    if isinstance(task, MMLUTask):
        return task, [
            {"question": "q", "choices": list("wxyz"), "answer": "ABCD"[i % 4], "subject": "s"} for i in range(200)
        ]
    return task, task.build("test", 200, seed=0)


def _completions(task, records, rng, hostile_share):
    out = []
    for record in records:
        roll = rng.random()
        if roll < hostile_share:
            out.append((record, rng.choice(HOSTILE)))
        elif roll < 0.5:
            out.append((record, task.reference(record, rng.choice(["answer", "think", "natural"]))))
        else:
            out.append(
                (record, f"I think the answer is {rng.randint(0, 99)}. <answer>{rng.randint(0, 99)} + 1</answer>")
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()
    cases = [
        ("countdown", {"kind": "countdown"}, 0.05),
        ("countdown (hostile only)", {"kind": "countdown"}, 1.0),
        ("countdown-4 /", {"kind": "countdown", "numbers": 4, "operators": "+-*/"}, 0.05),
        ("generalpoints", {"kind": "generalpoints"}, 0.05),
        ("generalpoints-ood", {"kind": "generalpoints", "ood": True}, 0.05),
        ("arithmetic", {"kind": "arithmetic"}, 0.05),
        ("gsm8k", {"kind": "gsm8k"}, 0.05),
        ("mmlu", {"kind": "mmlu"}, 0.05),
    ]
    print("| task | completions | hostile share | seconds | completions/s |\n|---|---|---|---|---|")
    for label, spec, hostile in cases:
        task, records = _records(spec["kind"], spec)
        rng = random.Random(0)
        pool = _completions(task, records, rng, hostile)
        batch = [pool[i % len(pool)] for i in range(args.n)]
        start = time.perf_counter()
        for record, completion in batch:
            task.score(record, completion)
        seconds = time.perf_counter() - start
        print(f"| {label} | {args.n} | {hostile:.2f} | {seconds:.2f} | {args.n / seconds:,.0f} |")


if __name__ == "__main__":
    main()
