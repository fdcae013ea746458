"""Exact-KL scoring speed (completion tokens/s) and peak memory by completion length.

    python benchmarks/kl_throughput.py [--model DIR] [--lengths 64 256 512] [--sequences 8] [--threads 2]

Not a test: it prints a table. It times what policy_kl does once completions exist (final hidden states of
both models, then the chunked full-vocabulary KL) on countdown prompts followed by exactly L random tokens,
since sampled completions stop at EOS and would not hold the length fixed. The second model is the first with
1% multiplicative noise, so the KL is not zero. Each length runs in a fresh subprocess so that its peak RSS is
its own: after the models load, the RSS high-water mark is reset, and the growth above the loaded RSS is what
the scoring added. The bound to check: a 49k vocabulary and 512-token completions stay well inside 2 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from generation_vs_lmeval import model_folder  # the same default model (benchmarks/ is this script's sys.path[0])


def peak_rss_mb() -> float:
    """This process's RSS high-water mark (VmHWM). Not getrusage's ru_maxrss: a child of a big parent inherits
    the parent's peak there at fork, and resetting the mark does not lower it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def reset_peak_rss() -> bool:
    """Lower the high-water mark to the current RSS (Linux >= 4.0), so loading's transient peak cannot hide
    the scoring's; without it the growth shown is only a lower bound."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def one(args) -> dict:
    """Score ``args.one``-token completions in this process; the numbers of one table row."""
    import torch

    from forgetlab.evaluate.likelihood import _final_hidden, _sequence_kl, encode_prompt
    from forgetlab.models import load_model, load_tokenizer
    from forgetlab.prompts import render_prompt
    from forgetlab.tasks import make_task

    torch.set_num_threads(args.threads)
    tokenizer = load_tokenizer(args.model)
    p_model, q_model = load_model(args.model), load_model(args.model)
    torch.manual_seed(0)
    with torch.no_grad():
        for weight in q_model.parameters():
            weight.mul_(1 + 0.01 * torch.randn_like(weight))
    task = make_task("countdown", {"kind": "countdown"})
    prompts = [
        encode_prompt(tokenizer, render_prompt(task, r, task.format))
        for r in task.build("test", args.sequences, seed=0)
    ]
    completions = torch.randint(p_model.config.vocab_size, (args.sequences, args.one))
    sequences = [torch.cat([torch.tensor(prompt), completion]) for prompt, completion in zip(prompts, completions)]

    # Page in the weights (safetensors are memory-mapped lazily) and run one short forward pass per model, so
    # neither first-touch paging nor one-time kernel setup is counted as the scoring's memory or time.
    with torch.inference_mode():
        for model in (p_model, q_model):
            for weight in model.parameters():
                weight.sum()  # reads every page
            _final_hidden(model, [torch.tensor(prompts[0])])
    resettable = reset_peak_rss()
    loaded = peak_rss_mb()
    start = time.perf_counter()
    with torch.inference_mode():  # as in policy_kl, after sampling
        p_hidden = _final_hidden(p_model, sequences, args.batch_size)
        q_hidden = _final_hidden(q_model, sequences, args.batch_size)
        results = [
            _sequence_kl(p_model, q_model, p, q, ids, len(prompt), args.chunk)
            for p, q, ids, prompt in zip(p_hidden, q_hidden, sequences, prompts)
        ]
    seconds = time.perf_counter() - start
    tokens = sum(r.tokens for r in results)
    return {"tokens": tokens, "seconds": seconds, "loaded_mb": loaded, "growth_mb": peak_rss_mb() - loaded,
            "exact_peak": resettable, "kl_per_token": sum(r.exact for r in results) / tokens,
            "vocab": p_model.config.vocab_size}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="HF model folder (default: SmolLM2-135M-Instruct from the gguf package)")
    parser.add_argument("--lengths", type=int, nargs="+", default=[64, 256, 512])
    parser.add_argument("--sequences", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8, help="sequences per forward pass (policy_kl's default)")
    parser.add_argument("--chunk", type=int, default=64, help="positions per log-softmax chunk (policy_kl's default)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one length, in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args)))
        return

    model = str(model_folder(args.model))
    print("| completion tokens | sequences | seconds | tokens/s | RSS after load (MB) | KL peak growth (MB) |")
    print("|---|---|---|---|---|---|")
    rows = []
    for length in args.lengths:
        command = [
            sys.executable, __file__, "--one", str(length), "--model", model, "--sequences", str(args.sequences),
            "--batch-size", str(args.batch_size), "--chunk", str(args.chunk), "--threads", str(args.threads),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            sys.exit(f"length {length} failed:\n{result.stderr}")
        row = json.loads(result.stdout.splitlines()[-1])
        rows.append(row)
        bound = "" if row["exact_peak"] else " (lower bound: peak not resettable)"
        print(
            f"| {length} | {args.sequences} | {row['seconds']:.2f} | {row['tokens'] / row['seconds']:,.0f} "
            f"| {row['loaded_mb']:,.0f} | {row['growth_mb']:,.0f}{bound} |"
        )
    vocab = rows[0]["vocab"]
    # What the unchunked way would hold: p and q logits [T, V] in float32, per sequence (times the batch when batched).
    full = ", ".join(f"T={t}: {2 * t * vocab * 4 / 2**20:,.0f} MB" for t in args.lengths)
    print(
        f"\nFull-logits reference, one [T, V={vocab:,}] float32 logits pair per sequence: {full} "
        f"(x{args.batch_size} for a batch). KL per token: " + ", ".join(f"{r['kl_per_token']:.3g}" for r in rows)
    )


if __name__ == "__main__":
    main()
