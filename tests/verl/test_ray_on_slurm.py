"""Ray started across a real SLURM allocation as a multi-node verl stage starts it: the job's nodes from
scontrol, the head's address resolved on its node and each `ray start` as an `srun --overlap` step beside the
running one (the throwaway one-node cluster of tests/workflow/slurm_cluster.py; root and Debian's SLURM packages)."""

import os
import subprocess
import sys
import tempfile
import time

import pytest

from ..workflow.slurm_cluster import SlurmCluster, foreign_config, missing_binaries
from .conftest import VERL_ONLY

pytest.importorskip("verl", reason=VERL_ONLY)

PROBE = """
import os
from forgetlab.verl.cluster import RayCluster, allocation_nodes
nodes = allocation_nodes()
with RayCluster(nodes, gpus=0, cpus=1, env=dict(os.environ), timeout=120) as ray:
    print("nodes", nodes, "joined", ray.alive(), "address", ray.address, flush=True)
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if os.geteuid() != 0 or missing_binaries() or foreign_config():
        pytest.skip("a SLURM cluster of its own needs root and slurmctld, slurmd, slurm-client and munge")
    with SlurmCluster(tmp_path_factory.mktemp("slurm")) as cluster:
        yield cluster


def test_ray_starts_on_the_allocations_nodes_through_srun(cluster, tmp_path):
    output = tmp_path / "probe.out"
    with tempfile.TemporaryDirectory(prefix="ray", dir="/tmp") as ray_tmp:  # Ray's sockets need a short path
        env = {**cluster.env, "RAY_TMPDIR": ray_tmp, "PYTHONPATH": os.getcwd()}
        submitted = subprocess.run(
            ["sbatch", "--parsable", "--nodes=1", "--cpus-per-task=2", f"--output={output}",
             f"--wrap={sys.executable} -c '{PROBE}'"],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        job = submitted.stdout.strip()
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            queue = subprocess.run(["squeue", "-h", "-j", job], capture_output=True, text=True, env=env).stdout
            if not queue.strip():
                break
            time.sleep(2)
    log = output.read_text() if output.exists() else "(no output)"
    assert f"nodes ['{cluster.host}'] joined 1" in log, log[-3000:]
