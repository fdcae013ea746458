import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_CONFIG = ROOT / "tests" / "config" / "tiny.yaml"

# Everything offline: tests never reach a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Every Snakemake start imports the SLURM executor plugin, which runs `scontrol show config` (10 s timeout).
# Where a slurm.conf exists but no controller answers, that costs ~10 s per start; an empty config makes
# scontrol fail at once. (A missing file would be worse: SLURM retries it for 60 s.) The SLURM test passes
# its own cluster's SLURM_CONF.
if not os.environ.get("SLURM_CONF"):
    os.environ["SLURM_CONF"] = "/dev/null"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A 2-layer random Llama with the SmolLM2 tokenizer, materialised once per session."""
    from forgetlab.models import materialise

    return materialise({"source": "tiny-random"}, tmp_path_factory.mktemp("models") / "tiny")


def run_forgetlab(*args, cwd=None):
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "forgetlab", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )
