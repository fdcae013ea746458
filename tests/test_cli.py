"""The command line as a new user meets it: the workflow's computations, one-line errors that name the problem."""

import json
import re
import shutil

import pytest
import yaml

from forgetlab.cli import build_parser, main
from forgetlab.io import read_json, read_jsonl, write_jsonl

from .conftest import ROOT, TEST_CONFIG, run_forgetlab


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A working folder outside the repository (no config/config.yaml)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def forgetlab(capsys, *args):
    """(exit code, stdout, stderr) of one in-process command."""
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_data_then_score_round_trip(here, capsys):
    code, out, err = forgetlab(
        capsys, "data", "--task", "countdown", "--split", "test", "--n", "12", "--seed", "1", "--out", "c.jsonl"
    )
    assert code == 0, err
    assert json.loads(out)["n"] == 12
    assert "task 'countdown': no config (no --config, no config/config.yaml in" in err  # says where options came from
    records = read_jsonl(here / "c.jsonl")
    assert len(records) == 12 and {"prompt", "answer", "numbers", "target"} <= set(records[0])
    rows = [
        {**r, "completion": f"<answer>{r['answer']}</answer>" if i % 3 else "no idea"} for i, r in enumerate(records)
    ]
    write_jsonl(rows, here / "completions.jsonl")
    code, out, err = forgetlab(
        capsys, "score", "--task", "countdown", "--input", "completions.jsonl", "--out", "scores.json"
    )
    assert code == 0, err
    assert json.loads(out)["accuracy"] == 8 / 12
    assert [row["correct"] for row in read_json(here / "scores.json")["rows"]] == [float(i % 3 > 0) for i in range(12)]


def test_task_options_come_from_the_config_and_the_command_says_so(here, capsys):
    shutil.copy(ROOT / "config" / "config.yaml", here / "default.yaml")
    code, _, err = forgetlab(
        capsys,
        "data",
        "--task",
        "countdown",
        "--split",
        "test",
        "--n",
        "5",
        "--out",
        "a.jsonl",
        "--config",
        "default.yaml",
    )
    assert code == 0 and "task 'countdown' from default.yaml" in err
    assert all(
        len(r["numbers"]) == 2 for r in read_jsonl(here / "a.jsonl")
    )  # the default's 2 numbers, not the kind's 3


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["data", "--task", "countdwn", "--split", "test", "--out", "a.jsonl"],
            "task 'countdwn' is neither defined in a config nor a task kind .*did you mean 'countdown'",
        ),
        (
            ["data", "--task", "countdown", "--split", "test", "--out", "afile/a.jsonl"],
            "--out 'afile/a.jsonl': .*afile is a file, not a folder",
        ),
        (
            ["eval", "--model", "/no/such/dir", "--task", "countdown", "--out", "e.json"],
            "--model '/no/such/dir': no such folder",
        ),
        (
            ["eval", "--model", "empty", "--task", "countdown", "--out", "e.json"],
            r"--model 'empty': not a Hugging Face model folder \(no config.json\)",
        ),
        (
            ["train", "--config", "bad.yaml", "--stage", "s", "--model", "{model}", "--data", "d.jsonl", "--out", "o"],
            r"bad.yaml: not valid YAML at line 3, column 1",
        ),
        (
            [
                "train",
                "--config",
                "fast.yaml",
                "--stage",
                "sft-countdown",
                "--model",
                "{model}",
                "--data",
                "d.jsonl",
                "--out",
                "o",
            ],
            r"fast.yaml: stages.sft-countdown.lr: expected a number, not 'fast'",
        ),
        (
            [
                "train",
                "--config",
                "tiny.yaml",
                "--stage",
                "sft-countdwn",
                "--model",
                "{model}",
                "--data",
                "d.jsonl",
                "--out",
                "o",
            ],
            r"stage 'sft-countdwn' is not defined in tiny.yaml .*did you mean 'sft-countdown'",
        ),
        (
            [
                "train",
                "--config",
                "tiny.yaml",
                "--stage",
                "sft-countdown",
                "--model",
                "{model}",
                "--data",
                "noanswer.jsonl",
                "--out",
                "o",
            ],
            r"noanswer.jsonl:1: record has no 'answer' field",
        ),
        (
            [
                "train",
                "--config",
                "tiny.yaml",
                "--stage",
                "grpo-countdown",
                "--model",
                "{model}",
                "--data",
                "notarget.jsonl",
                "--out",
                "o",
            ],
            r"notarget.jsonl:1: record has no 'target' field",
        ),
        (
            ["eval", "--model", "{model}", "--task", "arithmetic", "--data", "noquestion.jsonl", "--out", "e.json"],
            r"noquestion.jsonl:1: record has no 'question' field",
        ),
        (
            ["eval", "--model", "{model}", "--task", "countdown", "--data", "notarget.jsonl", "--out", "e.json"],
            r"notarget.jsonl:1: record has no 'target' field",
        ),
        (
            ["base", "--config", "tiny.yaml", "--model", "tiyn", "--out", "b"],
            r"model 'tiyn' is not defined in tiny.yaml .*did you mean 'tiny'",
        ),
        (
            ["train", "--stage", "s", "--model", "{model}", "--data", "d.jsonl", "--out", "o"],
            r"no config: give --config FILE",
        ),
    ],
)
def test_mistakes_end_in_one_line_naming_the_problem(here, capsys, tiny_model, args, message):
    (here / "afile").write_text("x")
    (here / "empty").mkdir()
    (here / "bad.yaml").write_text("models:\n- [\n")
    (here / "fast.yaml").write_text(TEST_CONFIG.read_text().replace("lr: 1.0e-4", "lr: fast"))
    shutil.copy(TEST_CONFIG, here / "tiny.yaml")
    write_jsonl([{"numbers": [1, 2], "target": 3}], here / "noanswer.jsonl")
    write_jsonl([{"numbers": [1, 2], "answer": "1 + 2"}], here / "notarget.jsonl")
    write_jsonl([{"answer": "7"}], here / "noquestion.jsonl")
    code, out, err = forgetlab(capsys, *[a.replace("{model}", str(tiny_model)) for a in args])
    lines = err.strip().splitlines()  # the config note, then the error
    assert code == 2 and out == "" and "Traceback" not in err and len(lines) <= 2, err
    assert re.search(message, lines[-1]), err
    assert not (here / "o").exists() and not (here / "e.json").exists()


@pytest.mark.parametrize("n", ["-2", "0", "x"])
def test_n_takes_positive_integers_only(here, capsys, n):
    with pytest.raises(SystemExit) as exit_:
        main(["data", "--task", "countdown", "--split", "test", "--n", n, "--out", "a.jsonl"])
    assert exit_.value.code == 2
    assert f"argument --n: expected a positive integer, not {n if n != 'x' else repr(n)}" in capsys.readouterr().err
    assert not (here / "a.jsonl").exists()


def test_every_option_of_every_command_has_help_and_shows_its_default():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert set(commands) == {
        "data", "score", "base", "train", "eval", "kl", "analyse", "restore", "realign", "generate", "memory", "fit",
        "schema",
    }  # fmt: skip
    for name, command in commands.items():
        for action in command._actions:
            if action.dest == "help":
                continue
            assert action.help, f"{name} {action.option_strings}"
            if not action.required and action.nargs != 0:
                assert "default" in command.formatter_class(name)._get_help_string(action), (
                    f"{name} {action.option_strings}"
                )


def test_a_settings_flag_is_its_config_fields_help_choices_and_bounds():
    schema = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())["$defs"]
    commands = build_parser()._subparsers._group_actions[0].choices
    checked = 0
    for command, section in (("eval", "EvaluateConfig"), ("kl", "KLConfig")):
        for action in commands[command]._actions:
            field = schema[section]["properties"].get(action.dest)
            if field is None or action.dest in ("tasks", "reverse"):
                continue
            checked += 1
            assert action.default is None and action.help.startswith(field["description"].replace("%", "%%")), (
                action.dest
            )
            assert f"{field['default']!r} without one" in action.help
            if "enum" in field:
                assert list(action.choices) == [value for value in field["enum"] if value is not None]
    assert checked >= 10
    with pytest.raises(SystemExit):
        build_parser().parse_args(["kl", "--base", "a", "--model", "b", "--task", "t", "--out", "o", "--n", "0"])


def test_train_accepts_every_config_the_workflow_accepts(here, capsys, tiny_model):
    config = yaml.safe_load(TEST_CONFIG.read_text())
    config["stages"]["sft-countdown"].update(sweep={"lr": [1e-4, 2e-4]}, resources={"gpu": 1})
    (here / "swept.yaml").write_text(yaml.safe_dump(config))
    main(
        [
            "data",
            "--task",
            "countdown",
            "--split",
            "train",
            "--n",
            "8",
            "--out",
            "train.jsonl",
            "--config",
            "swept.yaml",
        ]
    )
    capsys.readouterr()
    args = ["train", "--config", "swept.yaml", "--model", tiny_model, "--data", "train.jsonl", "--threads", "1"]
    code, _, err = forgetlab(capsys, *args, "--stage", "sft-countdown", "--out", "m")
    variants = "['sft-countdown-lr0.0001', 'sft-countdown-lr0.0002']"
    assert code == 2 and f"stage 'sft-countdown' is swept in swept.yaml: name one of its variants: {variants}" in err
    code, _, err = forgetlab(capsys, *args, "--stage", "sft-countdown-lr0.0002", "--out", "m")
    assert code == 0, err
    assert (here / "m" / "model.safetensors").exists() and len(read_jsonl(here / "train_log.jsonl")) >= 2


def test_eval_computes_what_the_workflows_evaluation_computes(here, capsys, tiny_model):
    options = ["--n", "3", "--max-new-tokens", "3", "--samples", "2", "--temperature", "1.0", "--out"]
    code, out, err = forgetlab(capsys, "eval", "--model", tiny_model, "--task", "arithmetic", *options, "e.json")
    assert code == 0, err
    metrics = json.loads(out)
    assert metrics == read_json(here / "e.json")
    assert metrics["n"] == 3 and metrics["samples"] == 2 and "pass@2" in metrics and "ref_loglik_per_token" in metrics
    assert len(read_jsonl(here / "e.samples.jsonl")) == 6


def test_the_kl_command_and_python_m_forgetlab(tiny_model, tmp_path):
    result = run_forgetlab("kl", "--base", tiny_model, "--model", tiny_model, "--task", "countdown", "--n", "3",
                           "--max-new-tokens", "5", "--out", tmp_path / "kl.json", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["n"] == 3 and abs(line["kl_mean"]) < 1e-6 and line["direction"] == "forward"


def test_the_schema_command_prints_the_schema_file(here, capsys):
    code, out, _ = forgetlab(capsys, "schema")
    assert code == 0 and out == (ROOT / "config" / "schema.yaml").read_text()


def test_analyse_and_restore_work_on_two_model_folders(here, capsys, tiny_model):
    pair = ["--reference", tiny_model, "--model", tiny_model]
    code, out, err = forgetlab(capsys, "analyse", "svd", *pair, "--fraction", "0.5", "--out", "svd.json")
    assert code == 0, err
    assert json.loads(out)["svd_max_angle"] < 0.1 and len(read_json(here / "svd.json")["rows"]) == 2 * 7 * 2
    restore = ["--mode", "directions", "--fraction", "0.5", "--control", "random", "--out", "restored"]
    code, out, err = forgetlab(capsys, "restore", *pair, *restore)
    assert code == 0 and json.loads(out)["control"] is True and (here / "restored" / "model.safetensors").exists(), err
    drift = ["--reference", tiny_model, "--model", "restored", "--task", "arithmetic", "--n", "2", "--out", "d.json"]
    code, out, err = forgetlab(capsys, "analyse", "drift", *drift)
    assert code == 0 and json.loads(out)["drift_hidden_cosine"] > 0.99, err  # a restore of the model itself
    code, _, err = forgetlab(capsys, "analyse", "attention", *pair, "--out", "a.json")
    assert code == 2 and "the attention analysis reads a task's items: give --task" in err
    code, _, err = forgetlab(capsys, "restore", *pair, "--mode", "values", "--out", "r2")
    assert code == 2 and "--mode values needs --fraction" in err and not (here / "r2").exists()


def test_fit_ranks_predictors_from_a_metrics_table(here, capsys):
    from .report.test_fits import _table

    _table([("sft", kl, kl / 10, 0.1 * kl) for kl in (1.0, 2.0, 3.0, 4.0)]).to_csv("metrics.csv", index=False)
    code, out, err = forgetlab(capsys, "fit", "--metrics", "metrics.csv", "--out", "predictors.csv")
    assert code == 0, err
    assert json.loads(out)["best"] in ("forward_kl_new", "weight_change") and (here / "predictors.csv").exists()
    (here / "other.csv").write_text("a,b\n1,2\n")
    code, _, err = forgetlab(capsys, "fit", "--metrics", "other.csv", "--out", "p.csv")
    assert code != 0 and "not a forgetlab metrics table" in err and not (here / "p.csv").exists()
