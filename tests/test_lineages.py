"""Lineage bookkeeping: checkpoints implied by the lineages, kept steps, variant labels."""

from forgetlab.lineages import (
    branch_points,
    checkpoint_lineage,
    checkpoint_steps,
    expand_sweeps,
    lineage_method,
    lineage_paths,
    seed_group,
    split_checkpoint,
    variant_label,
)


def test_lineage_paths_include_prefixes_once():
    assert lineage_paths([["a", "b"], ["a"], ["c"]]) == ["base", "base/a", "base/a/b", "base/c"]


def test_kept_steps_stop_before_the_final_model():
    assert checkpoint_steps(10, 3) == [3, 6, 9] and checkpoint_steps(10, 5) == [5] and checkpoint_steps(10, 0) == []


def test_variant_labels_are_short_and_put_the_seed_last():
    assert variant_label("grpo", {"seed": 1, "lr": 1e-05, "beta": 0.04}) == "grpo-beta0.04-lr1e-5-s1"
    assert variant_label("sft", {}) == "sft"


def test_seeds_pair_along_a_lineage_and_group_without_the_seed():
    stages = {"a": {"sweep": {"seed": [0, 1]}}, "b": {"sweep": {"seed": [0, 1], "lr": [1.0, 2.0]}}}
    expanded, chains, groups = expand_sweeps(stages, [["a", "b"]])
    assert sorted(chains) == [["a-s0", "b-lr1-s0"], ["a-s0", "b-lr2-s0"], ["a-s1", "b-lr1-s1"], ["a-s1", "b-lr2-s1"]]
    assert expanded["b-lr2-s1"] == {"seed": 1, "lr": 2.0}
    assert seed_group("base/a-s1/b-lr2-s1", groups) == "base/a/b-lr2"


def test_recovery_lineages_branch_the_last_stage_from_kept_steps():
    paths = lineage_paths([["a", "b"], ["a"]], [5, 10])
    assert paths == ["base", "base/a", "base/a/b", "base/a/steps/5/b", "base/a/steps/10/b"]
    assert branch_points("base/a/steps/5/b") == [("base", None), ("base/a", 5), ("base/a/steps/5/b", None)]
    assert split_checkpoint("base/a/steps/5/b/steps/2") == ("base/a/steps/5/b", 2)
    assert split_checkpoint("base/a/steps/5/b") == ("base/a/steps/5/b", None)
    assert checkpoint_lineage("base/a/steps/5") == "base/a"
    assert lineage_method("base/a/steps/5/b", {"a": {"method": "sft"}, "b": {"method": "grpo"}}) == "sft+grpo"
