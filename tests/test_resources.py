"""SLURM requests: family defaults, filled in part, overridden per model and per stage."""

from forgetlab.resources import FAMILIES, Resources, job_request


def test_a_job_request_takes_the_family_then_each_override_that_sets_a_key():
    resources = Resources.from_dict({"train": {"mem_mb": 8000}}).to_dict()
    assert FAMILIES == ("train", "evaluate", "prepare")
    assert resources["train"] == {"gpu": 1, "mem_mb": 8000, "runtime": 240, "cpus_per_task": 8}
    model = {"gpu": 4, "runtime": 1440, "mem_mb": None, "cpus_per_task": None}
    stage = {"runtime": 60}
    assert job_request("train", resources, model, stage) == {
        "gpu": 4,
        "mem_mb": 8000,
        "runtime": 60,
        "cpus_per_task": 8,
    }
    assert job_request("prepare", resources, None) == {"gpu": 0, "mem_mb": 16000, "runtime": 30, "cpus_per_task": 2}
