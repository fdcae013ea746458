"""A stage's prompts as verl's RLHF dataset rows (the schema of verl's data preprocessing examples): the chat
turns, the task as ``data_source``, the reference answer as ``reward_model.ground_truth``, and the whole record
(JSON) in ``extra_info``, which verl hands back to the reward function."""

from __future__ import annotations

import json
import os

from ..io import atomic_path, json_text
from ..prompts import as_prompt
from ..tasks import Task
from ..train.common import training_prompts
from ..train.config import RLStageConfig
from .names import AGENT_NAME

__all__ = ["record_of", "verl_rows", "write_rows"]


def verl_rows(stage: RLStageConfig, tasks: dict[str, Task], records: list[dict]) -> list[dict]:
    """One row per prompt in training order, each prompted as its own task in the stage's format (or the task's);
    a task of several tries names the agent loop of episodes (tries.py)."""
    rows = []
    for index, (record, prompt, style, task) in enumerate(training_prompts(stage, tasks, records)):
        rows.append(
            {
                "agent_name": AGENT_NAME if task.verify_iter > 1 else "single_turn_agent",
                "data_source": task.name,
                "prompt": as_prompt(prompt, True, stage.system_prompt),
                "ability": task.tag,
                "reward_model": {"style": "rule", "ground_truth": task.answer_text(record)},
                # a JSON string: records of several tasks hold fields of different types, which parquet's one
                # schema per column would not
                "extra_info": {"index": index, "format": style, "record": json_text(record)},
            }
        )
    return rows


def record_of(extra_info: dict) -> dict:
    """The task record a row carries (verl_rows' extra_info)."""
    return json.loads(extra_info["record"])


def write_rows(rows: list[dict], path: str | os.PathLike) -> None:
    """``rows`` as a parquet file verl's RLHFDataset reads, written whole or not at all."""
    import pandas as pd

    with atomic_path(path) as tmp:
        pd.DataFrame(rows).to_parquet(tmp, index=False)
