"""A training job stopped mid-run resumes from its last saved state: every step logged once, the same losses as
an uninterrupted run, and the working folder gone once the stage is written."""

import numpy as np
import pytest
from transformers import TrainerCallback

from forgetlab.io import read_jsonl
from forgetlab.tasks import make_task
from forgetlab.train import StageConfig, train_stage
from forgetlab.train.resume import stateful_rewards

TASK = make_task("countdown", {"kind": "countdown"})
RECORDS = TASK.build("train", 16, seed=0)
STAGE = {"method": "sft", "task": "countdown", "lr": 1e-3, "steps": 6, "batch_size": 2, "resume_every": 2,
         "save_every": 3}  # fmt: skip


class Crash(TrainerCallback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt(f"killed at step {self.step}")


def _train(tmp_path, name, stage=STAGE, **kwargs):
    return train_stage(StageConfig.from_dict(stage), TASK, RECORDS, kwargs.pop("model"), tmp_path / name / "model",
                       tmp_path / name / "train_log.jsonl", tmp_path / name / "checkpoints", **kwargs)  # fmt: skip


def _losses(path):
    return {row["step"]: row["loss"] for row in read_jsonl(path) if "loss" in row}


# every 2 steps, or at every step end a moment after the last save (the time-based default, shortened)
@pytest.mark.parametrize("saves", [{"resume_every": 2}, {"resume_every": None, "resume_minutes": 1e-6}])
def test_a_stopped_stage_resumes_from_its_last_save(saves, tiny_model, tmp_path, monkeypatch, capsys):
    stage = {**STAGE, **saves}
    _train(tmp_path, "whole", stage, model=tiny_model)
    import transformers

    init = transformers.Trainer.__init__

    def crashing(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.add_callback(Crash(5))

    monkeypatch.setattr(transformers.Trainer, "__init__", crashing)
    resume = tmp_path / "stopped" / "resume"
    with pytest.raises(KeyboardInterrupt):
        _train(tmp_path, "stopped", stage, model=tiny_model, resume_dir=resume)
    saved = sorted(path.name for path in (resume / "trainer").glob("checkpoint-*"))
    assert saved == ["checkpoint-4"] and not (tmp_path / "stopped" / "model").exists()  # the newest only
    monkeypatch.undo()
    capsys.readouterr()
    _train(tmp_path, "stopped", stage, model=tiny_model, resume_dir=resume)
    assert "resuming from step 4 of 6" in capsys.readouterr().out
    rows = [row["step"] for row in read_jsonl(tmp_path / "stopped" / "train_log.jsonl") if "loss" in row]
    assert rows == [1, 2, 3, 4, 5, 6]  # every step once
    whole, resumed = _losses(tmp_path / "whole" / "train_log.jsonl"), _losses(tmp_path / "stopped" / "train_log.jsonl")
    assert resumed == pytest.approx(whole, rel=1e-4)  # optimizer, scheduler and data order restored
    assert sorted(p.name for p in (tmp_path / "stopped" / "checkpoints").iterdir()) == ["3"]
    assert not resume.exists()


def test_a_saved_state_of_another_configuration_is_not_resumed(tiny_model, tmp_path, capsys):
    resume = tmp_path / "run" / "resume"
    (resume / "trainer" / "checkpoint-4").mkdir(parents=True)
    (resume / "trainer" / "checkpoint-4" / "trainer_state.json").write_text("{}")
    (resume / "job.json").write_text('{"fingerprint": "of another stage"}')
    _train(tmp_path, "run", model=tiny_model, resume_dir=resume)
    out = capsys.readouterr().out
    assert "discarding the saved training state" in out and "resuming" not in out
    steps = [row["step"] for row in read_jsonl(tmp_path / "run" / "train_log.jsonl") if "loss" in row]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_a_stage_shorter_than_resume_minutes_never_saves(tiny_model, tmp_path, monkeypatch):
    from forgetlab.train import resume as module

    saves = []
    monkeypatch.setattr(module.TimedSaveCallback, "on_save", lambda self, *a, **k: saves.append(1))
    _train(tmp_path, "run", {**STAGE, "resume_every": None}, model=tiny_model, resume_dir=tmp_path / "run" / "resume")
    assert saves == [] and (tmp_path / "run" / "model" / "model.safetensors").exists()


GRPO = {"method": "grpo", "task": "countdown", "lr": 1e-3, "steps": 4, "batch_size": 2, "num_generations": 2,
        "max_completion_length": 6, "resume_every": 2}  # fmt: skip


class MemoryLog(TrainerCallback):
    """The stateful rewards' states as training begins and after each step."""

    def __init__(self, trainer):
        self.trainer, self.states = trainer, {}

    def on_train_begin(self, args, state, control, **kwargs):
        self.states["begin"] = self.current()

    def on_step_end(self, args, state, control, **kwargs):
        self.states[state.global_step] = self.current()

    def current(self):
        return {name: reward.state() for name, reward in stateful_rewards(self.trainer).items()}


def _arrays(path) -> dict:
    with np.load(path, allow_pickle=False) as arrays:
        return dict(arrays)


def _same(one: dict, other: dict) -> bool:
    return one.keys() == other.keys() and all(np.array_equal(one[key], other[key]) for key in one)


@pytest.mark.parametrize("memory", [None, {"explore": True}, {"variant": "seed", "explore": True, "explore_warmup": 0}])
def test_a_stopped_rl_stage_resumes_with_the_memory_it_saved(memory, tiny_model, tmp_path, monkeypatch, capsys):
    import transformers

    from forgetlab.rewards import CorrectnessReward

    # a fixed verdict, so that both kinds of memory fill (the tiny model never solves a countdown)
    monkeypatch.setattr(CorrectnessReward, "value", lambda self, task, record, text: float(len(text) % 2 == 0))
    stage, logs, init = {**GRPO, "memory": memory}, [], transformers.Trainer.__init__

    def logged(crash):
        def __init__(self, *args, **kwargs):
            init(self, *args, **kwargs)
            logs.append(MemoryLog(self))
            self.add_callback(logs[-1])
            if crash:
                self.add_callback(Crash(3))

        monkeypatch.setattr(transformers.Trainer, "__init__", __init__)

    logged(crash=False)
    _train(tmp_path, "whole", stage, model=tiny_model)
    logged(crash=True)
    resume = tmp_path / "stopped" / "resume"
    with pytest.raises(KeyboardInterrupt):
        _train(tmp_path, "stopped", stage, model=tiny_model, resume_dir=resume)
    files = {path.name: _arrays(path) for path in (resume / "trainer").glob("*/*.npz")}
    logged(crash=False)
    _train(tmp_path, "stopped", stage, model=tiny_model, resume_dir=resume)
    assert "resuming from step 2 of 4" in capsys.readouterr().out
    whole, stopped, resumed = (log.states for log in logs)
    if memory is None:  # no state beside the trainer's
        assert files == {} and whole[4] == {} and resumed["begin"] == {}
        return
    saved = files.pop("memory-rank0.npz")  # of checkpoint-2, the only one
    assert files == {} and _same(saved, stopped[2]["memory"])  # the memory as it was after step 2
    assert _same(resumed["begin"]["memory"], saved)  # ... and as the resumed run starts
    assert _same(saved, whole[2]["memory"])
    assert _same(resumed[4]["memory"], whole[4]["memory"])  # the run that would have happened
    assert len(saved["successes.counts"]) and len(saved["failures.counts"])
