"""Several GPUs: the same training, one process per GPU under accelerate, each step keeping its batch size."""

import pytest

from forgetlab.train.common import split_batch
from forgetlab.train.launch import accelerate_command, run_stage


def test_a_multi_gpu_stage_runs_the_launch_worker_under_accelerate():
    command = accelerate_command(4, "config/deepspeed/zero3.yaml", "job.json")
    assert command[1:5] == ["-m", "accelerate.commands.launch", "--config_file", "config/deepspeed/zero3.yaml"]
    assert command[5:] == ["--num_processes", "4", "-m", "forgetlab.train.launch", "job.json"]
    with pytest.raises(ValueError, match="at least 2"):
        accelerate_command(1, "x.yaml", "job.json")


def test_a_multi_gpu_launch_needs_an_accelerate_config(tmp_path):
    with pytest.raises(ValueError, match="needs an accelerate config"):
        run_stage({}, "t", {}, "d", "m", tmp_path / "o", tmp_path / "l", gpus=2)


def test_several_processes_share_each_step_batch(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert split_batch(32, "batch_size") == 8
    with pytest.raises(
        ValueError, match=r"batch_size \(6\) must be divisible by the number of training processes \(4\)"
    ):
        split_batch(6, "batch_size")
