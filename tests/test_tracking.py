"""Experiment trackers: the config section, a lineage's run and its environment, real training reporting to
TensorBoard, and evaluation metrics logged into the training's run (TensorBoard always; W&B offline, MLflow's file
store and trackio where installed)."""

import importlib.util
import struct
import time
from pathlib import Path

import pytest
import yaml

from forgetlab import jobs, tracking
from forgetlab.config import ConfigError, resolve_config
from forgetlab.io import read_jsonl
from forgetlab.targets import Checkpoint
from forgetlab.tasks import make_task
from forgetlab.tracking import TrackingConfig, log_metrics, summary_numbers
from forgetlab.tracking.runs import environment, run_id, tracker_environment, trainer_arguments
from forgetlab.train import StageConfig, train_stage

from .conftest import TEST_CONFIG

TASK = make_task("countdown", {"kind": "countdown"})
RECORDS = TASK.build("train", 16, seed=0)


def _installed(module):
    return pytest.mark.skipif(importlib.util.find_spec(module) is None, reason=f"{module} is not installed")


def tensorboard_scalars(folder: Path) -> dict[str, dict[int, float]]:
    """tag -> {step: value} of every event file directly in ``folder`` (TFRecord framing: length, its CRC, the
    Event proto, its CRC), read without TensorBoard."""
    from tensorboardX.proto.event_pb2 import Event

    found = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data, at = path.read_bytes(), 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at : at + 8])
            event = Event.FromString(data[at + 12 : at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                if value.WhichOneof("value") == "simple_value":
                    found.setdefault(value.tag, {})[event.step] = value.simple_value
    return found


# -- the config --


def _config(**tracking_section):
    config = yaml.safe_load(TEST_CONFIG.read_text())
    return {**config, "tracking": tracking_section} if tracking_section else config


def test_no_tracker_by_default_and_the_trainer_is_told_none():
    resolved = resolve_config(_config())[0]
    assert resolved["tracking"] == {"report_to": [], "project": "forgetlab", "dir": "tracking", "wandb_mode": "offline"}
    assert trainer_arguments(TrackingConfig.from_dict(resolved["tracking"]), "tiny/base/sft") == {"report_to": "none"}
    assert trainer_arguments(None, None) == {"report_to": "none"}


def test_an_unknown_tracker_is_one_error_naming_it():
    with pytest.raises(ConfigError) as error:
        resolve_config(_config(report_to=["tensorboard", "wandbb"]))
    assert str(error.value) == (
        "tracking.report_to[1]: 'wandbb' is not one of ['tensorboard', 'wandb', 'mlflow', 'trackio']; "
        "did you mean 'wandb'?"
    )


def test_a_tracker_without_its_package_names_the_package_and_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    tracking.require_installed(["tensorboard"])  # tensorboardX: in the test extra
    with pytest.raises(ConfigError) as error:
        tracking.require_installed(["tensorboard", "mlflow"])
    assert str(error.value) == (
        'tracking.report_to: mlflow needs the mlflow-skinny package, which is not installed: pip install -e ".[mlflow]"'
    )


# -- a lineage's run --


def test_a_lineage_has_one_readable_run_name_and_a_stable_wandb_id():
    name = tracking.run_name("tiny", "base/sft-countdown/steps/1/grpo-countdown")
    assert name == "tiny/base/sft-countdown/steps/1/grpo-countdown"
    assert run_id(name) == run_id(name) != run_id("tiny/base/sft-countdown")
    assert run_id(name).isalnum() and len(run_id(name)) == 32  # W&B ids: no '/', at most 64 characters


def test_the_trainer_reports_to_the_chosen_trackers_as_the_named_run():
    settings = TrackingConfig.from_dict({"report_to": ["tensorboard", "wandb"], "project": "study"})
    told = trainer_arguments(settings, "tiny/base/sft")
    assert told == {"report_to": ["tensorboard", "wandb"], "run_name": "tiny/base/sft", "project": "study"}
    with pytest.raises(ValueError, match="give the run a name"):
        trainer_arguments(settings, None)


def test_the_environment_puts_each_trackers_files_under_the_tracking_dir(tmp_path):
    settings = TrackingConfig.from_dict({"report_to": ["tensorboard", "wandb", "mlflow"], "dir": str(tmp_path)})
    env = environment(settings, "tiny/base/sft", env={})
    assert env["TENSORBOARD_LOGGING_DIR"] == str(tmp_path / "tensorboard" / "tiny" / "base" / "sft")
    assert env["WANDB_DIR"] == str(tmp_path) and env["WANDB_PROJECT"] == "forgetlab"
    assert env["WANDB_RUN_ID"] == run_id("tiny/base/sft") and env["WANDB_RESUME"] == "allow"
    assert env["WANDB_MODE"] == "offline"
    assert env["MLFLOW_TRACKING_URI"] == (tmp_path / "mlflow").as_uri() and env["MLFLOW_EXPERIMENT_NAME"] == "forgetlab"
    # what the user's environment says wins
    given = environment(settings, "tiny/base/sft", env={"WANDB_MODE": "online", "MLFLOW_TRACKING_URI": "http://x"})
    assert given["WANDB_MODE"] == "online" and "MLFLOW_TRACKING_URI" not in given
    assert environment(TrackingConfig.from_dict({"report_to": ["tensorboard"]}), "r", env={}).keys() == {
        "TENSORBOARD_LOGGING_DIR"
    }


def test_the_environment_is_restored_after_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_PROJECT", "theirs")
    monkeypatch.delenv("WANDB_DIR", raising=False)
    settings = TrackingConfig.from_dict({"report_to": ["wandb"], "dir": str(tmp_path / "t")})
    with tracker_environment(settings, "tiny/base") as values:
        import os

        assert os.environ["WANDB_PROJECT"] == "forgetlab" and values["WANDB_DIR"] == str(tmp_path / "t")
        assert (tmp_path / "t").is_dir()
    assert os.environ["WANDB_PROJECT"] == "theirs" and "WANDB_DIR" not in os.environ


def test_a_checkpoint_logs_to_its_lineages_run_at_its_step(monkeypatch):
    config = resolve_config(_config())[0]
    assert jobs.tracked_run(config, "tiny", "base") == ("tiny/base", 0, "")
    assert jobs.tracked_run(config, "tiny", "base/sft-countdown/steps/1") == ("tiny/base/sft-countdown", 1, "")
    assert jobs.tracked_run(config, "tiny", "base/sft-countdown") == ("tiny/base/sft-countdown", 2, "")
    nested = "base/sft-countdown/grpo-countdown"
    assert jobs.tracked_run(config, "tiny", nested) == (f"tiny/{nested}", 1, "")
    restored = "base/sft-countdown/restored/svd-0.5"
    found = Checkpoint("tiny", "base/sft-countdown", 2, f"results/tiny/{restored}", "restored/svd-0.5")
    monkeypatch.setattr(jobs, "evaluated_checkpoints", lambda config: [found])
    assert jobs.tracked_run(config, "tiny", restored) == ("tiny/base/sft-countdown", 2, "restored/svd-0.5/")


def test_summary_numbers_keep_the_finite_numbers_under_the_key_prefix():
    metrics = {"accuracy": 0.5, "format_rate": 1, "n": 4, "ok": True, "device": "cpu", "ci": [0.1], "x": float("nan")}
    expected = {"accuracy": 0.5, "format_rate": 1.0, "n": 4.0}
    assert summary_numbers(metrics, "eval/countdown") == {f"eval/countdown/{k}": v for k, v in expected.items()}


# -- real runs --


def _sft(tiny_model, tmp_path, settings, name):
    stage = StageConfig.from_dict({"method": "sft", "task": "countdown", "lr": 1e-3, "steps": 2, "batch_size": 2})
    out = tmp_path / "sft"
    train_stage(stage, TASK, RECORDS, tiny_model, out, tmp_path / "log.jsonl", tracking=settings, run_name=name)
    return {row["step"]: row["loss"] for row in read_jsonl(tmp_path / "log.jsonl") if "loss" in row}


def test_training_writes_its_loss_to_tensorboard_and_evaluations_join_the_run(tiny_model, tmp_path):
    settings = TrackingConfig.from_dict({"report_to": ["tensorboard"], "dir": str(tmp_path / "tracking")})
    losses = _sft(tiny_model, tmp_path, settings, "tiny/base/sft")
    run = tmp_path / "tracking" / "tensorboard" / "tiny" / "base" / "sft"
    assert tensorboard_scalars(run)["train/loss"] == pytest.approx(losses) and sorted(losses) == [1, 2]

    log_metrics(settings, "tiny/base/sft", 2, {"eval/countdown/accuracy": 0.25})
    log_metrics(settings, "tiny/base/sft", 1, {"eval/countdown/accuracy": 0.5})  # an earlier step, logged later
    scalars = tensorboard_scalars(run)
    assert scalars["eval/countdown/accuracy"] == {1: 0.5, 2: 0.25} and scalars["train/loss"] == pytest.approx(losses)
    log_metrics(settings, "tiny/base", 0, {"eval/countdown/accuracy": 0.125})  # the base: its own run, step 0
    assert tensorboard_scalars(run.parent) == {"eval/countdown/accuracy": {0: 0.125}}


@_installed("wandb")
def test_wandb_offline_writes_a_run_folder_holding_the_metrics(tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    settings = TrackingConfig.from_dict({"report_to": ["wandb"], "dir": str(tmp_path)})
    log_metrics(settings, "tiny/base/sft", 2, {"eval/countdown/accuracy": 0.375})
    (folder,) = (tmp_path / "wandb").glob(f"offline-run-*-{run_id('tiny/base/sft')}")
    records = folder / f"run-{run_id('tiny/base/sft')}.wandb"  # the run's records, synced as they are
    # W&B's service process may still be writing them when finish() returns (seen on a loaded machine)
    for _ in range(60):
        if b"0.375" in (history := records.read_bytes()):
            break
        time.sleep(0.5)
    assert b"eval/countdown/accuracy" in history and b"0.375" in history and b"train/global_step" in history


@_installed("mlflow")
def test_mlflow_evaluations_join_the_run_training_made(tiny_model, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = TrackingConfig.from_dict({"report_to": ["mlflow"], "dir": str(tmp_path / "tracking")})
    losses = _sft(tiny_model, tmp_path, settings, "tiny/base/sft")
    log_metrics(settings, "tiny/base/sft", 2, {"eval/countdown/accuracy": 0.25})
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient((tmp_path / "tracking" / "mlflow").as_uri())
    (run,) = client.search_runs([client.get_experiment_by_name("forgetlab").experiment_id])
    assert run.info.run_name == "tiny/base/sft"
    history = {m.step: m.value for m in client.get_metric_history(run.info.run_id, "loss")}
    assert history == pytest.approx(losses)
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "eval/countdown/accuracy")] == [
        (2, 0.25)
    ]


@_installed("trackio")
def test_trackio_logs_the_metrics_at_the_step(tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKIO_DIR", raising=False)
    settings = TrackingConfig.from_dict({"report_to": ["trackio"], "dir": str(tmp_path)})
    log_metrics(settings, "tiny/base/sft", 2, {"eval/countdown/accuracy": 0.25})
    assert any((tmp_path / "trackio").rglob("*"))
