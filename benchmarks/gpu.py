"""Training, rollout, evaluation and KL speed on this machine's device, against the hardware's limit.

    python benchmarks/gpu.py [--shape qwen2.5-0.5b | tiny] [--steps 3] [--items 64] [--out DIR]

Not a test: it prints a table. On a GPU (bf16) or the CPU (fp32), with random weights of the presets' model shape
(Qwen2.5-0.5B: 24 layers, hidden 896, 14 heads, 2 key-value heads, MLP 4864) and SmolLM2's 49k tokenizer, the
one available offline; `--shape tiny` is the 2-layer test model, for a check that the script runs. Rows:

- SFT: tokens/s of a real TRL stage and its model FLOP utilisation (6 N per token) against the device's matmul
  peak in the training dtype, measured here with a square GEMM;
- GRPO: seconds per step and rollout tokens/s with the HF model (forgetlab's decode loop), and with vLLM
  (colocated) when it is installed and a GPU is visible; the ratio of the two;
- generation evaluation: items/s with the HF engine and with vLLM where it runs; the ratio;
- forward KL: scored completion tokens/s over the base's saved samples, and its FLOP utilisation (2 N per token).

Where vLLM cannot run the row says so. Random weights generate until max_new_tokens, so lengths are fixed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

SHAPES = {
    "qwen2.5-0.5b": {"layers": 24, "hidden": 896, "heads": 14, "kv_heads": 2, "intermediate": 4864},
    "tiny": {},
}


def matmul_peak(device: str, dtype, size: int, repeats: int = 10) -> float:
    """Square ``size`` GEMM TFLOP/s in ``dtype`` on ``device`` (the best of ``repeats``, after a warm-up)."""
    import torch

    a, b = torch.randn(size, size, device=device, dtype=dtype), torch.randn(size, size, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(repeats + 1):
        _sync(device)
        start = time.perf_counter()
        torch.mm(a, b)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e12


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


class RolloutTimer:
    """Time GRPO spends producing its completions, whatever the engine (forgetlab's decode loop, HF ``generate``,
    vLLM), and the completion tokens it produced: TRL's ``_generate``, which every engine runs under."""

    def __enter__(self):
        from trl import GRPOTrainer

        self.seconds, self.tokens, self.original = 0.0, 0, GRPOTrainer._generate
        timer = self

        def timed(trainer, prompts):
            start = time.perf_counter()
            output = timer.original(trainer, prompts)
            timer.seconds += time.perf_counter() - start
            timer.tokens += sum(len(ids) for ids in output[1])  # (prompt_ids, completion_ids, ...)
            return output

        GRPOTrainer._generate = timed
        return self

    def __exit__(self, *exc):
        from trl import GRPOTrainer

        GRPOTrainer._generate = self.original


def _stage(method: str, steps: int, **options) -> dict:
    base = {"method": method, "task": "countdown", "lr": 1e-5, "steps": steps, "batch_size": 8, "resume_every": 0}
    return {**base, **options}


def train(model_dir: Path, out: Path, spec: dict, records, task, device: str) -> tuple[dict, float]:
    """(the stage's last step-log row, wall seconds of training)."""
    from forgetlab.train import StageConfig, train_stage

    start = time.perf_counter()
    train_stage(StageConfig.from_dict(spec), task, records, model_dir, out / "model", out / "log.jsonl", device=device)
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return [row for row in rows if "num_tokens" in row][-1], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="qwen2.5-0.5b")
    parser.add_argument("--steps", type=int, default=3, help="training steps per stage")
    parser.add_argument("--items", type=int, default=64, help="evaluation prompts")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--out", type=Path, help="working folder (default: a temporary one)")
    args = parser.parse_args()

    import torch

    from forgetlab.evaluate.engines import HFEngine, VLLMEngine, resolve_backend
    from forgetlab.evaluate.generation import evaluate_records
    from forgetlab.evaluate.likelihood import sample_policy, samples_kl
    from forgetlab.models import load_model, load_tokenizer, materialise, model_dtype, resolve_device
    from forgetlab.tasks import make_task

    device = resolve_device("auto")
    dtype = getattr(torch, model_dtype(device))
    work = Path(args.out or tempfile.mkdtemp(prefix="forgetlab-gpu-"))
    model_dir = materialise({"source": "tiny-random", **SHAPES[args.shape]}, work / "model")
    model, tokenizer = load_model(model_dir, device), load_tokenizer(model_dir)
    head = model.get_output_embeddings().weight.numel()
    body = sum(p.numel() for p in model.parameters()) - model.get_input_embeddings().weight.numel()
    body -= 0 if model.config.tie_word_embeddings else head
    params = body + head  # the usual N: without the input embedding, with the output head
    peak = matmul_peak(device, dtype, 4096 if device == "cuda" else 1024)
    vllm = resolve_backend("auto", gpu=device == "cuda") == "vllm"
    task = make_task("countdown", {"kind": "countdown"})
    records, tests = task.build("train", 64, seed=0), task.build("test", args.items, seed=1)
    rows = []

    log, seconds = train(model_dir, work / "sft", _stage("sft", args.steps), records, task, device)
    tokens_per_s = log["num_tokens"] / seconds
    rows.append(("SFT", "TRL", f"{tokens_per_s:.0f} tokens/s", f"MFU {6 * params * tokens_per_s / peak / 1e12:.1%}"))

    grpo = _stage("grpo", args.steps, batch_size=4, num_generations=4, max_completion_length=args.max_new_tokens)
    rollouts = {}
    for engine in ["hf"] + (["vllm"] if vllm else []):
        with RolloutTimer() as timer:
            _, seconds = train(model_dir, work / f"grpo-{engine}", {**grpo, "rollouts": engine}, records, task, device)
        rollouts[engine] = timer.tokens / timer.seconds if timer.seconds else None
        rate = f"{rollouts[engine]:.0f} rollout tokens/s" if rollouts[engine] else "rollout time not seen"
        rows.append(("GRPO step", engine, f"{seconds / args.steps:.2f} s/step", rate))
    if not vllm:
        rows.append(("GRPO step", "vllm", "not run", "vLLM needs a GPU and the gpu extra"))

    speeds = {}
    for engine in ["hf"] + (["vllm"] if vllm else []):
        runner = VLLMEngine(model_dir, tokenizer) if engine == "vllm" else HFEngine(model, tokenizer, 64)
        start = time.perf_counter()
        evaluate_records(runner, tokenizer, task, tests, args.max_new_tokens)
        speeds[engine] = len(tests) / (time.perf_counter() - start)
        runner.close()
        rows.append(("generation eval", engine, f"{speeds[engine]:.2f} items/s", ""))
    ratio = f"vLLM/HF {speeds['vllm'] / speeds['hf']:.2f}x" if vllm else "vLLM not run"
    rows[-1] = (*rows[-1][:3], ratio)

    samples = sample_policy(model, tokenizer, task, tests[:16], max_new_tokens=args.max_new_tokens)
    _sync(device)
    start = time.perf_counter()
    metrics = samples_kl(samples, model, model)
    _sync(device)
    elapsed = time.perf_counter() - start
    kl_rate = metrics["tokens"] / elapsed
    # the checkpoint's pass over every token, both models' heads over the scored ones
    flops = 2 * body * sum(len(ids) for ids in samples.sequences) + 2 * 2 * head * metrics["tokens"]
    utilisation = flops / elapsed / peak / 1e12
    rows.append(("forward KL", "HF", f"{kl_rate:.0f} scored tokens/s", f"FLOP utilisation {utilisation:.1%}"))

    name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    print(
        f"{name}, {dtype}, matmul peak {peak:.3g} TFLOP/s; model: {args.shape} shape, {params / 1e6:.0f}M "
        f"parameters without the input embedding\n"
    )
    print("| measurement | engine | speed | against the limit or HF |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    sys.stdout.flush()


if __name__ == "__main__":
    if importlib.util.find_spec("forgetlab") is None:
        sys.exit("install forgetlab first (pip install -e .)")
    main()
