"""Time and peak memory of the weight-SVD analysis: per matrix size, and for a whole model.

    python benchmarks/svd_analysis.py [--sizes 576x1536 2048x8192 4096x14336] [--fraction 0.25] [--threads 2]
                                      [--model DIR] [--checkpoint DIR]

Not a test: it prints a table. Each matrix size runs in a fresh process (two random matrices, the second a
perturbed copy of the first), so its peak RSS growth is its own; the last column gives that growth in copies of
one fp32 matrix (the two input matrices are not counted). The first matrix of a size also pays for its
random-subspace baseline. The whole-model row compares SmolLM2-135M-Instruct (materialised from the offline
package) with a copy whose weights are perturbed by 1%, or --model with --checkpoint.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the same peak-RSS probe as the KL benchmark (benchmarks/ is this script's sys.path[0])
from kl_throughput import peak_rss_mb, reset_peak_rss


def one_matrix(rows: int, cols: int, fraction: float) -> dict:
    import numpy as np

    from forgetlab.analysis.svd import compare_matrix

    rng = np.random.default_rng(0)
    reference = rng.standard_normal((rows, cols), dtype=np.float32)
    checkpoint = reference + 0.01 * rng.standard_normal((rows, cols), dtype=np.float32)
    reset_peak_rss()
    before = peak_rss_mb()
    start = time.perf_counter()
    compare_matrix(reference, checkpoint, fraction)
    seconds = time.perf_counter() - start
    # the two input matrices were allocated before `before`; growth is what the analysis itself needs
    return {"seconds": seconds, "growth_mb": peak_rss_mb() - before, "matrix_mb": rows * cols * 4 / 2**20}


def perturbed_copy(reference: str, folder: str) -> str:
    """A copy of the model in ``reference`` with every weight scaled by 1 + 1% noise, in ``folder``."""
    import torch
    from safetensors.torch import load_file, save_file

    for path in Path(reference).iterdir():
        if path.suffix != ".safetensors":
            (Path(folder) / path.name).write_bytes(path.read_bytes())
    tensors = load_file(str(Path(reference) / "model.safetensors"))
    torch.manual_seed(0)
    save_file({k: v * (1 + 0.01 * torch.randn_like(v)) for k, v in tensors.items()}, f"{folder}/model.safetensors")
    return folder


def whole_model(reference: str, checkpoint: str, fraction: float) -> dict:
    from forgetlab.analysis.svd import SVDConfig, svd_analysis

    reset_peak_rss()
    before = peak_rss_mb()  # after the imports: what the analysis adds, reading one matrix pair at a time
    start = time.perf_counter()
    result = svd_analysis(reference, checkpoint, SVDConfig(fraction=fraction))
    seconds, growth = time.perf_counter() - start, peak_rss_mb() - before
    return {"seconds": seconds, "growth_mb": growth, "matrices": len(result["rows"]) // 2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["576x576", "576x1536", "2048x8192", "4096x14336"])
    parser.add_argument("--fraction", type=float, default=0.25)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", help="reference model folder (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--checkpoint", help="checkpoint folder (default: the reference perturbed by 1%%)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a size, run in this process
    parser.add_argument("--whole", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    import os

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    if args.one:
        print(json.dumps(one_matrix(*map(int, args.one.split("x")), args.fraction)))
        return
    if args.whole:
        print(json.dumps(whole_model(args.model, args.checkpoint, args.fraction)))
        return
    if args.model is None:
        sys.path.insert(0, str(Path(__file__).parent))
        from generation_vs_lmeval import model_folder

        args.model = str(model_folder(None))
    scratch = tempfile.TemporaryDirectory()
    if args.checkpoint is None:
        args.checkpoint = perturbed_copy(args.model, scratch.name)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "OPENBLAS_NUM_THREADS": str(args.threads)}
    common = ["--fraction", str(args.fraction), "--threads", str(args.threads)]
    print("| matrix | seconds | peak RSS growth beyond the two input matrices (MB) | in copies of one matrix |")
    print("|---|---|---|---|")
    for size in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", size, *common], capture_output=True, text=True, env=env
        )
        row = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else None
        if row is None:
            print(f"| {size} | failed: {out.stderr.strip().splitlines()[-1]} | | |")
            continue
        print(f"| {size} | {row['seconds']:.2f} | {row['growth_mb']:.0f} | {row['growth_mb'] / row['matrix_mb']:.2f} |")
    whole = ["--whole", *common, "--model", args.model, "--checkpoint", args.checkpoint]
    out = subprocess.run([sys.executable, __file__, *whole], capture_output=True, text=True, env=env)
    if out.returncode:
        print(f"whole model: failed: {out.stderr.strip()[-500:]}")
        return
    row = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"\nwhole model ({row['matrices']} linear weights): {row['seconds']:.1f} s, "
        f"peak RSS growth {row['growth_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
