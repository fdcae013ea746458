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


def perturbed_copy(model_dir: Path, folder: Path, scale: float, seed: int, moves=lambda name: True) -> Path:
    """A copy of the model folder ``model_dir`` in ``folder`` with Gaussian noise of std ``scale`` added to the
    weights whose name ``moves`` selects: a second checkpoint of the same shape."""
    import torch
    from safetensors.torch import load_file, save_file

    for path in model_dir.iterdir():
        if path.name != "model.safetensors":
            (folder / path.name).write_bytes(path.read_bytes())
    generator = torch.Generator().manual_seed(seed)
    tensors = load_file(str(model_dir / "model.safetensors"))
    moved = {
        name: t + scale * torch.randn(t.shape, generator=generator) if moves(name) else t for name, t in tensors.items()
    }
    save_file(moved, str(folder / "model.safetensors"))
    return folder
