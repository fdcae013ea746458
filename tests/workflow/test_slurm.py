"""The workflow through the project's SLURM profile (slurm/) on a real one-node SLURM cluster on localhost.

Needs root and `apt-get install slurmctld slurmd slurm-client munge` (.ci/run does it); skipped otherwise.
"""

import os
import re
import signal
import subprocess
import sys

import pytest

from ..conftest import ROOT, TEST_CONFIG
from .slurm_cluster import SlurmCluster, foreign_config, missing_binaries
from .test_workflow import SCENARIOS, expected_targets

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

GPU_RULES = {"model_train", "evaluate_generation", "evaluate_kl_samples", "evaluate_kl"}
CPU_RULES = {"model_base"}  # materialising the base model asks for no GPU
LOCAL_RULES = {"data_generate", "model_step", "report_table", "report_figures"}
TIMEOUT = 1500  # s; Snakemake waits forever on a job whose status it cannot read, so the run is bounded


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("starting munged, slurmctld and slurmd needs root")
    missing = missing_binaries()
    if missing:
        install = "apt-get install slurmctld slurmd slurm-client munge"
        pytest.skip(f"SLURM is not installed (no {', '.join(missing)}): {install}")
    if foreign_config():
        pytest.skip(f"{foreign_config()[0]} belongs to another SLURM installation; not overwriting it")
    with SlurmCluster(tmp_path_factory.mktemp("slurm")) as cluster:
        yield cluster


# The tiny test config cut to the recovery lineage (tests/config/slurm.yaml): every kind of job still runs, and
# each SLURM job costs ~15 s of start-up and status polling.
CHECKPOINTS = ["base", "base/sft-countdown", "base/sft-countdown/grpo-countdown"]


@pytest.fixture(scope="module")
def run(cluster, tmp_path_factory):
    """One `snakemake --profile slurm all`; returns the workdir, its return code, its log and the jobs."""
    workdir = tmp_path_factory.mktemp("slurm_workflow")
    log_path = workdir / "snakemake.log"
    command = [
        sys.executable, "-m", "snakemake", "--profile", str(ROOT / "slurm"), "--snakefile", str(ROOT / "Snakefile"),
        "--directory", str(workdir), "--verbose", "all",
        "--configfile", str(TEST_CONFIG), str(SCENARIOS / "slurm.yaml"),
    ]  # fmt: skip
    with open(log_path, "w") as log:
        # its own process group, so that a timeout kills the jobs' monitors as well
        process = subprocess.Popen(
            command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=cluster.env, start_new_session=True
        )
        try:
            returncode = process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            returncode = None
    # MinJobAge keeps finished jobs in squeue; %k is the comment the plugin sets: rule_<name>[_wildcards_...]
    queue = subprocess.run(
        ["squeue", "--states=all", "-h", "-o", "%i|%T|%P|%k"], capture_output=True, text=True, env=cluster.env
    )
    jobs = []
    for line in queue.stdout.splitlines():
        job_id, state, partition, comment = line.split("|", 3)
        rule = re.sub(r"_wildcards_.*", "", comment).removeprefix("rule_")
        jobs.append({"id": job_id, "state": state, "partition": partition, "rule": rule})
    return {"workdir": workdir, "returncode": returncode, "log": log_path.read_text(), "jobs": jobs}


def test_workflow_runs_through_slurm(run):
    assert run["returncode"] is not None, f"snakemake did not finish in {TIMEOUT} s:\n{run['log'][-5000:]}"
    assert run["returncode"] == 0, run["log"][-5000:]
    missing = [
        str(p) for p in expected_targets(run["workdir"], CHECKPOINTS, harness=False, analysis=False) if not p.exists()
    ]
    assert not missing


def test_every_submitted_job_completed(run):
    assert run["jobs"], "squeue lists no job"
    assert [job for job in run["jobs"] if job["state"] != "COMPLETED"] == []


def test_gpu_rules_run_in_the_gpu_partition_and_other_rules_do_not(run):
    partitions = {}
    for job in run["jobs"]:
        partitions.setdefault(job["rule"], set()).add(job["partition"])
    assert {rule: partitions.get(rule) for rule in GPU_RULES} == {rule: {"gpu"} for rule in GPU_RULES}
    assert {rule: partitions.get(rule) for rule in CPU_RULES} == {rule: {"main"} for rule in CPU_RULES}
    assert {rule: found for rule, found in partitions.items() if rule not in GPU_RULES and "gpu" in found} == {}


def test_local_rules_are_not_submitted(run):
    assert LOCAL_RULES.isdisjoint(job["rule"] for job in run["jobs"])


def test_sbatch_line_of_a_training_job(run, tmp_path):
    # --verbose makes the plugin log every sbatch command line
    calls = [line.split("sbatch call: ", 1)[1] for line in run["log"].splitlines() if "sbatch call: " in line]
    train = [call for call in calls if "--comment rule_model_train" in call]
    assert train, f"no model_train submission among {len(calls)} sbatch calls"
    (tmp_path / "sbatch_model_train.txt").write_text(train[0] + "\n")
    print(f"\nsbatch line of model_train (also in {tmp_path / 'sbatch_model_train.txt'}):\n{train[0]}")
    assert " -p gpu" in train[0] and "--gpus=1" in train[0]
