"""Outputs never half-written, and output paths checked before any work starts."""

import os

import pytest

from forgetlab.io import atomic_dir, atomic_path, check_writable, read_jsonl, write_json, write_jsonl


def test_a_failed_write_leaves_no_file(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("job died")
    assert list(tmp_path.iterdir()) == []


def test_jsonl_round_trip(tmp_path):
    write_jsonl([{"a": 1}, {"b": [2]}], tmp_path / "rows.jsonl")
    assert read_jsonl(tmp_path / "rows.jsonl") == [{"a": 1}, {"b": [2]}]


def test_an_output_under_a_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ValueError, match=r"--out 'afile/deeper/x.json': .*/afile is a file, not a folder"):
        check_writable("afile/deeper/x.json", "--out")
    assert check_writable(tmp_path / "new" / "folder" / "x.json") == tmp_path / "new" / "folder" / "x.json"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_output_in_a_read_only_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ValueError, match=r"cannot write in .*locked"):
        check_writable(locked / "x.json")


def test_a_write_that_fails_names_the_target_not_its_temporary(tmp_path):
    with pytest.raises(OSError) as error:
        write_json({"a": 1}, "/sys/forgetlab-test.json")  # no new file in /sys, even for root
    assert error.value.filename == "/sys/forgetlab-test.json"
    with pytest.raises(OSError) as error, atomic_dir(tmp_path / "model") as tmp:
        (tmp / "missing" / "config.json").write_text("{}")
    assert error.value.filename == str(tmp_path / "model" / "missing" / "config.json")
    assert list(tmp_path.iterdir()) == []  # the temporary folder is gone


def test_an_interrupted_write_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "out.jsonl") as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_json_is_strict_nan_and_infinity_are_null(tmp_path):
    import json

    import numpy as np

    from forgetlab.io import json_text

    data = {"r2": float("nan"), "kl": [1.0, float("inf")], "n": np.float32("nan"), "ok": np.float64(0.5)}
    expected = {"r2": None, "kl": [1.0, None], "n": None, "ok": 0.5}
    assert json.loads(json_text(data), parse_constant=_refuse) == expected
    write_json(data, tmp_path / "a.json")
    write_jsonl([data], tmp_path / "a.jsonl")
    assert json.loads((tmp_path / "a.json").read_text(), parse_constant=_refuse) == expected
    assert read_jsonl(tmp_path / "a.jsonl") == [expected]


def _refuse(name):
    raise AssertionError(f"{name} is not JSON")
