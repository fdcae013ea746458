"""Which checkpoints the analysis stage reads and writes, from a resolved config."""

import pytest
import yaml

from forgetlab.analysis.plan import (
    analysed_checkpoints,
    analyses_step,
    analysis_task,
    reference_of,
    restore_labels,
    restore_variants,
)
from forgetlab.config import ConfigError, resolve_config
from forgetlab.lineages import lineage_paths

from ..conftest import ROOT, TEST_CONFIG

SCENARIO = ROOT / "tests" / "config" / "analysis.yaml"


def _config(**analysis):
    config = yaml.safe_load(TEST_CONFIG.read_text())
    config["analysis"] = {**yaml.safe_load(SCENARIO.read_text())["analysis"], **analysis}
    return config


def test_restore_variants_pair_each_restore_with_its_random_control():
    restore = {"modes": ["directions", "layers"], "fractions": [0.2], "layers": ["0-1"], "control": True}
    assert list(restore_variants(restore)) == ["directions-0.2", "layers-0.2", "layers-0-1"]
    assert restore_variants(restore)["layers-0-1"] == {"mode": "layers", "fraction": None, "span": "0-1"}
    assert restore_labels(restore) == [
        "directions-0.2", "layers-0.2", "layers-0-1", "directions-0.2-random", "layers-0.2-random", "layers-0-1-random",
    ]  # fmt: skip
    assert restore_labels({**restore, "control": False}) == ["directions-0.2", "layers-0.2", "layers-0-1"]


def test_references_base_parent_or_a_named_checkpoint():
    assert reference_of("base/sft/grpo", "base") == "base"
    assert reference_of("base/sft/grpo", "parent") == "base/sft"
    assert reference_of("base/sft/steps/5", "parent") == "base"
    assert reference_of("base/sft/grpo", "base/sft/steps/1") == "base/sft/steps/1"


def test_analysed_checkpoints_are_final_models_or_every_kept_step_but_never_the_reference():
    config, _ = resolve_config(_config())
    lineages = lineage_paths(config["lineages"])
    assert analysed_checkpoints(config, lineages) == [
        ("base/sft-countdown", 2),
        ("base/grpo-countdown", 1),
        ("base/sft-countdown/grpo-countdown", 1),
    ]
    config, _ = resolve_config(_config(checkpoints="all", reference="base/sft-countdown"))
    assert ("base/sft-countdown/steps/1", 1) in analysed_checkpoints(config, lineages)
    assert ("base/sft-countdown", 2) not in analysed_checkpoints(config, lineages)


def test_the_representation_analyses_read_the_prior_task_by_default():
    config, _ = resolve_config(_config())
    assert analysis_task(config, "attention") == "arithmetic" and analysis_task(config, "svd") is None


@pytest.mark.parametrize(
    "analysis, message",
    [
        (
            {"reference": "base/sft-countdwn"},
            r"analysis.reference: 'base/sft-countdwn' is neither .*did you mean 'base/sft-countdown'",
        ),
        (
            {"restore": {"lineages": ["base/grpo"]}},
            r"analysis.restore.lineages\[0\]: 'base/grpo' is not a trained lineage",
        ),
        ({"task": "gsm8k"}, r"analysis.task: task 'gsm8k' is not defined"),
        ({"run": ["svd", "saliency"]}, r"analysis.run\[1\]: 'saliency' is not one of"),
        ({"svd": {"fraction": 0.7}}, r"analysis.svd.fraction: 0.7 is greater than the maximum of 0.5"),
        ({"restore": {"modes": ["rotate"]}}, r"analysis.restore.modes\[0\]: 'rotate' is not one of"),
        ({"restore": {"layers": ["7"]}}, r"analysis.restore.layers\[0\]: '7' does not match"),
    ],
)
def test_a_bad_analysis_section_stops_naming_the_field(analysis, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config(_config(**analysis))


def test_analysis_steps_names_the_analyses_that_also_read_the_kept_steps():
    config, _ = resolve_config(_config(checkpoints="all"))
    assert analyses_step(config, "probe", "base/sft-countdown/steps/1")  # null: every analysis
    config["analysis"]["steps"] = ["svd"]
    assert analyses_step(config, "svd", "base/sft-countdown/steps/1")
    assert not analyses_step(config, "probe", "base/sft-countdown/steps/1")
    assert analyses_step(config, "probe", "base/sft-countdown")  # a final model: always
