"""What a job asks SLURM for: requests per rule family, overridden per model and per stage."""

from __future__ import annotations

from dataclasses import dataclass

from .options import Options, option

__all__ = ["FAMILIES", "ResourceRequest", "Resources", "job_request"]


@dataclass(kw_only=True)
class ResourceRequest(Options):
    """One job's SLURM request; an omitted key keeps the family's value."""

    gpu: int | None = option(None, "GPUs; more than one trains under accelerate + DeepSpeed ZeRO-3", minimum=0)
    mem_mb: int | None = option(None, "memory in MB (doubled on the retry)", minimum=100)
    runtime: int | None = option(None, "wall time in minutes (doubled on the retry)", minimum=1)
    cpus_per_task: int | None = option(None, "CPU cores", minimum=1)


def _request(gpu: int, mem_mb: int, runtime: int, cpus_per_task: int):
    return lambda: ResourceRequest(gpu=gpu, mem_mb=mem_mb, runtime=runtime, cpus_per_task=cpus_per_task)


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
