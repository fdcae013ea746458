"""The benchmark scripts keep working: the GPU benchmark at the tiny size on the CPU, the profile's log reading."""

import subprocess
import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

LOG = """\
[Tue Dec  1 01:39:33 2026]
localrule model_base:
    output: results/m/base/model
    jobid: 2
[Tue Dec  1 01:40:03 2026]
Finished jobid: 2 (Rule: model_base)
[Tue Dec  1 01:40:03 2026]
localrule model_train:
    input: results/m/base/model, results/data/c/train.jsonl
    output: results/m/base/sft/model, results/m/base/sft/train_log.jsonl
    jobid: 8
    threads: 2
[Tue Dec  1 01:40:03 2026]
localrule evaluate_generation:
    input: results/m/base/model, results/data/c/test.jsonl
    output: results/m/base/eval/c.json, results/m/base/eval/c.samples.jsonl
    jobid: 4
[Tue Dec  1 01:40:13 2026]
Finished jobid: 4 (Rule: evaluate_generation)
[Tue Dec  1 01:42:03 2026]
Finished jobid: 8 (Rule: model_train)
"""


def test_the_profile_reads_jobs_and_finds_the_critical_path(tmp_path):
    from default_profile import critical_path, read_jobs

    (tmp_path / "run.log").write_text(LOG)
    jobs = read_jobs(tmp_path / "run.log")
    assert [(job["rule"], job["threads"]) for job in jobs] == [("model_base", 1), ("model_train", 2),
                                                               ("evaluate_generation", 1)]  # fmt: skip
    durations = {index: (job["end"] - job["start"]).total_seconds() for index, job in enumerate(jobs)}
    assert durations == {0: 30, 1: 120, 2: 10}
    seconds, chain = critical_path(jobs, durations)
    assert seconds == 150 and [job["rule"] for job in chain] == ["model_base", "model_train"]


def test_the_gpu_benchmark_runs_on_the_cpu_at_the_tiny_size(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--shape", "tiny", "--steps", "1", "--items", "4",
         "--max-new-tokens", "4", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert [line.split(" | ")[0:2] for line in table[1:]] == [
        ["| SFT", "TRL"], ["| GRPO step", "hf"], ["| GRPO step", "vllm"], ["| generation eval", "hf"],
        ["| forward KL", "HF"],
    ]  # fmt: skip
    assert "MFU" in table[1] and "rollout tokens/s" in table[2] and "not run" in table[3]


def test_the_training_benchmark_times_fast_and_stock_paths_with_equal_losses():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "training_vs_trl.py"), "--config", str(ROOT / "tests" / "config"
         / "tiny.yaml"), "--steps", "2"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    table = [line.split(" | ")[:2] + [line.split(" | ")[-1]] for line in result.stdout.splitlines() if "| " in line]
    assert table[1:] == [
        ["| sft-countdown", "stock", "equal |"],
        ["| sft-countdown", "fast", "equal |"],
        ["| grpo-countdown", "stock", "equal |"],
        ["| grpo-countdown", "fast", "other samples |"],
        ["| grpo-countdown", "fast, TRL rollouts", "equal |"],
    ]


def test_the_update_geometry_benchmark_prints_one_row_per_size():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "update_geometry.py"), "--sizes", "48x64", "64x48", "--repeat",
         "1", "--threads", "1"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    table = [line.split(" | ") for line in result.stdout.splitlines() if line.startswith("| ")]
    assert [row[0] for row in table[1:]] == ["| 48x64", "| 64x48"] and all(float(row[1]) >= 0 for row in table[1:])
