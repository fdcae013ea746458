"""The parts of a verl stage's job that need no verl: its saves kept for a resume of the same job only, and the
step log of every attempt."""

import json

from forgetlab.io import claim_folder
from forgetlab.tracking.config import TrackingConfig
from forgetlab.tracking.runs import run_id
from forgetlab.verl.launch import _environment, trained_from, write_step_log_from


def _job(tmp_path, lr):
    data, model = tmp_path / "train.jsonl", tmp_path / "parent"
    if not model.exists():  # the same parent and records for every call
        data.write_text('{"question": "1 + 1"}\n')
        model.mkdir()
        (model / "config.json").write_text("{}")
    return trained_from({"method": "ppo", "lr": lr}, {"t": {"kind": "arithmetic"}}, str(data), str(model))


def test_saves_of_the_same_job_are_kept_for_its_resume_and_of_another_discarded(tmp_path, capsys):
    work = tmp_path / "verl"
    claim_folder(work, _job(tmp_path, 1e-6), "saves of verl")
    (work / "checkpoints" / "global_step_1").mkdir(parents=True)
    (work / "metrics-000.jsonl").write_text("{}\n")
    claim_folder(work, _job(tmp_path, 1e-6), "saves of verl")  # a rerun of the same job resumes
    assert (work / "checkpoints" / "global_step_1").is_dir() and (work / "metrics-000.jsonl").exists()
    claim_folder(work, _job(tmp_path, 2e-6), "saves of verl")  # another learning rate starts afresh
    assert not (work / "checkpoints").exists() and not list(work.glob("metrics*"))
    assert "discarding the saves of verl in" in capsys.readouterr().out


def test_the_step_log_takes_each_step_from_the_latest_attempt(tmp_path):
    work = tmp_path / "verl"
    work.mkdir()
    first = [{"step": 1, "data": {"actor/pg_loss": 1.0}}, {"step": 2, "data": {"actor/pg_loss": 2.0}}]
    again = [{"step": 2, "data": {"actor/pg_loss": 2.5}}, {"step": 3, "data": {"actor/pg_loss": 3.0}}]
    for index, rows in enumerate((first, again)):  # a kill after step 2's log, before its save: step 2 again
        (work / f"metrics-{index:03d}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    write_step_log_from(work, tmp_path / "train_log.jsonl", num_iterations=2)
    rows = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert [(row["step"], row["loss"]) for row in rows] == [(2, 1.0), (4, 2.5), (6, 3.0)]


def test_verls_trackers_log_to_the_lineages_runs(tmp_path, monkeypatch):
    """verl's trackers get the folders and run ids forgetlab's TRL stages and evaluations use: one run a lineage."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    trackers = TrackingConfig.from_dict({"report_to": ["tensorboard", "wandb"]}, "tracking")
    env = _environment(tmp_path / "metrics-000.jsonl", trackers, "tiny/base/ppo")
    assert env["TENSORBOARD_DIR"] == str(tmp_path / "tracking" / "tensorboard" / "tiny" / "base" / "ppo")
    assert (env["WANDB_RUN_ID"], env["WANDB_MODE"]) == (run_id("tiny/base/ppo"), "offline")
    assert env["VERL_FILE_LOGGER_PATH"] == str(tmp_path / "metrics-000.jsonl") and (tmp_path / "tracking").is_dir()
    untracked = _environment(tmp_path / "m.jsonl", TrackingConfig.from_dict({}, "tracking"), "tiny/base/ppo")
    assert "WANDB_RUN_ID" not in untracked and "TENSORBOARD_DIR" not in untracked
