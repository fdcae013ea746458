"""What a new user meets before and around a command's work: every help page, outputs checked before any model
loads, one line for Ctrl-C or a broken model folder, bounds on the options."""

import argparse
import json
import re
import shutil
import time

import numpy as np
import pytest

from forgetlab.cli import build_parser, main
from forgetlab.io import write_jsonl

from .conftest import TEST_CONFIG


def _parsers(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """(argv prefix, parser) of every command and nested command, and of each choice of a positional argument
    (``analyse svd``), depth first."""
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*prefix, name))
        elif not action.option_strings and action.choices and action.dest != "help":
            for choice in action.choices:
                yield (*prefix, choice), parser


def test_every_command_and_subcommand_prints_its_help(capsys):
    walked = list(_parsers(build_parser()))
    assert {"eval", "kl", "train", "restore", "fit", "schema"} <= {argv[0] for argv, _ in walked if argv}
    assert ("analyse", "svd") in {argv for argv, _ in walked}
    for argv, _ in walked:
        with pytest.raises(SystemExit) as exit_:
            build_parser().parse_args([*argv, "--help"])
        out = capsys.readouterr().out
        assert exit_.value.code == 0, argv
        assert out.startswith("usage: forgetlab") and len(out.splitlines()) > 2, argv


def forgetlab(capsys, *args):
    """(exit code, stdout, stderr) of one in-process command."""
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(TEST_CONFIG, tmp_path / "tiny.yaml")
    return tmp_path


def _no_work(monkeypatch):
    """Loading a model or tokenizer, reading weights or fitting fails the test: no work may start."""
    import transformers

    from forgetlab.analysis import weights
    from forgetlab.report import fits

    def started(*args, **kwargs):
        raise AssertionError("work started before the outputs were checked")

    for owner, name in [
        (transformers.AutoModelForCausalLM, "from_pretrained"),
        (transformers.AutoTokenizer, "from_pretrained"),
        (weights.WeightReader, "__init__"),
        (fits, "fit_predictors"),
    ]:
        monkeypatch.setattr(owner, name, started)


# /sys and /proc refuse new files even to root, where a read-only folder (chmod) would not
UNWRITABLE = ["/sys/forgetlab-test/", "/proc/forgetlab-test/out.json", "/sys/forgetlab-test.json"]


@pytest.mark.parametrize(
    "command",
    [
        "train --config tiny.yaml --stage sft-countdown --model {model} --data train.jsonl --out {out}",
        "train --config tiny.yaml --stage sft-countdown --model {model} --data train.jsonl --out m --log {out}",
        "train --config tiny.yaml --stage sft-countdown --model {model} --data train.jsonl --out m --checkpoints {out}",
        "base --config tiny.yaml --model tiny --out {out}",
        "eval --model {model} --task arithmetic --out {out}",
        "kl --base {model} --model {model} --task arithmetic --out {out}",
        "analyse svd --reference {model} --model {model} --out {out}",
        "analyse drift --reference {model} --model {model} --task arithmetic --out {out}",
        "restore --reference {model} --model {model} --mode directions --fraction 0.5 --out {out}",
        "fit --metrics metrics.csv --out {out}",
        "data --task arithmetic --split test --out {out}",
        "score --task arithmetic --input rows.jsonl --out {out}",
        "schema --out {out}",
    ],
)
@pytest.mark.parametrize("out", UNWRITABLE)
def test_an_unwritable_output_fails_at_once_before_any_work(here, capsys, monkeypatch, tiny_model, command, out):
    write_jsonl([{"numbers": [1, 2], "target": 3, "answer": "1 + 2"}], here / "train.jsonl")
    write_jsonl([{"question": "1 + 1", "answer": "2", "completion": "2"}], here / "rows.jsonl")
    (here / "metrics.csv").write_text("model,lineage,step,task,metric,value,method\n")
    _no_work(monkeypatch)
    started = time.monotonic()
    code, stdout, err = forgetlab(capsys, *command.format(model=tiny_model, out=out).split())
    assert time.monotonic() - started < 30
    assert code == 2 and stdout == "" and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1 and f"{out!r}: cannot " in err, err  # names the path as given
    assert not (here / "m").exists()


def test_a_corrupted_weights_file_is_one_line_naming_it(here, capsys, tiny_model):
    broken = here / "broken"
    shutil.copytree(tiny_model, broken)
    weights = (broken / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(weights[: len(weights) // 2])  # a copy cut short
    code, out, err = forgetlab(capsys, "eval", "--model", broken, "--task", "arithmetic", "--out", "e.json")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert f"--model '{broken}': model.safetensors is not a valid safetensors file" in err
    assert not (here / "e.json").exists()


@pytest.mark.parametrize("command", ["eval", "kl"])
def test_ctrl_c_is_one_line_exit_130_and_no_output(here, capsys, monkeypatch, tiny_model, command):
    from forgetlab.evaluate import checkpoint
    from forgetlab.io import atomic_path

    def interrupted(*args, **kwargs):
        with atomic_path(here / "e.json") as tmp:  # a write under way when Ctrl-C comes
            tmp.write_text("{")
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "evaluate_checkpoint" if command == "eval" else "checkpoint_kl", interrupted)
    models = ["--model", tiny_model] if command == "eval" else ["--base", tiny_model, "--model", tiny_model]
    code, out, err = forgetlab(capsys, command, *models, "--task", "arithmetic", "--out", "e.json")
    assert code == 130 and out == ""
    lines = err.strip().splitlines()  # the task note, then the one line
    assert lines[-1] == f"forgetlab {command}: interrupted" and "Traceback" not in err, err
    assert list(here.glob("*e.json*")) == []


@pytest.mark.parametrize(
    "section, entry, field",
    [
        ("evaluate", {"tasks": ["arithmetic"], "max_new_tokens": 100_000_000}, "max_new_tokens"),
        ("evaluate.kl", {"max_new_tokens": 100_000_000}, "max_new_tokens"),
        ("stages.grpo", {"method": "grpo", "task": "t", "lr": 1e-5, "steps": 1, "max_completion_length": 100_000_000},
         "max_completion_length"),
    ],
)  # fmt: skip
def test_generation_lengths_are_bounded_in_a_config(section, entry, field):
    from forgetlab.evaluate.config import MAX_NEW_TOKENS, EvaluateConfig, KLConfig
    from forgetlab.options import ConfigError
    from forgetlab.train.config import StageConfig

    cls = {"evaluate": EvaluateConfig, "evaluate.kl": KLConfig, "stages.grpo": StageConfig}[section]
    with pytest.raises(
        ConfigError, match=rf"^{section}.{field}: 100000000 is greater than the maximum of {MAX_NEW_TOKENS}$"
    ):
        cls.from_dict(entry, section)


@pytest.mark.parametrize("command", ["eval", "kl"])
def test_max_new_tokens_is_bounded_on_the_command_line_and_by_the_models_context(here, capsys, tiny_model, command):
    from forgetlab.evaluate.config import MAX_NEW_TOKENS

    models = ["--model", tiny_model] if command == "eval" else ["--base", tiny_model, "--model", tiny_model]
    args = [command, *models, "--task", "arithmetic", "--n", "2", "--out", "e.json", "--max-new-tokens"]
    with pytest.raises(SystemExit) as exit_:
        main([*map(str, args), "100000000"])
    section = "evaluate" if command == "eval" else "evaluate.kl"
    assert exit_.value.code == 2
    assert (
        f"{section}.max_new_tokens: 100000000 is greater than the maximum of {MAX_NEW_TOKENS}"
        in capsys.readouterr().err
    )
    started = time.monotonic()
    code, out, err = forgetlab(capsys, *args, "4000")  # within the bound, beyond the tiny model's 2048 positions
    assert time.monotonic() - started < 60  # refused before generating, not after 4000 decode steps
    assert code == 2 and out == "" and not (here / "e.json").exists()
    context = r"the model's context of 2048 tokens \(max_position_embeddings\)"
    left = r"after the longest prompt's \d+ tokens at most \d+ are left$"
    assert re.search(rf"max_new_tokens 4000 does not fit {context}: {left}", err.strip()), err


@pytest.mark.parametrize("fraction", ["2.0", "-0.5"])
def test_restore_takes_the_restore_configs_fractions_only_as_svd_takes_its_own(here, capsys, tiny_model, fraction):
    pair = ["--reference", str(tiny_model), "--model", str(tiny_model)]
    for argv, field in [
        (
            ["restore", *pair, "--mode", "directions", "--fraction", fraction, "--out", "r"],
            "analysis.restore.fractions",
        ),
        (["analyse", "svd", *pair, "--fraction", fraction, "--out", "svd.json"], "analysis.svd.fraction"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        err = capsys.readouterr().err
        bound = "greater than the maximum of" if float(fraction) > 0 else "less than or equal to the minimum of 0"
        assert exit_.value.code == 2 and f"{field}: {fraction} is {bound}" in err, err
    assert not (here / "r").exists() and not (here / "svd.json").exists()
    from forgetlab.analysis.restore import restore_model
    from forgetlab.options import ConfigError

    with pytest.raises(ConfigError, match=rf"^fraction: {fraction} is "):
        restore_model(tiny_model, tiny_model, here / "r", "directions", float(fraction))  # the library checks too
    assert not (here / "r").exists()


def test_a_restored_model_holds_the_models_files_only(here, capsys, tiny_model):
    from forgetlab.models import check_model_dir

    model = here / "checkpoint"
    shutil.copytree(tiny_model, model)
    own = sorted(path.name for path in model.iterdir())
    for stray in ("train_log.jsonl", "notes.txt", "job.log", "results.json"):
        (model / stray).write_text("{}\n")
    (model / "eval").mkdir()
    (model / "eval" / "arithmetic.json").write_text("{}\n")
    code, _, err = forgetlab(
        capsys,
        "restore",
        "--reference",
        tiny_model,
        "--model",
        model,
        "--mode",
        "values",
        "--fraction",
        "1",
        "--out",
        "r",
    )
    assert code == 0, err
    assert sorted(path.name for path in (here / "r").iterdir()) == own
    check_model_dir(here / "r")


def test_fit_prints_json_with_null_for_an_r2_it_cannot_compute(here, capsys):
    from forgetlab.report.fits import r_squared

    from .report.test_fits import _table

    # forgetting the same at every checkpoint (0.1 + 0.2 in one row, 0.3 in the others): R² is undefined, not 1
    _table([("sft", kl, kl / 10, 0.3 if kl > 1 else 0.1 + 0.2) for kl in (1.0, 2.0, 3.0, 4.0)]).to_csv("metrics.csv")
    assert np.isnan(r_squared([1, 2, 3, 4], [0.1 + 0.2, 0.3, 0.3, 0.3], 1))
    code, out, err = forgetlab(capsys, "fit", "--metrics", "metrics.csv", "--out", "predictors.csv")
    assert code == 0, err
    line = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} is not JSON: {out}"))
    assert line["r2_linear"] is None and line["rows"] > 0


def test_restore_reads_a_layer_range_or_says_how_to_write_one(here, capsys, tiny_model):
    pair = ["--reference", str(tiny_model), "--model", str(tiny_model), "--mode", "layers"]
    with pytest.raises(SystemExit) as exit_:
        main(["restore", *pair, "--layers", "7", "--out", "r"])
    assert exit_.value.code == 2 and "expected a range first-last, e.g. 0-7, not '7'" in capsys.readouterr().err
    code, out, err = forgetlab(capsys, "restore", *pair, "--layers", "1-1", "--out", "r")
    assert code == 0 and json.loads(out)["layers"] == [1], err


def test_no_chat_alone_drops_the_configs_system_prompt_and_example_turns_and_with_either_flag_is_refused():
    from forgetlab.arguments import prompting_of

    config = {"evaluate": {"chat": True, "system_prompt": "you're a helpful assistant.", "oneshot_example": "turns"}}

    def given(**flags):
        return argparse.Namespace(**{"chat": None, "system_prompt": None, "oneshot_example": None, **flags})

    assert prompting_of(given(), config) == config["evaluate"]
    plain = {"chat": False, "system_prompt": None, "oneshot_example": "user"}
    assert prompting_of(given(chat=False), config) == plain
    assert prompting_of(given(system_prompt="Be brief."), None) == {
        "chat": True,
        "system_prompt": "Be brief.",
        "oneshot_example": "user",
    }
    assert prompting_of(given(oneshot_example="turns"), None)["oneshot_example"] == "turns"
    with pytest.raises(ValueError, match="system_prompt needs chat: true"):
        prompting_of(given(chat=False, system_prompt="Be brief."), config)
    with pytest.raises(ValueError, match="oneshot_example: turns needs chat: true"):
        prompting_of(given(chat=False, oneshot_example="turns"), config)
