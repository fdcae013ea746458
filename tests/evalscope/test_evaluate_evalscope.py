"""evalscope's working path, in its environment of its own (README: Test):

    bash requirements/venv.sh evalscope && .venvs/evalscope/bin/python -m pytest tests/evalscope

The core install's python makes the base model with the real model_base rule (transformers 5 writes every
checkpoint); Snakemake started by this environment's python then runs the real evaluate_evalscope rule on it, the
adapter under this python (Snakemake runs a rule's script with its own interpreter when no conda env is used), on
MMLU from local files in the layout of its hub repository. Elsewhere (the core suite) every test here is skipped.
"""

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys

import pytest
import torch

pytest.importorskip("evalscope", reason="evalscope's own environment only: bash requirements/venv.sh evalscope")

from forgetlab.evaluate.evalscope_benchmarks import (
    EVALSCOPE_BENCHMARKS,
    EVALSCOPE_GENERATION_SETTINGS,
    EVALSCOPE_VERSION,
)
from forgetlab.report.tables import EVALSCOPE_METRICS, metrics_table

from ..conftest import ROOT, TEST_CONFIG

pytestmark = pytest.mark.workflow

# the python this environment was made from (requirements/venv.sh: the core install's), where transformers 5 runs
CORE_PYTHON = sys._base_executable
SUBJECTS, TEST_ITEMS, DEV_ITEMS, LIMIT = ("anatomy", "astronomy"), 3, 2, 2
TARGET = "results/tiny/base/evalscope/mmlu.json"
ADAPTER = ROOT / "workflow_scripts" / "evaluate_evalscope.py"


def write_mmlu(folder):
    """MMLU as its hub repository (cais/mmlu) lays it out: README.md's configs name each split's files; ``all``
    holds every subject, which evalscope splits by each record's ``subject``."""
    (folder / "all").mkdir(parents=True)
    for split, n in (("test", TEST_ITEMS), ("dev", DEV_ITEMS)):
        records = [
            {"question": f"Which number is {i}?", "subject": subject, "choices": [str(i + k) for k in range(4)],
             "answer": i % 4}
            for subject in SUBJECTS for i in range(n)
        ]  # fmt: skip
        (folder / "all" / f"{split}.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    (folder / "README.md").write_text(
        "---\nconfigs:\n- config_name: all\n  data_files:\n  - split: test\n    path: all/test.jsonl\n"
        "  - split: dev\n    path: all/dev.jsonl\n---\n"
    )


def snakemake(python, workdir, *args):
    """Snakemake under ``python`` on tiny.yaml plus the evalscope overlay, this checkout's forgetlab first."""
    command = [python, "-m", "snakemake", "--snakefile", ROOT / "Snakefile", "--directory", workdir, "--cores", "1",
               *args, "--configfile", TEST_CONFIG, workdir / "evalscope.yaml"]  # fmt: skip
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    env["HF_DATASETS_CACHE"] = str(workdir / "hf-datasets")  # datasets caches the local files' tables there
    result = subprocess.run(list(map(str, command)), capture_output=True, text=True, timeout=600, env=env)
    logs = "".join(f"\n--- {log}:\n{log.read_text()[-3000:]}" for log in sorted(workdir.glob("logs/**/*.log")))
    assert result.returncode == 0, result.stderr[-3000:] + logs
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A run's folder holding the evalscope overlay, MMLU's files and the base model the core install made."""
    workdir = tmp_path_factory.mktemp("evalscope")
    write_mmlu(workdir / "data" / "mmlu")
    overlay = {"evaluate": {"evalscope": {
        "tasks": ["mmlu"], "limit": LIMIT, "few_shot": 1, "batch_size": 4, "dataset_dir": str(workdir / "data"),
        "generation_config": {"max_tokens": 8, "do_sample": False},
    }}}  # fmt: skip
    (workdir / "evalscope.yaml").write_text(json.dumps(overlay))  # YAML reads JSON
    snakemake(CORE_PYTHON, workdir, "results/tiny/base/model")
    return workdir


def test_the_evalscope_rule_runs_here_and_its_accuracy_enters_the_table_as_acc(workdir):
    # this environment runs the evalscope rule alone: the model is the core's, made above
    result = snakemake(sys.executable, workdir, TARGET, "--allowed-rules", "evaluate_evalscope")
    assert "rule evaluate_evalscope:" in result.stdout + result.stderr
    metrics = json.loads((workdir / TARGET).read_text())
    assert metrics["task"] == "mmlu" and metrics["backend"] == "evalscope"
    assert metrics["n"] == len(SUBJECTS) * LIMIT  # evalscope's limit counts per subject
    scores = {name: value for name, value in metrics.items() if name not in ("task", "backend", "n")}
    assert scores and set(scores) <= set(EVALSCOPE_METRICS), f"a metric forgetlab does not name: {scores}"
    # the report's table: evalscope's average accuracy as acc, with a binomial interval over its items
    entry = {"model": "tiny", "lineage": "base", "stage": "base", "task": "mmlu"}
    table = metrics_table([entry], [metrics]).set_index("metric")
    acc = table.loc["acc"]
    assert 0 <= acc["value"] <= 1 and acc["value"] == scores[next(n for n in scores if EVALSCOPE_METRICS[n] == "acc")]
    half = 1.96 * math.sqrt(acc["value"] * (1 - acc["value"]) / metrics["n"])
    assert acc["ci_low"] == pytest.approx(acc["value"] - half) and acc["ci_high"] == pytest.approx(acc["value"] + half)


LOGITS = """
import sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
tokenizer, model = AutoTokenizer.from_pretrained(sys.argv[1]), AutoModelForCausalLM.from_pretrained(sys.argv[1])
text = tokenizer.apply_chat_template([{"role": "user", "content": "Which number is 3?"}], tokenize=False,
                                     add_generation_prompt=True)
ids = tokenizer(text, return_tensors="pt").input_ids
with torch.no_grad():
    torch.save({"text": text, "ids": ids, "logits": model(ids).logits}, sys.argv[2])
"""


def logits(python, model_dir, out):
    result = subprocess.run([python, "-c", LOGITS, str(model_dir), str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return torch.load(out)


# SmolLM2's RoPE base (transformers 4's default is 10000), and Llama 3.1's scaling (on a short context)
ROPES = {
    "base": {"rope_type": "default", "rope_theta": 100000.0},
    "scaled": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 16},
}  # fmt: skip


@pytest.mark.parametrize("rope", ROPES.values(), ids=ROPES.keys())
def test_evalscope_runs_the_model_forgetlab_wrote(workdir, tmp_path, rope):
    """The adapter hands evalscope (transformers 4) a view of the checkpoint (transformers 5): the same prompt, token
    ids and logits as the core computes, with RoPE settings other than transformers 4's default."""
    model = shutil.copytree(workdir / "results/tiny/base/model", tmp_path / "model")
    config = json.loads((model / "config.json").read_text())
    config["rope_parameters"] = rope
    (model / "config.json").write_text(json.dumps(config))
    spec = importlib.util.spec_from_file_location("evaluate_evalscope", ADAPTER)
    adapter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(adapter)
    view = adapter.transformers4_view(str(model), str(tmp_path / "view"))
    core, here = logits(CORE_PYTHON, model, tmp_path / "core.pt"), logits(sys.executable, view, tmp_path / "here.pt")
    assert int(config["transformers_version"].split(".")[0]) >= 5  # the core wrote it
    assert here["text"] == core["text"] and here["ids"].tolist() == core["ids"].tolist()
    assert torch.allclose(here["logits"], core["logits"], atol=1e-5)
    # with config.json as transformers 5 wrote it, transformers 4 runs the model with its default RoPE base
    plain = shutil.copytree(view, tmp_path / "plain", symlinks=True)
    shutil.copy(model / "config.json", plain / "config.json", follow_symlinks=False)
    plain = logits(sys.executable, plain, tmp_path / "plain.pt")
    assert not torch.allclose(plain["logits"], core["logits"], atol=1e-3)


def test_forgetlabs_lists_of_evalscope_names_are_evalscopes():
    """forgetlab checks a config's benchmark names and generation settings before any job, without evalscope."""
    import evalscope
    from evalscope.api.model import GenerateConfig
    from evalscope.api.registry import BENCHMARK_REGISTRY

    assert evalscope.__version__ == EVALSCOPE_VERSION
    # data_collection mixes other benchmarks from a collection file: no benchmark of its own
    assert set(BENCHMARK_REGISTRY) - {"data_collection"} == EVALSCOPE_BENCHMARKS
    assert set(GenerateConfig.model_fields) == EVALSCOPE_GENERATION_SETTINGS
