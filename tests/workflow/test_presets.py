"""The GPU presets (config/paper-*.yaml): each expands to the DAG the study needs, with GPU jobs asking for
what their model size needs. Dry runs only: nothing is trained."""

import re
import subprocess
import sys
from collections import Counter

import pytest

from ..conftest import ROOT, TEST_CONFIG
from .test_workflow import SCENARIOS


def snakemake(configs, workdir, *arguments):
    """Snakemake on the workflow with ``configs``, in ``workdir``, on one core."""
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--cores", "1", *arguments, "--configfile", *map(str, configs)]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def failed_job_log(configs, workdir, target, log):
    """The log of the one job that fails to make ``target``, which must then not exist."""
    result = snakemake(configs, workdir, target)
    assert result.returncode != 0 and not (workdir / target).exists()
    return (workdir / log).read_text()


def dry_run(configs, workdir):
    """(jobs per rule, resources of every job as (rule, {key: value}))."""
    result = snakemake(configs, workdir, "--dry-run", "all")
    assert result.returncode == 0, result.stderr[-3000:]
    jobs, rule = [], None
    for line in result.stdout.splitlines():
        if match := re.match(r"(?:local)?rule (\w+):$", line):
            rule = match.group(1)
        elif line.startswith("    resources:") and rule:
            pairs = dict(pair.split("=", 1) for pair in line.split(":", 1)[1].strip().split(", "))
            jobs.append((rule, pairs))
            rule = None
    return Counter(rule for rule, _ in jobs), jobs


def _resources(jobs, rule, **match):
    return [r for name, r in jobs if name == rule and all(r.get(k) == str(v) for k, v in match.items())]


PRESETS = {
    # GRPO on GSM8K (1,869 steps), SFT on MMLU-Pro from it (4,500), the recovery (75): 18 + 8 + 2 kept steps;
    # GSM8K and MMLU generated, evalscope's MMLU and KL on both at every checkpoint
    "paper-false-forgetting.yaml": {
        "counts": {
            "model_base": 1,
            "model_train": 3,
            "model_step": 28,
            "evaluate_generation": 64,
            "evaluate_evalscope": 32,
            "evaluate_kl": 62,
        },
        "train": {"gpu": 1, "mem_mb": 64000, "runtime": 1440, "slurm_partition": "gpu"},
    },
    # two 7-8B models x (SFT, SFT -> PPO in verl); checkpoints every 100 SFT steps (7) and 50 RL steps (5); ID + OOD
    "paper-ood-recovery.yaml": {
        "counts": {
            "model_base": 2,
            "model_train": 2,
            "model_train_verl": 2,
            "model_step": 24,
            "evaluate_generation": 60,
            "evaluate_kl": 28,
        },
        "train": {"gpu": 4, "mem_mb": 400000, "runtime": 1440, "slurm_partition": "gpu"},
    },
    # one-shot (1,200 steps), zero-shot (200), the curriculum (1,200) and zero-shot after one-shot: 11 + 1 + 11 + 1
    # kept steps; 29 checkpoints x 2 tasks x 3 formats
    "paper-countdown-grpo.yaml": {
        "counts": {"model_base": 1, "model_train": 4, "model_step": 24, "evaluate_generation": 174, "evaluate_kl": 28},
        "train": {"gpu": 1, "mem_mb": 64000, "runtime": 720, "slurm_partition": "gpu"},
    },
    # five models x (no memory, knn, knn+), one epoch of 468 steps: 4 kept steps each
    "paper-memory-r.yaml": {
        "counts": {"model_base": 5, "model_train": 15, "model_step": 60, "evaluate_generation": 80, "evaluate_kl": 75},
        "train": {"gpu": 1, "mem_mb": 80000, "runtime": 720, "slurm_partition": "gpu"},
    },
    # SFT: five learning rates x two batch sizes; GRPO: five learning rates x one or two updates per batch; the
    # lm-eval prior suite (6 benchmarks) on all 21 checkpoints; KL in both directions
    "paper-rls-razor.yaml": {
        "counts": {
            "model_base": 1,
            "model_train": 20,
            "evaluate_generation": 21,
            "evaluate_kl": 40,
            "evaluate_harness": 126,
        },
        "train": {"gpu": 1, "mem_mb": 128000, "runtime": 720, "slurm_partition": "gpu"},
    },
}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_preset_expands_to_the_study_with_sized_gpu_jobs(preset, tmp_path):
    expected = PRESETS[preset]
    counts, jobs = dry_run([ROOT / "config" / preset], tmp_path)
    assert {rule: counts[rule] for rule in expected["counts"]} == expected["counts"]
    assert counts["report_table"] == counts["report_figures"] == 1
    train = expected["train"]
    trained = expected["counts"]["model_train"] + expected["counts"].get("model_train_verl", 0)
    assert sum(len(_resources(jobs, rule, **train)) for rule in ("model_train", "model_train_verl")) == trained
    for rule in ("evaluate_generation", "evaluate_kl", "evaluate_harness"):
        assert all(r["gpu"] == "1" and r["slurm_partition"] == "gpu" for r in _resources(jobs, rule))
    assert all(r["gpu"] == "0" and r["slurm_partition"] == "main" for r in _resources(jobs, "model_base"))
    # CPU rules run on the submitting host: no SLURM request at all
    assert all(
        "slurm_partition" not in r for name, r in jobs if name in ("data_generate", "report_table", "model_step")
    )


def test_evalscope_runs_apart_from_the_core_install(tmp_path):
    """evalscope benchmarks are targets of their own, in envs/evalscope.yaml; run in the core environment the
    job stops and says how to run it, leaving no metrics file."""
    configs = [TEST_CONFIG, SCENARIOS / "evalscope.yaml"]
    counts, _ = dry_run(configs, tmp_path)
    assert counts["evaluate_evalscope"] == 5  # every checkpoint: base, sft's step 1, three trained
    target = "results/tiny/base/evalscope/mmlu.json"
    log = failed_job_log(configs, tmp_path, target, "logs/evaluate_evalscope/tiny/base/mmlu.log")
    assert "evalscope is not installed in this environment: run with --sdm conda (envs/evalscope.yaml)" in log


def test_a_verl_stage_has_its_rule_its_nodes_and_stops_without_verls_environment(tmp_path):
    """An engine: verl stage is trained by model_train_verl on nodes x GPUs (GPUs per node as gres), every other
    stage by model_train; without verl's environment its job stops naming verl_python, leaving no model."""
    configs = [TEST_CONFIG, SCENARIOS / "verl.yaml"]
    counts, jobs = dry_run(configs, tmp_path)
    assert counts["model_train_verl"] == 1 and counts["model_train"] == 1  # sft-countdown once, shared
    (verl,) = _resources(jobs, "model_train_verl")
    assert (verl["nodes"], verl["gres"], verl["gpu"], verl["slurm_partition"]) == ("2", "gpu:4", "0", "gpu")
    target = "results/tiny/base/sft-countdown/ppo-countdown/model"
    log = failed_job_log(configs, tmp_path, target, "logs/model_train_verl/tiny/base/sft-countdown/ppo-countdown.log")
    assert "verl_python (no-such-env/bin/python) does not exist: make it with `bash requirements/venv.sh verl`" in log


def test_only_a_verl_stage_asks_for_several_nodes(tmp_path):
    overlay = tmp_path / "nodes.yaml"
    overlay.write_text("stages:\n  sft-countdown: {resources: {nodes: 2}}\n")
    result = snakemake([TEST_CONFIG, overlay], tmp_path, "--dry-run", "all")
    assert result.returncode != 0
    assert "model 'tiny' asks for 2 nodes, but stage 'sft-countdown' trains with sft in TRL" in result.stdout


def test_a_verl_batch_that_does_not_split_over_its_gpus_stops_before_any_job(tmp_path):
    overlay = tmp_path / "split.yaml"
    overlay.write_text("stages:\n  ppo-countdown: {batch_size: 3}\n")
    configs = [TEST_CONFIG, SCENARIOS / "verl.yaml", overlay]
    result = snakemake(configs, tmp_path, "--dry-run", "all")
    assert result.returncode != 0 and not (tmp_path / "results").exists()
    assert "stages.ppo-countdown: model 'tiny': engine: verl splits a batch's 3 rollouts" in result.stdout
