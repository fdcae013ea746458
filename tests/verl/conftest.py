"""The verl adapter against verl's own classes, on the CPU: these tests run in verl's environment
(`bash requirements/venv.sh verl`, then `.venvs/verl/bin/python -m pytest tests/verl`) and skip elsewhere."""

import pytest

from forgetlab.tasks import make_task
from forgetlab.train.config import StageConfig
from forgetlab.verl.settings import StageFiles

# each module skips where verl cannot be imported (a conftest cannot skip)
VERL_ONLY = "verl's environment only: bash requirements/venv.sh verl"

TASK_SPEC = {"kind": "countdown", "format": "answer", "n_train": 8}


@pytest.fixture
def task():
    return make_task("countdown", TASK_SPEC)


def verl_stage(method: str = "ppo", **options) -> StageConfig:
    spec = {"method": method, "engine": "verl", "task": "countdown", "steps": 8, "batch_size": 4, **options}
    return StageConfig.from_dict(spec, f"stages.{method}")


@pytest.fixture
def files(tiny_model, tmp_path):
    return StageFiles(
        model=str(tiny_model), train=str(tmp_path / "train.parquet"), reward_spec=str(tmp_path / "reward.json"),
        work=str(tmp_path / "saves"), experiment="tiny/base/ppo",
    )  # fmt: skip
