"""The report's provenance record: checkpoint hashes, commit, package versions, the config as run."""

import subprocess
from importlib import metadata

import pytest

from forgetlab.models import FAST_PATHS_FILE
from forgetlab.provenance import checkpoint_hash, git_commit, provenance
from forgetlab.report import FIGURES

from .conftest import ROOT


def test_checkpoint_hash_changes_with_the_weights_only(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "config.json").write_text("{}")
    first = checkpoint_hash(tmp_path)
    (tmp_path / "config.json").write_text('{"a": 1}')
    assert checkpoint_hash(tmp_path) == first and len(first) == 64
    (tmp_path / "model.safetensors").write_bytes(b"weightz")
    assert checkpoint_hash(tmp_path) != first


def test_a_folder_without_weights_is_named(tmp_path):
    with pytest.raises(ValueError, match="no weight files"):
        checkpoint_hash(tmp_path)


def test_commit_marks_a_changed_work_tree(tmp_path):
    assert git_commit(tmp_path) is None
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "f").write_text("1")
    subprocess.run([*git, "add", "f"], check=True)
    subprocess.run([*git, "commit", "-qm", "c"], check=True)
    commit = git_commit(tmp_path)
    assert len(commit) == 40
    (tmp_path / "f").write_text("2")
    assert git_commit(tmp_path) == f"{commit}+changes"


def test_provenance_records_config_versions_checkpoints_fast_paths_and_the_install(tmp_path):
    base, trained = tmp_path / "base", tmp_path / "trained"
    for folder in (base, trained):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"w")
    (trained / FAST_PATHS_FILE).write_text('{"shared-prefix": "ran"}')
    torch_version = metadata.version("torch").split("+")[0]
    lock = f"torch=={torch_version}\n    # via forgetlab\npyyaml==0.0.1\nnot-installed==1.0\n"
    (tmp_path / "cpu.lock").write_text(lock)
    record = provenance({"seed": 1}, {"m/base": base, "m/sft": trained}, tmp_path, tmp_path / "cpu.lock")
    assert record["config"] == {"seed": 1} and set(record["checkpoints"]) == {"m/base", "m/sft"}
    assert {"torch", "transformers", "snakemake"} <= set(record["packages"])
    assert record["fast_paths"] == {"m/base": None, "m/sft": {"shared-prefix": "ran"}}
    assert record["install"]["differs_from_lock"] == {
        "pyyaml": {"installed": metadata.version("pyyaml"), "locked": "0.0.1"}
    }  # torch's local label (+cpu) is no difference; a package not installed is left out


def test_every_figure_and_table_of_the_report_has_a_caption():
    captions = {path.stem for path in (ROOT / "report").glob("*.rst")}
    captions_of_tables = {"workflow", "metrics", "predictors", "diagnosis_table", "update_overlap", "provenance"}
    assert set(FIGURES) | captions_of_tables == captions
