"""Tidy metric tables: one row per metric, deltas to the base, forgetting and gain averaged, seed summaries."""

import numpy as np
import pytest

from forgetlab.report import (
    TABLE_COLUMNS,
    final_checkpoints,
    item_key,
    item_scores,
    metrics_table,
    with_deltas,
    with_forgetting,
    with_recovery,
    with_seed_summary,
)
from forgetlab.stats import bootstrap_ci, paired_bootstrap_ci


def _entries():
    return [
        {"model": "m", "lineage": lineage, "stage": lineage.rsplit("/", 1)[-1], "task": task}
        for lineage in ("base", "base/sft")
        for task in ("new", "prior")
    ]


def _metrics():
    values = [0.0, 0.5, 0.6, 0.3]
    return [{"task": "t", "n": 10, "accuracy": v, "accuracy_ci": [max(v - 0.1, 0), v + 0.1]} for v in values]


def test_metrics_table_is_tidy():
    table = metrics_table(_entries(), _metrics())
    assert list(table.columns) == TABLE_COLUMNS
    accuracy = table[table.metric == "accuracy"]
    assert accuracy.set_index(["lineage", "task"])["value"].to_dict() == {
        ("base", "new"): 0.0, ("base", "prior"): 0.5, ("base/sft", "new"): 0.6, ("base/sft", "prior"): 0.3,
    }  # fmt: skip
    assert set(table.metric) == {"n", "accuracy"}


def test_deltas_against_the_base():
    entries = _entries() + [{"model": "m", "lineage": "base/sft", "stage": "sft", "task": "new"}]
    metrics = _metrics() + [{"task": "new", "n": 10, "kl_mean": 4.0, "kl_mean_ci": [3.0, 5.0]}]
    table = with_deltas(metrics_table(entries, metrics))
    deltas = table[table.metric == "delta_accuracy"].set_index("task")
    assert deltas.loc["new", "value"] == 0.6 and round(deltas.loc["prior", "value"], 6) == -0.2
    half = 2**0.5 * 0.1  # two independent +-0.1 intervals
    assert [deltas.loc["prior", "ci_low"], deltas.loc["prior", "ci_high"]] == pytest.approx([-0.2 - half, -0.2 + half])


def _curve_table():
    """base, two kept steps and the final model of sft, then grpo on top, on two tasks; two seeds of sft."""
    entries, metrics = [], []
    for seed, lineage, step, value in [
        (None, "base", 0, 0.1), (0, "base/sft-s0", 5, 0.3), (0, "base/sft-s0", 10, 0.5), (1, "base/sft-s1", 5, 0.2),
        (1, "base/sft-s1", 10, 0.7), (0, "base/sft-s0/grpo-s0", 4, 0.6),
    ]:  # fmt: skip
        for task in ("id", "ood"):
            entries.append(
                {
                    "model": "m",
                    "lineage": lineage,
                    "stage": lineage.rsplit("/", 1)[-1],
                    "step": step,
                    "task": task,
                    "seed": seed,
                }
            )
            metrics.append({"accuracy": value, "accuracy_ci": [value - 0.1, value + 0.1]})
    entries.append({**entries[-1], "format": "natural"})
    metrics.append({"accuracy": 0.0})
    return metrics_table(entries, metrics)


def test_final_checkpoints_drop_steps_and_further_formats():
    final = final_checkpoints(_curve_table())
    assert sorted(set(zip(final.lineage, final.step))) == [
        ("base", 0),
        ("base/sft-s0", 10),
        ("base/sft-s0/grpo-s0", 4),
        ("base/sft-s1", 10),
    ]
    assert final["format"].isna().all()


def test_seed_summary_averages_over_seeds_with_an_interval():
    table = with_seed_summary(_curve_table(), {"sft-s0": "sft", "sft-s1": "sft", "grpo-s0": "grpo"})
    summary = table[(table.seed == "mean") & (table.task == "id") & (table.metric == "accuracy")]
    assert summary.set_index("step")["value"].round(6).to_dict() == {5: 0.25, 10: 0.6}  # grpo has one seed: no row
    assert set(summary.lineage) == {"base/sft"}
    final = summary[summary.step == 10].iloc[0]
    assert final.ci_low == 0.5 and final.ci_high == 0.7


def test_forgetting_averages_prior_tasks_and_benchmarks_gain_the_trained_one():
    entries = [
        {"model": "m", "lineage": lineage, "stage": lineage.rsplit("/", 1)[-1], "step": step, "task": task}
        for lineage, step in (("base", 0), ("base/sft", 10))
        for task in ("new", "prior", "hellaswag")
    ]
    values = {("base", "new"): 0.1, ("base", "prior"): 0.6, ("base/sft", "new"): 0.7, ("base/sft", "prior"): 0.4}
    metrics = []
    for entry in entries:
        if entry["task"] == "hellaswag":  # an lm-eval benchmark: acc and acc_norm, no accuracy
            acc = 0.5 if entry["lineage"] == "base" else 0.3
            metrics.append({"acc": acc, "acc_ci": [acc - 0.05, acc + 0.05], "acc_norm": 0.9})
        else:
            v = values[(entry["lineage"], entry["task"])]
            metrics.append({"accuracy": v, "accuracy_ci": [v - 0.1, v + 0.1], "n": 10})
    table = with_forgetting(with_deltas(metrics_table(entries, metrics)), {"base": [], "base/sft": ["new"]})
    rows = table[table.metric.isin(["forgetting", "new_task_gain"])].set_index("metric")
    assert round(rows.loc["forgetting", "value"], 6) == 0.2  # mean of 0.6 - 0.4 and 0.5 - 0.3
    assert rows.loc["forgetting", "task"] == "prior (mean)"
    assert round(rows.loc["new_task_gain", "value"], 6) == 0.6
    half = (2 * 0.1**2 + 2 * 0.05**2) ** 0.5 / 2  # the mean of two deltas, each of two independent intervals
    assert [rows.loc["forgetting", "ci_low"], rows.loc["forgetting", "ci_high"]] == pytest.approx(
        [0.2 - half, 0.2 + half]
    )
    assert "delta_n" not in set(table.metric) and "delta_acc_norm" in set(table.metric)


@pytest.mark.parametrize("name", ["AverageAccuracy", "mean_acc"])
def test_an_evalscope_benchmark_counts_in_deltas_and_forgetting_like_lm_evals(name):
    entries = [
        {"model": "m", "lineage": lineage, "stage": lineage.rsplit("/", 1)[-1], "step": step, "task": "mmlu"}
        for lineage, step in (("base", 0), ("base/sft", 10))
    ]
    # evalscope's result files, as workflow_scripts/evaluate_evalscope.py writes them: one score per metric
    metrics = [{"task": "mmlu", "backend": "evalscope", "n": 100, name: acc} for acc in (0.5, 0.3)]
    table = with_forgetting(with_deltas(metrics_table(entries, metrics)), {"base": [], "base/sft": ["new"]})
    delta = table[table.metric == "delta_acc"].iloc[0]
    half = 1.96 * ((0.5 * 0.5 + 0.3 * 0.7) / 100) ** 0.5  # two binomial intervals over 100 items, combined
    assert delta.value == pytest.approx(-0.2)
    assert [delta.ci_low, delta.ci_high] == pytest.approx([-0.2 - half, half - 0.2])
    forgetting = table[table.metric == "forgetting"].iloc[0]
    assert forgetting.value == pytest.approx(0.2) and forgetting.task == "prior (mean)"


def test_recovery_is_the_share_of_the_lost_accuracy_a_restore_brings_back():
    rows = [("base", None, 0, 0.8), ("base/sft", None, 10, 0.2), ("base/sft", "restored/directions-0.2", 10, 0.5),
            ("base/sft", "restored/directions-0.2-random", 10, 0.2)]  # fmt: skip
    entries = [
        {"model": "m", "lineage": ln, "stage": ln.split("/")[-1], "step": s, "task": "prior", "variant": v}
        for ln, v, s, _ in rows
    ]
    table = metrics_table(entries, [{"accuracy": value} for *_, value in rows])
    recovery = with_recovery(table, {"base/sft": "base"})
    found = recovery[recovery.metric == "recovery"].set_index("variant")["value"]
    assert found["restored/directions-0.2"] == pytest.approx(0.5) and found["restored/directions-0.2-random"] == 0.0
    assert final_checkpoints(recovery)["variant"].isna().all()  # summary figures keep the checkpoints themselves


def _paired(base_correct, sft_correct):
    """Tables of base and base/sft on one prior task, with per-item scores (item_scores of their samples)."""
    entries = [
        {"model": "m", "lineage": ln, "stage": ln.rsplit("/", 1)[-1], "step": step, "task": "prior"}
        for ln, step in (("base", 0), ("base/sft", 10))
    ]
    samples = [
        [{"id": f"q{i}", "sample": 0, "correct": float(c), "ref_loglik": -1.0} for i, c in enumerate(correct)]
        for correct in (base_correct, sft_correct)
    ]
    metrics = [{"accuracy": sum(c) / len(c), "accuracy_ci": list(bootstrap_ci(c))} for c in (base_correct, sft_correct)]
    items = {item_key(entry): item_scores(rows) for entry, rows in zip(entries, samples)}
    return metrics_table(entries, metrics), items


def test_a_checkpoint_that_answers_like_its_base_has_a_zero_width_paired_interval():
    correct = [1, 0] * 16  # the same 16 of 32 items right: independent intervals would be about +-0.35 wide
    table, items = _paired(correct, correct)
    delta = with_deltas(table, items).query("metric == 'delta_accuracy'").iloc[0]
    assert (delta["value"], delta["ci_low"], delta["ci_high"]) == (0.0, 0.0, 0.0)
    independent = with_deltas(table).query("metric == 'delta_accuracy'").iloc[0]
    assert independent["ci_high"] - independent["ci_low"] > 0.3


def test_paired_interval_of_forgetting_brackets_the_items_lost():
    base, sft = [1] * 20 + [0] * 12, [1] * 12 + [0] * 20  # 8 of 32 items lost, none gained
    plain, items = _paired(base, sft)
    table = with_forgetting(with_deltas(plain, items), {"base/sft": ["new"]}, items)
    forgetting = table.query("metric == 'forgetting'").iloc[0]
    assert forgetting["value"] == pytest.approx(0.25)
    assert 0.05 < forgetting["ci_low"] < 0.25 < forgetting["ci_high"] < 0.45
    unpaired = with_forgetting(with_deltas(plain), {"base/sft": ["new"]}).query("metric == 'forgetting'").iloc[0]
    assert forgetting["ci_high"] - forgetting["ci_low"] < 0.7 * (unpaired["ci_high"] - unpaired["ci_low"])
    low, high = paired_bootstrap_ci([(np.array(sft, float), np.array(base, float))])
    assert (forgetting["ci_low"], forgetting["ci_high"]) == pytest.approx((-high, -low))


def test_item_scores_average_the_samples_of_an_item():
    rows = [{"id": "a", "correct": 1.0}, {"id": "a", "correct": 0.0}, {"id": "b", "correct": 1.0}]
    assert item_scores(rows)["accuracy"].to_dict() == {"a": 0.5, "b": 1.0}
    assert item_scores([{"question": "no id"}]).empty


def test_each_answer_extraction_gets_its_delta_with_a_paired_interval():
    entries = [
        {"model": "m", "lineage": lineage, "stage": lineage.rsplit("/", 1)[-1], "step": step, "task": "gsm8k"}
        for lineage, step in (("base", 0), ("base/sft", 10))
    ]
    # four items: strict extraction right on items 0, 1 before and on item 0 after; lenient right on all, then two
    samples = {
        "base": [{"id": i, "correct": 1.0, "correct_strict": float(i < 2)} for i in range(4)],
        "base/sft": [{"id": i, "correct": float(i < 2), "correct_strict": float(i == 0)} for i in range(4)],
    }
    metrics = [{"accuracy": 1.0, "accuracy_strict": 0.5}, {"accuracy": 0.5, "accuracy_strict": 0.25}]
    items = {item_key(entry): item_scores(samples[entry["lineage"]]) for entry in entries}
    table = with_deltas(metrics_table(entries, metrics), items)
    strict = table[table.metric == "delta_accuracy_strict"].iloc[0]
    assert strict.value == pytest.approx(-0.25)
    expected = paired_bootstrap_ci([(np.array([1.0, 0, 0, 0]), np.array([1.0, 1, 0, 0]))])
    assert [strict.ci_low, strict.ci_high] == pytest.approx(list(expected))
