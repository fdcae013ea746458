"""Ray across a SLURM allocation, as verl's multi-node recipe starts it: the head on the job's first node, one
worker on each other node (each a job step beside the running one: ``srun --overlap``), then the trainer joins
that cluster through RAY_ADDRESS. One node needs none of it: verl's trainer starts a local Ray itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["RayCluster", "allocation_nodes", "ray_start_commands"]

PORT = 6379


def allocation_nodes() -> list[str]:
    """The job's nodes, first node first (``SLURM_JOB_NODELIST`` expanded by scontrol)."""
    listing = os.environ.get("SLURM_JOB_NODELIST")
    if not listing:
        raise RuntimeError(
            "resources.nodes > 1 needs a SLURM allocation (no SLURM_JOB_NODELIST): run with the slurm profile"
        )
    hosts = subprocess.run(["scontrol", "show", "hostnames", listing], capture_output=True, text=True, check=True)
    return hosts.stdout.split()


def _ray() -> str:
    """The ray command of this interpreter's environment (verl's, not whatever ray is on PATH)."""
    return str(Path(sys.executable).with_name("ray"))


def on_slurm_node(node: str) -> list[str]:
    """The prefix that runs a command on ``node`` of the job's allocation, beside the running step."""
    return ["srun", "--overlap", "--nodes=1", "--ntasks=1", "-w", node]


def ray_start_commands(nodes: list[str], head_ip: str, gpus: int, cpus: int, on_node=on_slurm_node) -> list[list[str]]:
    """``ray start`` for the head (``nodes[0]``) and each worker, each run on its node by ``on_node(node)``. Ray
    is offered at least 3 CPUs per GPU: verl's trainer places 3 per GPU and waits for them without end."""
    resources = [f"--num-cpus={max(cpus, 3 * gpus + 2)}", f"--num-gpus={gpus}", "--block"]
    head = [*on_node(nodes[0]), _ray(), "start", "--head", f"--node-ip-address={head_ip}", f"--port={PORT}"]
    workers = [[*on_node(node), _ray(), "start", f"--address={head_ip}:{PORT}"] for node in nodes[1:]]
    return [head + resources] + [worker + resources for worker in workers]


class RayCluster:
    """The Ray cluster of ``nodes`` while the block runs: started, waited for until every node has joined, and
    stopped (its processes ended) after."""

    def __init__(self, nodes: list[str], gpus: int, cpus: int, env: dict, timeout: float = 300, on_node=on_slurm_node):
        self.nodes, self.env, self.timeout = nodes, env, timeout
        # the head's address as its own node resolves it (the recipe's `hostname --ip-address` there)
        found = subprocess.run(
            [*on_node(nodes[0]), "hostname", "--ip-address"], capture_output=True, text=True, check=True, env=env
        )
        head_ip = found.stdout.split()[0]
        self.address = f"{head_ip}:{PORT}"
        self.commands = ray_start_commands(nodes, head_ip, gpus, cpus, on_node)
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> RayCluster:
        for command in self.commands:
            self.processes.append(subprocess.Popen(command, env=self.env))
            time.sleep(2)  # the head listens before a worker dials it
        self.wait()
        return self

    def alive(self) -> int:
        """Nodes that have joined, as Ray counts them (0 while the head is not up)."""
        probe = "import ray; ray.init(address='{}', logging_level='ERROR'); print(sum(n['Alive'] for n in ray.nodes()))"
        try:
            result = subprocess.run([sys.executable, "-c", probe.format(self.address)], env=self.env,
                                    capture_output=True, text=True, timeout=60)  # fmt: skip
        except subprocess.TimeoutExpired:  # Ray retries a head that is not up for minutes
            return 0
        return int(result.stdout.split()[-1]) if result.returncode == 0 and result.stdout.split() else 0

    def wait(self) -> None:
        deadline = time.monotonic() + self.timeout
        while (joined := self.alive()) < len(self.nodes):
            if time.monotonic() > deadline or any(p.poll() not in (None, 0) for p in self.processes):
                self.__exit__(None, None, None)
                raise RuntimeError(f"Ray: {joined} of {len(self.nodes)} nodes joined {self.address} ({self.nodes})")
            time.sleep(3)

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run([_ray(), "stop", "--force"], env=self.env, capture_output=True)
