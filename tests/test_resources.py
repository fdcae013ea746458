"""SLURM requests: family defaults, filled in part, overridden per model and per stage."""

from forgetlab.resources import (
    FAMILIES,
    Resources,
    job_request,
    local_threads,
    node_gpus,
    request_of,
    slurm_resources,
)


def test_a_job_request_takes_the_family_then_each_override_that_sets_a_key():
    resources = Resources.from_dict({"train": {"mem_mb": 8000}}).to_dict()
    assert FAMILIES == ("train", "evaluate", "prepare")
    assert resources["train"] == {"gpu": 1, "nodes": 1, "mem_mb": 8000, "runtime": 240, "cpus_per_task": 8}
    model = {"gpu": 4, "runtime": 1440, "mem_mb": None, "cpus_per_task": None}
    stage = {"runtime": 60}
    assert job_request("train", resources, model, stage) == {
        "gpu": 4,
        "nodes": 1,
        "mem_mb": 8000,
        "runtime": 60,
        "cpus_per_task": 8,
    }
    assert job_request("prepare", resources, None) == {
        "gpu": 0, "nodes": 1, "mem_mb": 16000, "runtime": 30, "cpus_per_task": 2,
    }  # fmt: skip


def _config():
    """A resolved config's resource sections: a big model asking for more, one stage asking for a shorter run."""
    return {
        "resources": Resources.from_dict({}).to_dict(),
        "models": {"small": {"resources": None}, "big": {"resources": {"train": {"gpu": 4, "mem_mb": 400000}}}},
        "stages": {"sft": {"resources": {"runtime": 60}}, "grpo": {"resources": None}},
    }


def test_a_jobs_request_takes_the_model_and_for_training_the_stage():
    config = _config()
    default = {"gpu": 1, "nodes": 1, "mem_mb": 32000, "runtime": 240, "cpus_per_task": 8}
    assert request_of(config, "train", "small", "grpo") == default
    big = {"gpu": 4, "nodes": 1, "mem_mb": 400000, "runtime": 60, "cpus_per_task": 8}
    assert request_of(config, "train", "big", "sft") == big
    # other families ignore stages, and a model's train entry leaves its evaluations alone
    evaluate = {"gpu": 1, "nodes": 1, "mem_mb": 16000, "runtime": 60, "cpus_per_task": 4}
    assert request_of(config, "evaluate", "big") == evaluate


def test_a_local_run_trains_on_half_its_cores_a_cluster_job_on_those_it_requests():
    request = {"gpu": 1, "mem_mb": 32000, "runtime": 240, "cpus_per_task": 8}
    assert [local_threads(cores, request) for cores in (1, 2, 3, 16)] == [1, 1, 1, 8]
    assert local_threads(None, request) == 8


CLUSTER = {"account": None, "partition": "main", "gpu_partition": "gpu", "gpu_model": None, "constraint": None,
           "qos": None}  # fmt: skip


def test_slurm_resources_grow_with_each_attempt_and_pick_the_partition():
    request = {"gpu": 1, "mem_mb": 16000, "runtime": 60, "cpus_per_task": 4}
    assert slurm_resources(request, CLUSTER) == {
        "gpu": 1, "gres": "", "nodes": 1, "mem_mb": 16000, "runtime": 60, "cpus_per_task": 4,
        "slurm_partition": "gpu",
    }  # fmt: skip
    retry = slurm_resources(request, CLUSTER, attempt=2)
    assert (retry["mem_mb"], retry["runtime"], retry["cpus_per_task"]) == (32000, 120, 4)
    assert slurm_resources({**request, "gpu": 0}, CLUSTER)["slurm_partition"] == "main"


def test_the_clusters_account_gpu_model_constraint_and_qos_reach_every_job():
    cluster = {**CLUSTER, "account": "lab", "gpu_model": "a100", "constraint": "a100|h100", "qos": "high"}
    request = {"gpu": 2, "mem_mb": 1000, "runtime": 10, "cpus_per_task": 1}
    assert slurm_resources(request, cluster) == {
        "gpu": 2, "gres": "", "nodes": 1, "mem_mb": 1000, "runtime": 10, "cpus_per_task": 1, "slurm_partition": "gpu",
        "gpu_model": "a100", "slurm_account": "lab", "constraint": "a100|h100", "qos": "high",
    }  # fmt: skip
    cpu = slurm_resources({**request, "gpu": 0}, cluster)
    assert cpu["gpu_model"] == "" and cpu["slurm_partition"] == "main"  # the same keys for every job of the cluster
    assert list(cpu) == list(slurm_resources(request, cluster))


def test_a_job_of_several_nodes_asks_for_its_gpus_on_each_node():
    request = {"gpu": 4, "nodes": 2, "mem_mb": 1000, "runtime": 10, "cpus_per_task": 16}
    several = slurm_resources(request, CLUSTER)
    # --gpus counts the whole job's GPUs, --gres each node's: 2 nodes x 4
    assert (several["gpu"], several["gres"], several["nodes"]) == (0, "gpu:4", 2)
    assert slurm_resources(request, {**CLUSTER, "gpu_model": "h100"})["gres"] == "gpu:h100:4"
    assert node_gpus(several) == 4 and node_gpus(slurm_resources({**request, "nodes": 1}, CLUSTER)) == 4
    assert several["slurm_partition"] == "gpu"
    assert list(several) == list(slurm_resources({**request, "nodes": 1}, CLUSTER))
