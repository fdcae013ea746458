"""Long commands say how far they are: a line per training step on stderr and the step log growing beside its
target, a line per batch of an evaluation, KL or likelihood pass."""

import re
import shutil

import pytest
from transformers import TrainerCallback

from forgetlab import progress
from forgetlab.cli import main
from forgetlab.io import read_jsonl

from .conftest import TEST_CONFIG


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(TEST_CONFIG, tmp_path / "tiny.yaml")
    return tmp_path


def _lines(err: str, label: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(f"{label}:")]


class Watch(TrainerCallback):
    """What a user watching the job sees at each step end (before the trainer logs that step): how many rows the
    growing step log has, and whether the finished log exists yet."""

    def __init__(self, folder):
        self.folder, self.seen = folder, []

    def on_step_end(self, args, state, control, **kwargs):
        partial = self.folder / "train_log.jsonl.partial"
        rows = len(read_jsonl(partial)) if partial.exists() else None
        self.seen.append((state.global_step, rows, (self.folder / "train_log.jsonl").exists()))


def test_training_says_each_step_and_its_log_grows_where_it_can_be_watched(here, capsys, monkeypatch, tiny_model):
    import transformers

    main(
        ["data", "--task", "countdown", "--split", "train", "--n", "8", "--out", "train.jsonl", "--config", "tiny.yaml"]
    )
    watch, init = Watch(here), transformers.Trainer.__init__

    def watched(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.add_callback(watch)

    monkeypatch.setattr(transformers.Trainer, "__init__", watched)
    capsys.readouterr()
    args = ["--config", "tiny.yaml", "--stage", "sft-countdown", "--model", tiny_model, "--data", "train.jsonl"]
    assert main(["train", *map(str, args), "--out", "m", "--threads", "1"]) == 0
    err = capsys.readouterr().err
    steps = [line for line in err.splitlines() if line.startswith("step ")]
    assert re.fullmatch(r"step 1/2: loss [\d.e+-]+, [\d.]+ s; [\d.]+ s, [\d.]+ s left", steps[0]), err
    assert re.fullmatch(r"step 2/2: loss [\d.e+-]+, [\d.]+ s; [\d.]+ s", steps[1]), err  # the end: no time left
    assert len(steps) == 2 and re.search(r"^trained 2/2 steps in [\d.]+ s$", err, re.M), err
    # at each step end the rows of the steps before it are in the partial log, and no finished log yet
    assert watch.seen == [(1, 0, False), (2, 1, False)], watch.seen
    assert not (here / "train_log.jsonl.partial").exists()
    assert [row["step"] for row in read_jsonl(here / "train_log.jsonl") if "loss" in row] == [1, 2]


@pytest.mark.parametrize("every", [0, None])
def test_evaluation_says_each_batch(here, capsys, monkeypatch, tiny_model, every):
    if every is not None:
        monkeypatch.setattr(progress, "EVERY_SECONDS", every)
    args = ["eval", "--model", tiny_model, "--task", "arithmetic", "--n", "5", "--batch-size", "2"]
    assert main([*map(str, args), "--max-new-tokens", "2", "--out", "e.json"]) == 0
    err = capsys.readouterr().err
    lines = _lines(err, "eval arithmetic")
    counts = [re.fullmatch(r"eval arithmetic: (\d)/5 items, [\d.]+ s(, [\d.]+ s left)?", line) for line in lines]
    assert all(counts), err
    # every batch of 2, or (a batch a second, lines at most every 10 s) the first and the last
    assert [int(match.group(1)) for match in counts] == ([2, 4, 5] if every == 0 else [2, 5]), err
    assert all(bool(match.group(2)) == (match.group(1) != "5") for match in counts), err  # time left until the end
    assert [line.split(",")[0] for line in _lines(err, "loglik arithmetic")] == ["loglik arithmetic: 5/5 items"]


def test_the_time_left_is_the_pace_so_far():
    assert progress.pace(2, 8, 6.0) == "6.0 s, 18 s left"
    assert progress.pace(8, 8, 24.0) == "24 s" and progress.pace(0, 8, 0.5) == "0.5 s"


def test_kl_says_each_batch_sampled_and_scored(here, capsys, monkeypatch, tiny_model):
    monkeypatch.setattr(progress, "EVERY_SECONDS", 0)
    args = ["kl", "--base", tiny_model, "--model", tiny_model, "--task", "arithmetic", "--n", "10"]
    assert main([*map(str, args), "--max-new-tokens", "2", "--out", "kl.json"]) == 0
    err = capsys.readouterr().err
    for label in ("sample arithmetic", "kl arithmetic"):  # batches of 8
        assert [line.split(",")[0] for line in _lines(err, label)] == [f"{label}: 8/10 items", f"{label}: 10/10 items"]
