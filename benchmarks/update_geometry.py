"""Time and peak memory of the update-geometry analysis of one weight, per matrix size.

    python benchmarks/update_geometry.py [--sizes 512x512 1024x2816] [--large] [--threads 2] [--intruder-top 10]

Not a test: it prints a table. Each size runs in a fresh process on two random float32 matrices (the second the
first plus 1% noise on a random half of its entries), so its peak is its own. Memory is the growth of the
process's peak RSS (VmHWM, reset just before the call: see kl_throughput.peak_rss_mb) beyond the two input
matrices, also in copies of one fp32 matrix; unlike tracemalloc it includes LAPACK's and torch's buffers. Most
of it is the |w| copy that finds the smallest weights, then the reference's Gram matrix and its eigenvectors (two
min(m, n)² float64 arrays) and its top-k vectors of the larger side.
The last column is the random change's update_rank (the share of singular values above 1e-3 of the largest).
--large adds 4096x14336 (a 7-8B model's MLP weight; minutes on two cores).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

# the same peak-RSS probe as the KL benchmark (benchmarks/ is this script's sys.path[0])
from kl_throughput import peak_rss_mb, reset_peak_rss

SIZES = ["512x512", "1024x2816"]
LARGE = "4096x14336"


def one_matrix(rows: int, cols: int, intruder_top: int, repeat: int) -> dict:
    import numpy as np

    from forgetlab.analysis.update import UpdateConfig, update_matrix

    rng = np.random.default_rng(0)
    reference = rng.standard_normal((rows, cols), dtype=np.float32)
    checkpoint = reference.copy()
    moved = rng.random((rows, cols)) < 0.5
    checkpoint[moved] += 0.01 * rng.standard_normal(int(moved.sum()), dtype=np.float32)
    del moved
    options = UpdateConfig(intruder_top=intruder_top)
    update_matrix(np.ones((8, 8), np.float32), np.ones((8, 8), np.float32), options)  # imports outside the timing
    seconds, growth = [], []
    for _ in range(repeat):  # the fastest of a few: a shared two-core machine is noisy
        pair = reference.copy(), checkpoint.copy()  # consumed by the call
        reset_peak_rss()
        before = peak_rss_mb()
        start = time.perf_counter()
        row = update_matrix(*pair, options)
        seconds.append(time.perf_counter() - start)
        # the two input matrices were allocated before `before`; growth is what the analysis itself needs
        growth.append(peak_rss_mb() - before)
        del pair
    return {"seconds": min(seconds), "growth_mb": max(growth), "matrix_mb": rows * cols * 4 / 2**20,
            "unchanged": row["unchanged_share"], "rank": row["update_rank"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=SIZES)
    parser.add_argument("--large", action="store_true", help=f"also {LARGE}")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--intruder-top", type=int, default=10, help="0: without the intruder count")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the fastest is shown (--large: 1)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a size, run in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_matrix(*map(int, args.one.split("x")), args.intruder_top, args.repeat)))
        return
    threads = str(args.threads)
    env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    sizes = args.sizes + ([LARGE] if args.large and LARGE not in args.sizes else [])
    print("| matrix | seconds | peak RSS growth beyond the two input matrices (MB) | in copies of one matrix | rank |")
    print("|---|---|---|---|---|")
    for size in sizes:
        repeat = 1 if size == LARGE else args.repeat
        options = ["--intruder-top", str(args.intruder_top), "--repeat", str(repeat)]
        command = [sys.executable, __file__, "--one", size, *options]
        out = subprocess.run(command, capture_output=True, text=True, env=env)
        if out.returncode:
            print(f"| {size} | failed: {(out.stderr.strip().splitlines() or ['?'])[-1]} | | | |")
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        copies = row["growth_mb"] / row["matrix_mb"]
        print(f"| {size} | {row['seconds']:.2f} | {row['growth_mb']:.0f} | {copies:.2f} | {row['rank']:.3f} |")


if __name__ == "__main__":
    main()
