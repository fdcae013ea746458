"""forgetlab.compat: the fast paths give TRL's results, say when they did not take effect (simulated by moving or
removing the name each one patches), and no module outside compat reaches into another library's internals."""

import ast
import json
import re

import pytest
import torch

from forgetlab import compat
from forgetlab.compat import trl as trl_compat
from forgetlab.io import read_jsonl
from forgetlab.models import FAST_PATHS_FILE
from forgetlab.tasks import make_task
from forgetlab.train import StageConfig, train_stage

from .conftest import ROOT

TASK = make_task("countdown", {"kind": "countdown"})
RECORDS = TASK.build("train", 16, seed=0)
TRAINING_PATHS = {"labelled-positions", "cpu-head-tiles", "shared-prefix", "shared-prompt-passes"}


@pytest.fixture(autouse=True)
def fresh_record():
    compat.reset()
    yield
    compat.reset()


def _train(stage, model, folder, fast_paths):
    train_stage(stage, TASK, RECORDS, model, folder / "model", folder / "log.jsonl", fast_paths=fast_paths)
    rows = [row for row in read_jsonl(folder / "log.jsonl") if "loss" in row]
    return [row[key] for row in rows for key in ("loss", "grad_norm")], json.loads(
        (folder / "model" / FAST_PATHS_FILE).read_text()
    )


@pytest.mark.parametrize(
    "options",
    [
        {"method": "sft", "batch_size": 3},
        # TRL's rollouts on both sides (forgetlab's decode loop samples other tokens from the same distribution)
        {"method": "grpo", "batch_size": 2, "num_generations": 3, "max_completion_length": 8, "beta": 0.1},
    ],
    ids=["sft", "grpo"],
)
def test_fast_paths_on_and_off_train_to_the_same_losses(options, tiny_model, tmp_path, monkeypatch):
    stage = StageConfig.from_dict({"task": "countdown", "lr": 1e-3, "steps": 2, **options})
    if options["method"] == "grpo":
        from forgetlab.train import grpo
        from forgetlab.train.rl import FiniteReward

        def varied(prompts, completions, **columns):  # the random model earns no task reward: a signal to learn
            return [float(len(str(completion)) % 5) for completion in completions]

        monkeypatch.setattr(grpo, "rollout_function", lambda args, trainer_class, on: None)
        monkeypatch.setattr(grpo, "rl_rewards", lambda *args: ([FiniteReward(varied)], [1.0]))
    fast, fast_record = _train(stage, tiny_model, tmp_path / "fast", True)
    stock, stock_record = _train(stage, tiny_model, tmp_path / "stock", False)
    assert len(fast) == 4 and fast == pytest.approx(stock, rel=1e-4)
    ran = {name for name, state in fast_record.items() if state == "ran"}
    expected = TRAINING_PATHS - ({"shared-prompt-passes"} if options["method"] == "sft" else set())
    assert ran == expected, fast_record
    assert set(stock_record.values()) == {"off (fast_paths: false)"} and set(stock_record) >= expected


def test_stock_values_come_back_when_fast_paths_are_off():
    from trl.trainer import utils

    stock = utils._CHUNKED_LOGPROB_CHUNK_SIZE
    trl_compat.cpu_head_tiles(True)
    trl_compat.labelled_positions_only(True)
    assert utils._CHUNKED_LOGPROB_CHUNK_SIZE == trl_compat.CPU_HEAD_TILE and utils._use_triton(torch.device("cpu"))
    trl_compat.cpu_head_tiles(False)
    trl_compat.labelled_positions_only(False)
    assert stock == utils._CHUNKED_LOGPROB_CHUNK_SIZE and not utils._use_triton(torch.device("cpu"))


def _warned(capsys, name):
    err = capsys.readouterr().err
    assert f"fast path {name!r} not taken with" in err and err.count("warning:") == 1, err
    return err


def test_a_patch_trl_no_longer_reads_is_reported_not_applied(monkeypatch, capsys):
    """TRL's fused head reading the tile size from somewhere else: the module constant is left as TRL set it."""
    from trl.trainer import utils

    original = utils.add_fused_lm_head
    monkeypatch.setattr(utils, "add_fused_lm_head", lambda *args, **kwargs: original(*args, **kwargs))
    stock = utils._CHUNKED_LOGPROB_CHUNK_SIZE
    trl_compat.cpu_head_tiles(True)
    trl_compat.labelled_positions_only(True)
    assert stock == utils._CHUNKED_LOGPROB_CHUNK_SIZE and not utils._use_triton(torch.device("cpu"))
    record = compat.record()
    assert record["cpu-head-tiles"].startswith("fell back: TRL's fused LM head no longer reads")
    assert record["labelled-positions"].startswith("fell back")
    err = capsys.readouterr().err
    assert f"with trl {compat.version('trl')}" in err and "running the slower path" in err


def test_a_removed_name_is_reported(monkeypatch, capsys):
    from trl import GRPOTrainer
    from trl.trainer import utils

    monkeypatch.delattr(utils, "_CHUNKED_LOGPROB_CHUNK_SIZE")
    trl_compat.cpu_head_tiles(True)
    assert "_CHUNKED_LOGPROB_CHUNK_SIZE is gone" in _warned(capsys, "cpu-head-tiles")
    monkeypatch.delattr(GRPOTrainer, "_get_per_token_logps_and_entropies")
    assert trl_compat.logps_pass_override(GRPOTrainer, lambda *args: None) is GRPOTrainer
    assert "_get_per_token_logps_and_entropies is gone" in _warned(capsys, "shared-prompt-passes")
    monkeypatch.delattr(GRPOTrainer, "_tokenize_prompts")
    from forgetlab.train.shared import rollout_function

    args = type(
        "Args", (), dict(top_p=1.0, top_k=0, min_p=None, repetition_penalty=1.0, use_vllm=False, generation_kwargs=None)
    )
    assert rollout_function(args, GRPOTrainer) is None
    assert "_tokenize_prompts is gone" in _warned(capsys, "decode-rollouts")


def test_rollouts_trl_never_asks_for_are_reported_after_the_first_step(tiny_model, tmp_path, monkeypatch, capsys):
    """A TRL that takes ``rollout_func`` but no longer calls it: the job says so after its first step."""
    from trl import GRPOTrainer

    init = GRPOTrainer.__init__
    monkeypatch.setattr(GRPOTrainer, "__init__", lambda self, *a, rollout_func=None, **k: init(self, *a, **k))
    stage = StageConfig.from_dict({"method": "grpo", "task": "countdown", "steps": 1, "batch_size": 2,
                                   "num_generations": 2, "max_completion_length": 4})  # fmt: skip
    _, record = _train(stage, tiny_model, tmp_path, True)
    assert record["decode-rollouts"] == "fell back: TRL never called rollout_func in the first step"
    assert record["shared-prompt-passes"] == "ran"
    _warned(capsys, "decode-rollouts")


def test_a_prefix_no_pass_shares_is_reported(tiny_model, capsys):
    from forgetlab.models import load_model
    from forgetlab.train.shared import run_shared_prefix_once

    model = load_model(tiny_model, device="cpu", dtype="float32")
    run_shared_prefix_once(model)
    model.train()
    model(input_ids=torch.arange(40).reshape(2, 20))  # two rows, nothing in common
    compat.check_expected()
    assert compat.record()["shared-prefix"].startswith("fell back: no training pass")
    _warned(capsys, "shared-prefix")
    compat.reset()
    run_shared_prefix_once(model)
    model(input_ids=torch.arange(20).repeat(2, 1))
    compat.check_expected()
    assert compat.record() == {"shared-prefix": "ran"}


def test_a_gguf_loader_that_bypasses_gguf_reader_is_reported(capsys):
    from forgetlab.compat.gguf import read_once

    with read_once(True):
        pass  # transformers opening the file some other way
    assert "did not open the file through gguf.GGUFReader" in _warned(capsys, "gguf-read-once")
    compat.reset()
    with read_once(False):
        pass
    assert compat.record() == {"gguf-read-once": "off (fast_paths: false)"}


# Names forgetlab takes from other libraries that are private, experimental or version-specific: only
# forgetlab/compat/ may use them.
VERSION_SPECIFIC = {"fused_lm_head", "eos_token_ids", "rollout_func", "hf_quantizer", "is_quantized"}


def _own_names(files) -> set[str]:
    """Every name forgetlab itself defines (functions, classes, attributes, keywords of its own signatures)."""
    names = set()
    for tree in files.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
    return names


def test_no_module_outside_compat_reaches_into_another_librarys_internals():
    sources = [*ROOT.glob("forgetlab/**/*.py"), *ROOT.glob("workflow_scripts/*.py"), *ROOT.glob("benchmarks/*.py")]
    files = {path: ast.parse(path.read_text()) for path in sources}
    own = _own_names(files) - VERSION_SPECIFIC
    found = []
    for path, tree in files.items():
        if "compat" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(tree):
            name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "arg", None)
            if isinstance(node, ast.ImportFrom) and re.search(r"(^|\.)(_[a-z]|experimental)", node.module or ""):
                found.append(f"{path.name}:{node.lineno} imports {node.module}")
            private = name and name.startswith("_") and not name.startswith("__")
            if name and ((private and name not in own) or name in VERSION_SPECIFIC):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {name}")
    for path in [ROOT / "Snakefile", *ROOT.glob("rules/*.smk")]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"""\.\s*_[a-z]\w*|\[["']_""", line.split("#")[0]):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "reaches into library internals outside forgetlab/compat/:\n" + "\n".join(found)


def test_sampling_the_decode_loop_does_not_do_is_said_in_the_log(capsys):
    from trl import GRPOTrainer

    from forgetlab.train.shared import rollout_function

    fields = dict(top_p=0.9, top_k=0, min_p=None, repetition_penalty=1.0, use_vllm=False, generation_kwargs=None)
    assert rollout_function(type("Args", (), fields), GRPOTrainer) is None
    assert "samples with top_p, top_k" in _warned(capsys, "decode-rollouts")
    assert compat.record()["decode-rollouts"].startswith("fell back: the stage samples with top_p")
