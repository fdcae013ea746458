"""What surrounds verl's trainer in a job: the merger's command line as verl's merger parses it, and a real Ray
cluster started and joined as on a SLURM allocation (here one node, started in place of srun)."""

import pytest

from .conftest import VERL_ONLY

pytest.importorskip("verl", reason=VERL_ONLY)
import os
import socket
import sys
import tempfile

from verl.model_merger.base_model_merger import generate_config_from_args, parse_args

from forgetlab.verl.cluster import RayCluster, ray_start_commands
from forgetlab.verl.launch import merge_command


def test_the_merge_command_is_one_verls_merger_takes(monkeypatch, tmp_path):
    command = merge_command(tmp_path / "global_step_2" / "actor", tmp_path / "model")
    assert command[:3] == [sys.executable, "-m", "verl.model_merger"]
    monkeypatch.setattr(sys, "argv", ["verl.model_merger", *command[3:]])
    config = generate_config_from_args(parse_args())
    assert (config.operation, config.backend) == ("merge", "fsdp")
    assert (config.local_dir, config.target_dir) == (str(tmp_path / "global_step_2" / "actor"), str(tmp_path / "model"))


def test_ray_start_puts_the_head_on_the_first_node_and_a_worker_on_each_other():
    commands = ray_start_commands(["n1", "n2", "n3"], "10.0.0.1", gpus=8, cpus=32)
    assert [c[:7] for c in commands] == [
        ["srun", "--overlap", "--nodes=1", "--ntasks=1", "-w", node, commands[0][6]] for node in ("n1", "n2", "n3")
    ]
    assert "--head" in commands[0] and "--port=6379" in commands[0]
    assert all("--address=10.0.0.1:6379" in c and "--num-gpus=8" in c for c in commands[1:])


def test_a_ray_cluster_starts_waits_for_its_nodes_and_stops():
    # Ray's socket paths must stay under 107 bytes: a short folder, not pytest's
    with tempfile.TemporaryDirectory(prefix="ray", dir="/tmp") as folder:
        env = {**os.environ, "RAY_TMPDIR": folder}
        with RayCluster([socket.gethostname()], gpus=0, cpus=1, env=env, timeout=120, on_node=lambda node: []) as ray:
            assert ray.alive() == 1
        assert all(process.poll() is not None for process in ray.processes)
