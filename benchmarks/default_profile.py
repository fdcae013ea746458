"""Where a finished workflow run spent its time, against what the hardware can do.

    snakemake -c2 all                                   # the run to profile (the embedded default, say)
    python benchmarks/default_profile.py [--workdir .] [--log .snakemake/log/<run>.snakemake.log] [--noop]

Not a test: it prints tables. Per rule: jobs, threads, wall seconds (each job's benchmark file, else its log
timestamps), the model FLOPs its work needs and their rate as a share of this machine's fp32 matmul peak at the
job's thread count, measured here first (a square GEMM; run it on an otherwise idle machine). Then the whole DAG:
its wall time against the critical path (the longest chain of dependent jobs) and against the sum of the jobs'
core-seconds over the cores, the two bounds no scheduler can beat. ``--noop`` also times a no-op rerun.

Model FLOPs follow the usual accounting: 2 N per token for a forward pass and 6 N for a training step, N the
parameters without the input embedding (the output head included), tokens counted from the run's own files:
training logs (TRL's num_tokens; an RL step also generates over its tokens once, and a group's prompt counts once
in both), generation samples (prompt and completion, then the reference log-likelihood pass over about as many),
and the base's KL samples; a prompt prefix a batch shares counts once, as it is run. Jobs whose work is not a
model pass (materialising the base, SVDs, reports) show none.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from gpu import matmul_peak as gemm_peak  # benchmarks/ is this script's sys.path[0]

from forgetlab.train.advantages import HISTOGRAM_KEY

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ [\d:]{8} \d{4})\]$")
FIELD = re.compile(r"^\s+(input|output|jobid|benchmark|threads|wildcards): (.*)$")


def matmul_peak(threads: int) -> float:
    """fp32 GEMM GFLOP/s of a 2048² product on ``threads`` CPU threads."""
    import torch

    torch.set_num_threads(threads)
    return gemm_peak("cpu", torch.float32, 2048, repeats=8) * 1e3


def read_jobs(log: Path) -> list[dict]:
    """Every job of a Snakemake log: rule, inputs, outputs, threads, start and end time."""
    jobs, by_id, stamp, current = [], {}, None, None
    for line in log.read_text().splitlines():
        if match := STAMP.match(line):
            stamp, current = dt.datetime.strptime(match.group(1), "%a %b %d %H:%M:%S %Y"), None
        elif match := re.match(r"^(?:local)?rule (\w+):$", line):
            current = {"rule": match.group(1), "start": stamp, "threads": 1, "input": [], "output": []}
        elif current is not None and (match := FIELD.match(line)):
            key, value = match.groups()
            if key in ("input", "output"):
                current[key] = [path.strip() for path in value.split(",")]
            elif key == "jobid":
                by_id[value] = current
                jobs.append(current)
            elif key == "threads":
                current["threads"] = int(value)
            else:
                current[key] = value
        elif match := re.match(r"^Finished jobid: (\d+)", line):
            by_id[match.group(1)]["end"] = stamp
    return [job for job in jobs if "end" in job and job["rule"] != "all"]


def seconds(job: dict, workdir: Path) -> float:
    """The job's wall time: its benchmark file's (to the millisecond) where it has one, else the log's."""
    if job.get("benchmark") and (workdir / job["benchmark"]).exists():
        with open(workdir / job["benchmark"]) as handle:
            return float(next(csv.DictReader(handle, delimiter="\t"))["s"])
    return (job["end"] - job["start"]).total_seconds()


class Work:
    """Model FLOPs of a job from the files it read and wrote."""

    def __init__(self, workdir: Path):
        self.workdir, self.models = workdir, {}
        from forgetlab.evaluate.engines import CPU_BATCH

        # the run's config (results/provenance.yaml): its generation batch (null or none: the CPU's default)
        self.config, provenance = {}, workdir / "results" / "provenance.yaml"
        if provenance.exists():
            import yaml

            self.config = yaml.safe_load(provenance.read_text())["config"]
        self.batch_size = self.config.get("evaluate", {}).get("batch_size") or CPU_BATCH

    def model(self, folder: str) -> tuple[int, object]:
        """(parameters without the input embedding, tokenizer) of a model folder."""
        if folder not in self.models:
            from transformers import AutoConfig, AutoTokenizer

            path = self.workdir / folder
            header = _safetensors_header(path / "model.safetensors")
            total = sum(_numel(entry["shape"]) for name, entry in header.items() if name != "__metadata__")
            config = AutoConfig.from_pretrained(path)
            embedding = config.vocab_size * config.hidden_size
            # tied weights are stored once: that copy is the output head, so the input embedding is not counted
            body = total - embedding if not config.tie_word_embeddings else total
            self.models[folder] = (body, AutoTokenizer.from_pretrained(path))
        return self.models[folder]

    def flops(self, job: dict) -> float | None:
        handler = getattr(self, f"_{job['rule']}", None)
        return handler(job) if handler else None

    def _model_train(self, job):
        rows = [json.loads(line) for line in (self.workdir / job["output"][1]).read_text().splitlines()]
        steps = [row for row in rows if "loss" in row and "num_tokens" in row]
        tokens = steps[-1]["num_tokens"]  # cumulative in TRL's log
        params, _ = self.model(job["input"][0])
        if "completions/mean_length" not in steps[-1]:
            return 6 * params * tokens
        # An RL step samples its completions, then trains on them, each group's prompt run once in both
        # (forgetlab.train.shared): TRL counts it once per completion.
        completions = sum(row["completions/mean_length"] * sum(row[HISTOGRAM_KEY]) for row in steps)
        stage = Path(job["output"][0]).parent.name
        group = self.config.get("stages", {}).get(stage, {}).get("num_generations", 1)
        return 8 * params * ((tokens - completions) / group + completions)

    def _evaluate_generation(self, job):
        params, tokenizer = self.model(job["input"][0])
        sequences = []
        for line in (self.workdir / job["output"][1]).read_text().splitlines():
            row = json.loads(line)
            prompt = tokenizer.apply_chat_template(
                [{"role": "user", "content": row["prompt"]}], tokenize=False, add_generation_prompt=True
            )
            sequences.append(tokenizer(prompt + row["completion"])["input_ids"])
        # generation, then the reference log-likelihood over about as many tokens (8 sequences a batch)
        return 2 * params * (_tokens(sequences, self.batch_size) + _tokens(sequences, 8))

    def _kl_tokens(self, path: str) -> int:
        import torch

        samples = torch.load(self.workdir / path, weights_only=True)
        return _tokens([ids.tolist() for ids in samples["sequences"]], 8)

    def _evaluate_kl_samples(self, job):
        params, _ = self.model(job["input"][0])
        return 2 * params * 2 * self._kl_tokens(job["output"][0])  # sampling, then the states along the samples

    def _evaluate_kl(self, job):
        params, _ = self.model(job["input"][0])
        samples = [path for path in job["input"] if path.endswith(".pt")]
        return 2 * params * self._kl_tokens(samples[0]) if samples else None  # the checkpoint's pass


def _tokens(sequences: list[list[int]], batch_size: int) -> int:
    """Tokens a pass over ``sequences`` in batches runs the model over: a prefix a batch shares counts once."""
    from forgetlab.evaluate.prefix import shared_prefix

    total = 0
    for start in range(0, len(sequences), batch_size):
        batch = sequences[start : start + batch_size]
        total += sum(map(len, batch)) - (len(batch) - 1) * shared_prefix(batch)
    return total


def _numel(shape) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def _safetensors_header(path: Path) -> dict:
    with open(path, "rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
        return json.loads(handle.read(length))


def critical_path(jobs: list[dict], durations: dict[int, float]) -> tuple[float, list[dict]]:
    """The longest chain of jobs each reading what the one before wrote."""
    producer = {path: index for index, job in enumerate(jobs) for path in job["output"]}
    best: dict[int, tuple[float, int | None]] = {}
    for index in sorted(range(len(jobs)), key=lambda i: jobs[i]["end"]):
        parents = [producer[path] for path in jobs[index]["input"] if path in producer and producer[path] in best]
        before = max(parents, key=lambda i: best[i][0], default=None)
        best[index] = (durations[index] + (best[before][0] if before is not None else 0.0), before)
    last = max(best, key=lambda i: best[i][0])
    chain, node = [], last
    while node is not None:
        chain.append(jobs[node])
        node = best[node][1]
    return best[last][0], chain[::-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("."), help="the run's working directory")
    parser.add_argument("--log", type=Path, help="its Snakemake log (default: the newest in .snakemake/log)")
    parser.add_argument("--cores", type=int, default=2, help="the cores the run was given (-c)")
    parser.add_argument("--noop", action="store_true", help="also time a no-op rerun of `snakemake -c2 all`")
    args = parser.parse_args()
    # the newest log with finished jobs (a no-op rerun writes a log too)
    logs = [args.log] if args.log else sorted((args.workdir / ".snakemake" / "log").glob("*.snakemake.log"))[::-1]
    log, jobs = next(((log, read_jobs(log)) for log in logs if read_jobs(log)), (None, []))
    if not jobs:
        sys.exit(f"no finished job in {args.log or 'any log of ' + str(args.workdir / '.snakemake' / 'log')}")
    print(f"{log}\n")
    peaks = {threads: matmul_peak(threads) for threads in sorted({1, args.cores} | {job["threads"] for job in jobs})}
    print(f"fp32 matmul peak: {', '.join(f'{t} thread(s) {p:.0f} GFLOP/s' for t, p in peaks.items())}\n")

    work = Work(args.workdir)
    durations = {index: seconds(job, args.workdir) for index, job in enumerate(jobs)}
    rules = defaultdict(lambda: {"jobs": 0, "seconds": 0.0, "flops": 0.0, "modelled": 0, "threads": set()})
    for index, job in enumerate(jobs):
        entry = rules[job["rule"]]
        entry["jobs"] += 1
        entry["seconds"] += durations[index]
        entry["threads"].add(job["threads"])
        flops = work.flops(job)
        if flops is not None:
            entry["flops"] += flops
            entry["modelled"] += 1
            entry.setdefault("ideal", 0.0)
            entry["ideal"] += flops / (peaks[job["threads"]] * 1e9)
    print("| rule | jobs | threads | wall s (sum) | wall s (mean) | model TFLOP | at peak s | share of peak |")
    print("|---|---|---|---|---|---|---|---|")
    for rule, entry in sorted(rules.items(), key=lambda item: -item[1]["seconds"]):
        threads = "/".join(map(str, sorted(entry["threads"])))
        mean = entry["seconds"] / entry["jobs"]
        if entry["modelled"] == entry["jobs"]:
            modelled = f"{entry['flops'] / 1e12:.1f} | {entry['ideal']:.0f} | {entry['ideal'] / entry['seconds']:.0%}"
        else:
            modelled = "— | — | —"
        print(f"| {rule} | {entry['jobs']} | {threads} | {entry['seconds']:.0f} | {mean:.1f} | {modelled} |")

    wall = (max(job["end"] for job in jobs) - min(job["start"] for job in jobs)).total_seconds()
    path_seconds, chain = critical_path(jobs, durations)
    busy = sum(durations[i] * min(job["threads"], args.cores) for i, job in enumerate(jobs)) / args.cores
    print(
        f"\nDAG: {len(jobs)} jobs, wall {wall:.0f} s ({wall / 60:.1f} min); critical path {path_seconds:.0f} s "
        f"({' -> '.join(job['rule'] for job in chain)}); core-seconds / cores {busy:.0f} s"
    )
    if args.noop:
        start = time.perf_counter()
        subprocess.run(["snakemake", "-c2", "all", "--quiet"], cwd=args.workdir, check=True, capture_output=True)
        print(f"no-op rerun (snakemake -c2 all, nothing to do): {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
