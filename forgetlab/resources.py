"""What a job asks SLURM for: requests per rule family, overridden per model and per stage."""

from __future__ import annotations

from dataclasses import dataclass

from .options import Options, option

__all__ = [
    "FAMILIES", "ResourceRequest", "Resources", "job_request", "local_threads", "node_gpus", "request_of",
    "slurm_resources",
]  # fmt: skip


@dataclass(kw_only=True)
class ResourceRequest(Options):
    """One job's SLURM request; an omitted key keeps the family's value."""

    gpu: int | None = option(
        None,
        "GPUs on each node; more than one trains under accelerate + DeepSpeed ZeRO-3 (TRL), or FSDP (verl)",
        minimum=0,
    )
    nodes: int | None = option(None, "nodes; more than one needs a verl stage, which starts Ray across them", minimum=1)
    mem_mb: int | None = option(None, "memory in MB (doubled on the retry)", minimum=100)
    runtime: int | None = option(None, "wall time in minutes (doubled on the retry)", minimum=1)
    cpus_per_task: int | None = option(None, "CPU cores", minimum=1)


def _request(gpu: int, mem_mb: int, runtime: int, cpus_per_task: int):
    return lambda: ResourceRequest(gpu=gpu, nodes=1, mem_mb=mem_mb, runtime=runtime, cpus_per_task=cpus_per_task)


@dataclass(kw_only=True)
class Resources(Options):
    """SLURM requests per rule family; models.<name>.resources and stages.<name>.resources override them, and
    local runs ignore them. A family given in part keeps the defaults of the keys it omits."""

    train: ResourceRequest = option(help="training (model_train)", factory=_request(1, 32000, 240, 8))
    evaluate: ResourceRequest = option(help="generation, KL, lm-eval, evalscope", factory=_request(1, 16000, 60, 4))
    prepare: ResourceRequest = option(help="materialising the base model", factory=_request(0, 16000, 30, 2))

    def __post_init__(self):
        for name, field in self.option_fields().items():
            given, default = getattr(self, name), field.default_factory()
            for key in given.option_fields():
                if getattr(given, key) is None:
                    setattr(given, key, getattr(default, key))


FAMILIES = tuple(Resources.option_fields())


def job_request(family: str, resources: dict, *overrides: dict | None) -> dict:
    """The request of one job of ``family``: the family's entry of the resolved ``resources``, updated by each
    override (a model's ``resources.<family>``, then a stage's ``resources``) where it sets a key."""
    request = dict(resources[family])
    for override in overrides:
        request.update({key: value for key, value in (override or {}).items() if value is not None})
    return request


def request_of(config: dict, family: str, model: str, stage: str | None = None) -> dict:
    """The request of one job of a resolved config: the family's default, overridden by the model's entry (a 7B
    run asks for more than a 0.5B one) and, for training, by the stage's."""
    overrides = [(config["models"][model]["resources"] or {}).get(family)]
    if family == "train":
        overrides.append(config["stages"][stage]["resources"])
    return job_request(family, config["resources"], *overrides)


def local_threads(cores: int | None, request: dict) -> int:
    """A training job's threads: half the cores of a local run (``cores``), so the DAG's parallel training branches
    (SFT beside RL from the base, the recovery stages beside each other) train side by side, which on 2 cores did
    15% more SFT steps per second than one 2-thread job after the other; a cluster job (``cores`` None) gets the
    cores it requests."""
    return max(1, cores // 2) if cores else request["cpus_per_task"]


def slurm_resources(request: dict, cluster: dict, attempt: int = 1) -> dict:
    """A request in the SLURM executor plugin's names for the ``attempt``-th try: memory and runtime grow with
    each retry; a GPU job goes to the cluster's GPU partition (``cluster``: config/cluster.yaml's keys). Which
    keys appear depends on the cluster alone. Memory, cores and GPUs are per node: a job of several nodes asks for
    its GPUs as a generic resource of each node (``--gres=gpu:N``), since ``--gpus`` counts the whole job's."""
    gpu, nodes, model = request["gpu"], request.get("nodes") or 1, cluster.get("gpu_model")
    per_node = nodes > 1 and gpu
    resources = {
        "gpu": 0 if per_node else gpu,
        "gres": f"gpu:{model + ':' if model else ''}{gpu}" if per_node else "",
        "nodes": nodes,
        "mem_mb": request["mem_mb"] * attempt,
        "runtime": request["runtime"] * attempt,
        "cpus_per_task": request["cpus_per_task"],
        "slurm_partition": cluster["gpu_partition" if gpu else "partition"],
    }
    if cluster.get("gpu_model"):
        resources["gpu_model"] = model if gpu and not per_node else ""
    if cluster.get("account"):
        resources["slurm_account"] = cluster["account"]
    for key in ("constraint", "qos"):
        if cluster.get(key):
            resources[key] = cluster[key]
    return resources


def node_gpus(resources) -> int:
    """The GPUs on each node of a job, from its resources in slurm_resources' names (several nodes: in gres)."""
    gres = str(resources.get("gres") or "")
    return int(gres.rsplit(":", 1)[-1]) if gres else int(resources.get("gpu") or 0)
