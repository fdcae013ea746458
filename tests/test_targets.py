"""The target scheme of forgetlab.targets on the test configs, merged and resolved as the workflow does it, without
Snakemake: which checkpoints, metrics files, logs and figures exist, where, and what each job reads (forgetlab.jobs)."""

import re

import pytest
import yaml

from forgetlab import jobs, targets
from forgetlab.config import merge_configs, resolve_config

from .conftest import ROOT, TEST_CONFIG

TINY = "results/tiny"


def resolved(*scenarios, config=TEST_CONFIG, **changes):
    """(config, seed groups) of a config file with the named tests/config scenarios merged over it, then ``changes``
    (a raw section each)."""
    files = [config, *(ROOT / "tests" / "config" / f"{name}.yaml" for name in scenarios)]
    return resolve_config(merge_configs(*(yaml.safe_load(path.read_text()) for path in files), changes))


@pytest.fixture(scope="module")
def tiny():
    return resolved()[0]


@pytest.fixture(scope="module")
def analysed():
    return resolved("analysis")[0]


def test_the_tiny_config_evaluates_the_base_each_stage_and_the_kept_sft_step(tiny):
    assert targets.lineages_of(tiny) == [
        "base", "base/sft-countdown", "base/grpo-countdown", "base/sft-countdown/grpo-countdown",
    ]  # fmt: skip
    assert targets.evaluated_checkpoints(tiny) == [
        ("tiny", "base", 0, f"{TINY}/base", None),
        ("tiny", "base/sft-countdown", 1, f"{TINY}/base/sft-countdown/steps/1", None),
        ("tiny", "base/sft-countdown", 2, f"{TINY}/base/sft-countdown", None),
        ("tiny", "base/grpo-countdown", 1, f"{TINY}/base/grpo-countdown", None),
        ("tiny", "base/sft-countdown/grpo-countdown", 1, f"{TINY}/base/sft-countdown/grpo-countdown", None),
    ]
    models = targets.checkpoint_models(tiny)
    assert len(models) == 5 and models["tiny/base/sft-countdown/steps/1"] == f"{TINY}/base/sft-countdown/steps/1/model"


def test_recovery_trains_the_last_stage_again_from_the_kept_step():
    config, _ = resolved("recovery")
    assert targets.lineages_of(config)[-1] == "base/sft-countdown/steps/1/grpo-countdown"
    lineage = "base/sft-countdown/steps/1/grpo-countdown"
    assert targets.evaluated_checkpoints(config)[-1] == ("tiny", lineage, 1, f"{TINY}/{lineage}", None)
    assert targets.lineage_tasks(config)["base/sft-countdown/steps/1/grpo-countdown"] == ["countdown", "countdown"]
    assert len(targets.eval_entries(config)) == 17  # 6 checkpoints x 2 tasks, and KL on countdown for the 5 trained


def test_metrics_files_of_a_checkpoint_the_base_has_no_kl(tiny):
    assert targets.evaluation_names(tiny, "base") == [
        ("eval", "countdown", "countdown", None),
        ("eval", "arithmetic", "arithmetic", None),
    ]
    assert targets.evaluation_names(tiny, "base/sft-countdown")[2:] == [("kl", "countdown", "countdown", None)]
    config, _ = resolved("formats", "harness", "evalscope", evaluate={"kl": {"reverse": True}})
    assert targets.evaluation_names(config, "base/grpo-countdown") == [
        ("eval", "countdown", "countdown", None), ("eval", "arithmetic", "arithmetic", None),
        ("eval", "countdown.natural", "countdown", "natural"), ("eval", "arithmetic.natural", "arithmetic", "natural"),
        ("kl", "countdown", "countdown", None), ("kl", "countdown.reverse", "countdown", None),
        ("harness", "tiny_mc", "tiny_mc", None), ("evalscope", "mmlu", "mmlu", None),
    ]  # fmt: skip


def test_eval_entries_carry_the_tables_columns_and_the_per_item_samples(tiny):
    entries = targets.eval_entries(tiny)
    assert len(entries) == 14  # 5 checkpoints x 2 tasks, and KL on countdown for the 4 trained ones
    assert entries[2] == {
        "model": "tiny", "lineage": "base/sft-countdown", "stage": "sft-countdown", "method": "sft", "step": 1,
        "task": "countdown", "format": None, "seed": 0, "variant": None,
        "path": f"{TINY}/base/sft-countdown/steps/1/eval/countdown.json",
        "items": f"{TINY}/base/sft-countdown/steps/1/eval/countdown.samples.jsonl",
    }  # fmt: skip
    kl = [entry for entry in entries if "/kl/" in entry["path"]]
    assert [entry["path"] for entry in kl] == [
        f"{TINY}/base/sft-countdown/steps/1/kl/countdown.json",
        f"{TINY}/base/sft-countdown/kl/countdown.json",
        f"{TINY}/base/grpo-countdown/kl/countdown.json",
        f"{TINY}/base/sft-countdown/grpo-countdown/kl/countdown.json",
    ]
    assert all(entry["items"] is None for entry in kl)
    assert entries[-1]["method"] == "sft+grpo" and entries[0]["seed"] is None
    assert targets.paths(entries[:2]) == [f"{TINY}/base/eval/countdown.json", f"{TINY}/base/eval/arithmetic.json"]
    assert len(targets.item_paths(entries)) == 10
    assert targets.analysis_entries(tiny) == []


def test_the_analysis_scenario_adds_restored_checkpoints_and_analysis_results(analysed):
    assert targets.analyses_of(analysed) == [
        "svd",
        "update",
        "attention",
        "concepts",
        "probe",
        "drift",
        "flips",
        "token_shift",
    ]  # restore and realign make checkpoints instead
    assert targets.restores_of(analysed) == {"directions-0.5": {"mode": "directions", "fraction": 0.5, "span": None}}
    assert targets.restore_labels_of(analysed) == ["directions-0.5", "directions-0.5-random"]
    assert targets.restored_lineages_of(analysed) == ["base/sft-countdown"]
    assert targets.restore_references(analysed) == {"base/sft-countdown": "base"}
    variants = [checkpoint for checkpoint in targets.evaluated_checkpoints(analysed) if checkpoint.variant]
    restored = [checkpoint for checkpoint in variants if checkpoint.variant.startswith("restored/")]
    assert restored == [
        ("tiny", "base/sft-countdown", 2, f"{TINY}/base/sft-countdown/{variant}", variant)
        for variant in ("restored/directions-0.5", "restored/directions-0.5-random")
    ]
    # restores are evaluated without KL (restore.kl: false)
    assert targets.evaluation_names(analysed, "base/sft-countdown", "restored/directions-0.5") == [
        ("eval", "countdown", "countdown", None),
        ("eval", "arithmetic", "arithmetic", None),
    ]
    # the re-alignment test of the SFT model and of the base (the control), evaluated on the prior task alone
    assert [(c.lineage, c.step, c.variant) for c in variants if c not in restored] == [
        ("base/sft-countdown", 2, "realigned/arithmetic"),
        ("base", 0, "realigned/arithmetic"),
    ]
    assert targets.evaluation_names(analysed, "base", "realigned/arithmetic") == [
        ("eval", "arithmetic", "arithmetic", None)
    ]
    assert jobs.realign_inputs(analysed, "tiny", "base/sft-countdown", "arithmetic") == {
        "model": f"{TINY}/base/sft-countdown/model",
        "data": f"{TINY}/base/realign/arithmetic.jsonl",
    }
    assert targets.realign_references(analysed) == {"base/sft-countdown": "base", "base": "base"}
    assert [lineage for _, lineage, _ in targets.overlap_checkpoints(analysed)] == [
        "base", "base/sft-countdown", "base/grpo-countdown", "base/sft-countdown/grpo-countdown",
    ]  # fmt: skip
    assert targets.overlap_targets(analysed) == ["results/tables/update_overlap.csv"]
    entries = targets.analysis_entries(analysed)
    assert len(entries) == 24  # 3 lineages x 8 analyses
    assert entries[2] == {
        "model": "tiny", "lineage": "base/sft-countdown", "stage": "sft-countdown", "method": "sft", "step": 2,
        "task": "arithmetic", "format": None, "seed": 0, "variant": None, "analysis": "attention",
        "checkpoint": "base/sft-countdown", "path": f"{TINY}/base/sft-countdown/analysis/attention.json",
    }  # fmt: skip
    assert entries[0]["task"] == "weights"  # svd reads weights alone
    assert targets.analysis_tables(analysed, "svd") == [
        f"{TINY}/{lineage}/analysis/svd.csv"
        for lineage in ("base/sft-countdown", "base/grpo-countdown", "base/sft-countdown/grpo-countdown")
    ]
    # 7 checkpoints x 2 tasks, 2 realigned ones x 1, 4 KL, 24 analyses
    assert len(targets.eval_entries(analysed)) == 7 * 2 + 2 + 4 + 24
    assert len(targets.figure_targets(analysed)) == 2 * (9 + 1 + 8)  # summary figures, restore, 8 analyses


def test_figure_targets_are_each_figure_in_each_format(tiny):
    figures = targets.figure_targets(tiny)
    assert len(figures) == 18  # the 9 summary figures, png and pdf
    assert figures[:2] == ["results/figures/forgetting.png", "results/figures/forgetting.pdf"]
    assert "svd" not in targets.figures_of(tiny)
    assert targets.figure_paths("svd") == {"png": "results/figures/svd.png", "pdf": "results/figures/svd.pdf"}


def test_train_logs_of_swept_seeds_share_a_seed_group():
    config, groups = resolved(sweep={"seed": [0, 1]})
    entries = targets.train_log_entries(config, groups)
    assert len(entries) == 6  # 3 lineages x 2 seeds (seeds pair up along the recovery lineage)
    assert entries[0] == {
        "model": "tiny",
        "lineage": "base/sft-countdown-s0",
        "group": "base/sft-countdown",
        "path": f"{TINY}/base/sft-countdown-s0/train_log.jsonl",
    }
    assert entries[-1]["lineage"] == "base/sft-countdown-s1/grpo-countdown-s1"
    assert entries[-1]["group"] == "base/sft-countdown/grpo-countdown"
    assert targets.lineage_seed(config, "base/sft-countdown-s1/grpo-countdown-s1") == 1


def test_figures_only_keeps_the_entries_whose_files_exist(tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / TINY / "base/eval").mkdir(parents=True)
    (tmp_path / TINY / "base/eval/countdown.json").write_text("{}")
    entries = targets.eval_entries({**tiny, "figures_only": True})
    assert entries == [{**targets.eval_entries(tiny)[0], "items": None}]  # its samples are missing: unpaired
    (tmp_path / TINY / "base/eval/countdown.samples.jsonl").write_text("")
    entries = targets.eval_entries({**tiny, "figures_only": True})
    assert entries[0]["items"] == f"{TINY}/base/eval/countdown.samples.jsonl"
    assert targets.train_log_entries({**tiny, "figures_only": True}, {}) == []
    assert targets.existing([{"path": "nowhere"}], figures_only=False) == [{"path": "nowhere"}]


def test_wildcard_patterns_match_the_configs_names_only(tiny, analysed):
    def matches(patterns, wildcard, value):
        return re.fullmatch(patterns[wildcard], value) is not None

    patterns = targets.wildcard_patterns(tiny)
    assert matches(patterns, "lineage", "base/sft-countdown/grpo-countdown")
    assert matches(patterns, "lineage", "base/sft-countdown/steps/1/grpo-countdown")
    assert not matches(patterns, "lineage", "base/sft-countdown/steps/1")  # a kept step is no lineage
    assert matches(patterns, "parent", "base/sft-countdown/steps/1")
    assert not matches(patterns, "stage", "rl-countdown")
    assert matches(patterns, "evaluation", "arithmetic") and not matches(patterns, "evaluation", "arithmetic.natural")
    assert matches(patterns, "divergence", "countdown.reverse")
    assert not matches(patterns, "checkpoint", "base/sft-countdown/restored/directions-0.5")
    for wildcard in ("benchmark", "analysis", "restore"):  # none in this config: nothing matches
        assert patterns[wildcard] == "(?!)" and not matches(patterns, wildcard, "svd")
    patterns = targets.wildcard_patterns(analysed)
    assert matches(patterns, "checkpoint", "base/sft-countdown/restored/directions-0.5-random")
    assert matches(patterns, "analysis", "drift") and not matches(patterns, "analysis", "restore")
    assert patterns["model"] == "tiny" and patterns["split"] == "train|test"


def test_a_jobs_inputs_from_its_wildcards_values(tiny, analysed):
    assert jobs.kl_inputs("tiny", "base/sft-countdown", "countdown") == {
        "base": f"{TINY}/base/model",
        "model": f"{TINY}/base/sft-countdown/model",
        "data": "results/data/countdown/test.jsonl",
        "samples": f"{TINY}/base/kl_samples/countdown.pt",
    }
    assert "samples" not in jobs.kl_inputs("tiny", "base/sft-countdown", "countdown.reverse")
    assert jobs.divergence_task("countdown.reverse") == "countdown"
    assert jobs.analysis_inputs(analysed, "tiny", "base/sft-countdown/grpo-countdown", "probe") == {
        "reference": f"{TINY}/base/model",
        "model": f"{TINY}/base/sft-countdown/grpo-countdown/model",
        "samples": f"{TINY}/base/sft-countdown/grpo-countdown/eval/arithmetic.samples.jsonl",
    }
    parent = {**analysed, "analysis": {**analysed["analysis"], "reference": "parent"}}
    assert jobs.analysis_inputs(parent, "tiny", "base/sft-countdown/grpo-countdown", "svd") == {
        "reference": f"{TINY}/base/sft-countdown/model",
        "model": f"{TINY}/base/sft-countdown/grpo-countdown/model",
        "reference_spectrum": f"{TINY}/base/sft-countdown/spectrum",
        "model_spectrum": f"{TINY}/base/sft-countdown/grpo-countdown/spectrum",
    }
    assert jobs.restore_inputs(analysed, "tiny", "base/sft-countdown") == {
        "reference": f"{TINY}/base/model",
        "model": f"{TINY}/base/sft-countdown/model",
        "reference_spectrum": f"{TINY}/base/spectrum",
        "model_spectrum": f"{TINY}/base/sft-countdown/spectrum",
    }
    only_q = {
        **analysed,
        "analysis": {**analysed["analysis"], "svd": {"matrices": ["q"]}, "update": {"matrices": ["k", "q"]}},
    }
    assert jobs.spectrum_matrices(only_q) == ["q", "k"]  # each once, in layer order
    assert jobs.analysis_inputs(parent, "tiny", "base/sft-countdown/grpo-countdown", "flips") == {
        "reference": f"{TINY}/base/sft-countdown/eval/arithmetic.samples.jsonl",
        "model": f"{TINY}/base/sft-countdown/grpo-countdown/eval/arithmetic.samples.jsonl",
    }
    assert jobs.evaluation_task("countdown.natural", ["countdown"]) == "countdown"
    assert jobs.evaluation_format("countdown.natural", ["countdown"]) == "natural"
    assert jobs.evaluation_format("countdown", ["countdown"]) is None
    assert jobs.kl_sampling(tiny) == {
        "n": 2, "max_new_tokens": 4, "seed": 0, "source": "samples", "style": None, "chat": True, "system_prompt": None,
        "oneshot_example": "user", "device": "auto",
    }  # fmt: skip


def test_a_stages_data_and_the_task_it_replays(tiny):
    assert jobs.stage_data(tiny, "sft-countdown") == "results/data/countdown/train.jsonl"
    assert jobs.replay_task(tiny, "sft-countdown") is None and jobs.replay_data(tiny, "sft-countdown") == []
    config, _ = resolved(stages={"sft-countdown": {"replay": {"task": "arithmetic", "ratio": 0.25}}})
    assert jobs.replay_task(config, "sft-countdown") == "arithmetic"
    assert jobs.replay_data(config, "sft-countdown") == ["results/data/arithmetic/train.jsonl"]
    stage = config["stages"]["sft-countdown"]
    assert jobs.science(stage) == {key: value for key, value in stage.items() if key != "resources"}
    assert "resources" in stage and jobs.science(stage)["lr"] == 1.0e-4


def test_the_embedded_default_evaluates_fourteen_checkpoints():
    config, _ = resolved(config=ROOT / "config" / "config.yaml")
    checkpoints = targets.evaluated_checkpoints(config)
    # base, SFT's step 10 and final, 6 restores (3 shares and their controls), GRPO, SFT->GRPO from 20 and 10, and
    # the re-alignment of SFT and of the base (the control)
    assert len(checkpoints) == 14
    assert [c.step for c in checkpoints if c.lineage == "base/sft-countdown" and not c.variant] == [10, 20]
    # base and 5 trained checkpoints on countdown, arithmetic and arithmetic in the natural format, 6 restored and 2
    # realigned ones on arithmetic; KL on 2 tasks for the 5 trained checkpoints; 4 analyses of each of the 5, 4 more
    # of the 4 final models
    assert len(targets.eval_entries(config)) == 6 * 3 + 6 + 2 + 5 * 2 + 4 * 5 + 4 * 4
