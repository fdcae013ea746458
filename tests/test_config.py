import copy

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from forgetlab.config import ConfigError, check_config, expand_sweeps, lineage_paths, seed_group

from .conftest import ROOT, TEST_CONFIG

SCHEMA = str(ROOT / "config" / "schema.yaml")


def _load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("path", [ROOT / "config" / "config.yaml", TEST_CONFIG])
def test_shipped_configs_are_valid(path):
    config = _load(path)
    validate(config, SCHEMA)
    check_config(config)
    assert config["figures_only"] is False  # defaults are filled in


def _invalid(mutate):
    config = _load(TEST_CONFIG)
    mutate(config)
    return config


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda c: c["stages"]["sft-countdown"].update(lrr=1e-5), "lrr"),
        (lambda c: c["stages"]["sft-countdown"].update(steps="many"), "steps"),
        (lambda c: c["stages"]["sft-countdown"].update(method="dpo"), "method"),
        (lambda c: c["tasks"]["countdown"].update(kind="sudoku"), "kind"),
        (lambda c: c.update(evaluat={}), "evaluat"),
        (lambda c: c["models"]["tiny"].update(source="hub"), "id"),
        (lambda c: c["stages"].update({"eval": {"method": "sft", "task": "countdown"}}), "eval"),
    ],
)
def test_schema_errors_name_the_field(mutate, field):
    with pytest.raises(WorkflowError, match=field):
        validate(_invalid(mutate), SCHEMA)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda c: c["lineages"].append(["sft-countdown", "grpo-countdwn"]), r"lineages\[3\]\[1\]: stage 'grpo-countdwn'"),
        (lambda c: c["stages"]["sft-countdown"].update(task="gsm8k"), r"stages.sft-countdown.task: task 'gsm8k'"),
        (lambda c: c["evaluate"]["tasks"].append("mmlu"), r"evaluate.tasks\[2\]: task 'mmlu'"),
    ],
)
def test_cross_references_name_the_field(mutate, message):
    config = _invalid(mutate)
    validate(config, SCHEMA)
    with pytest.raises(ConfigError, match=message):
        check_config(config)


def test_lineage_paths_include_prefixes_once():
    config = {"lineages": [["a", "b"], ["a"], ["c"]]}
    assert lineage_paths(config) == ["base", "base/a", "base/a/b", "base/c"]


def test_rate_accepts_yaml_exponent_strings():
    config = _load(TEST_CONFIG)
    config["stages"]["sft-countdown"]["lr"] = "1e-5"  # how YAML reads 1e-5
    validate(copy.deepcopy(config), SCHEMA)


def test_sweeps_expand_stages_and_pair_seeds_along_lineages():
    config = _load(TEST_CONFIG)
    config["stages"]["grpo-countdown"]["sweep"] = {"lr": [1e-5, "3e-5"]}
    config["sweep"] = {"seed": [0, 1]}
    validate(config, SCHEMA)
    expanded = expand_sweeps(config)
    validate({key: value for key, value in expanded.items() if key != "seed_groups"}, SCHEMA)
    assert sorted(expanded["stages"]) == [
        "grpo-countdown-lr1e-5-s0", "grpo-countdown-lr1e-5-s1", "grpo-countdown-lr3e-5-s0", "grpo-countdown-lr3e-5-s1",
        "sft-countdown-s0", "sft-countdown-s1",
    ]  # fmt: skip
    assert expanded["stages"]["grpo-countdown-lr3e-5-s1"]["lr"] == "3e-5" and "sweep" not in expanded["stages"]["grpo-countdown-lr3e-5-s1"]
    recovery = [l for l in expanded["lineages"] if len(l) == 2]
    assert len(recovery) == 4 and all(l[0][-2:] == l[1][-2:] for l in recovery)  # seed s from seed s, not 2 x 2 x 2
    assert len(expanded["lineages"]) == 2 + 4 + 4
    groups = expanded["seed_groups"]
    assert seed_group("base/sft-countdown-s1/grpo-countdown-lr1e-5-s1", groups) == "base/sft-countdown/grpo-countdown-lr1e-5"


def test_a_config_without_sweeps_is_unchanged():
    config = _load(TEST_CONFIG)
    assert expand_sweeps(config) is config


def test_sweeping_an_unknown_option_names_it():
    config = _load(TEST_CONFIG)
    config["sweep"] = {"learning_rate": [1e-5]}
    with pytest.raises(WorkflowError, match="learning_rate"):
        validate(config, SCHEMA)
