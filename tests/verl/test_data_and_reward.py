"""The prompts as verl's dataset reads them, forgetlab's rewards as verl's reward manager calls them, and verl's
metrics as forgetlab's step log."""

import pytest

from .conftest import VERL_ONLY

pytest.importorskip("verl", reason=VERL_ONLY)
import json

import numpy as np
import torch
from transformers import AutoTokenizer
from verl import DataProto
from verl.trainer.ppo.reward import load_reward_manager
from verl.utils.dataset.rl_dataset import RLHFDataset
from verl.utils.tracking import FileLogger

from forgetlab.io import read_jsonl
from forgetlab.prompts import as_prompt, render_prompt
from forgetlab.verl.data import record_of, verl_rows, write_rows
from forgetlab.verl.log import step_rows
from forgetlab.verl.reward import compute_score, write_spec
from forgetlab.verl.settings import verl_settings

from .conftest import TASK_SPEC, verl_stage
from .test_settings import compose_verl


def test_verls_dataset_reads_the_rows_as_forgetlab_prompts_them(task, files, tiny_model):
    stage = verl_stage("grpo", system_prompt="Solve it.")
    records = task.build("train", 4, seed=0)
    rows = verl_rows(stage, {"countdown": task}, records)
    write_rows(rows, files.train)
    config = compose_verl(verl_settings(stage, files, rows=len(rows), max_prompt_length=256, gpus=1))
    dataset = RLHFDataset(files.train, AutoTokenizer.from_pretrained(tiny_model), config.data)
    assert len(dataset) == 4
    for index, record in enumerate(records):
        item = dataset[index]
        assert list(item["raw_prompt"]) == as_prompt(render_prompt(task, record, "answer"), True, "Solve it.")
        assert item["data_source"] == "countdown" and item["reward_model"]["ground_truth"] == task.answer_text(record)
        assert record_of(item["extra_info"]) == record


def _sample(tokenizer, text: str, row: dict) -> DataProto:
    """One rollout as verl's agent loop hands it to the reward manager: the response tokens, right-padded, and the
    row's fields."""
    prompt = tokenizer("prompt", add_special_tokens=False)["input_ids"]
    response = tokenizer(text, add_special_tokens=False)["input_ids"]
    padding = 4
    responses = torch.tensor([response + [0] * padding])
    attention = torch.tensor([[1] * len(prompt) + [1] * len(response) + [0] * padding])
    fields = {key: np.array([row[key]], dtype=object) for key in ("data_source", "reward_model", "extra_info")}
    return DataProto.from_dict(tensors={"responses": responses, "attention_mask": attention}, non_tensors=fields)


def test_verls_reward_manager_scores_with_forgetlabs_rewards(task, files, tiny_model):
    stage = verl_stage("grpo", rewards={"correct": 1.0, "format": 0.5, "length": 0.1}, max_completion_length=16)
    records = task.build("train", 2, seed=0)
    rows = verl_rows(stage, {"countdown": task}, records)
    write_spec(stage.to_dict(), {"countdown": TASK_SPEC}, str(tiny_model), files.reward_spec)
    config = compose_verl(verl_settings(stage, files, rows=8, max_prompt_length=256, gpus=1))
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    manager = load_reward_manager(config, tokenizer)  # as verl's reward loop worker builds it
    right = f"<answer>{task.answer_text(records[0])}</answer>"
    result = manager.loop.run_until_complete(manager.run_single(_sample(tokenizer, right, rows[0])))
    tokens = len(tokenizer(right, add_special_tokens=False)["input_ids"])
    length = max(0.0, 1 - tokens / 16)
    assert result["reward_extra_info"]["correct"] == 1.0 and result["reward_extra_info"]["length"] == length
    assert result["reward_score"] == pytest.approx(1.0 + 0.5 + 0.1 * length)
    wrong = manager.loop.run_until_complete(manager.run_single(_sample(tokenizer, "no idea", rows[1])))
    assert (wrong["reward_extra_info"]["correct"], wrong["reward_extra_info"]["format"]) == (0.0, 0.0)


def test_a_reward_that_is_not_finite_stops_the_run(task, files, tiny_model, monkeypatch):
    stage = verl_stage("grpo")
    rows = verl_rows(stage, {"countdown": task}, task.build("train", 1, seed=0))
    write_spec(stage.to_dict(), {"countdown": TASK_SPEC}, str(tiny_model), files.reward_spec)
    monkeypatch.setattr("forgetlab.rewards.CorrectnessReward.__call__", lambda self, *a, **k: [float("nan")])
    with pytest.raises(FloatingPointError, match="correct"):
        compute_score("countdown", "x", "", rows[0]["extra_info"], spec=files.reward_spec)


def test_verls_file_log_becomes_forgetlabs_step_log(tmp_path, monkeypatch):
    path = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("VERL_FILE_LOGGER_PATH", str(path))
    logger = FileLogger("forgetlab", "run")  # verl's own writer
    for batch in (1, 2):
        logger.log({"actor/pg_loss": 0.5 / batch, "critic/score/mean": batch * 1.0, "critic/vf_loss": 0.1,
                    "response_length/mean": 12.0, "timing_s/gen": np.float32(1.5)}, step=batch)  # fmt: skip
    logger.finish()
    rows = step_rows(read_jsonl(path), num_iterations=4)
    assert [row["step"] for row in rows] == [4, 8]  # optimizer steps: 4 per batch
    assert (rows[1]["loss"], rows[1]["reward"], rows[1]["value_loss"]) == (0.25, 2.0, 0.1)
    assert rows[0]["completions/mean_length"] == 12.0 and rows[0]["verl/timing_s/gen"] == 1.5
    assert json.loads(json.dumps(rows)) == rows
