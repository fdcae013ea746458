import pandas as pd

from forgetlab.report import TABLE_COLUMNS, metrics_table, plot_forgetting, plot_kl_forgetting, plot_training, with_deltas


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


def test_figures_are_written(tmp_path):
    table = metrics_table(_entries(), _metrics())
    outputs = [tmp_path / "f.png", tmp_path / "f.pdf"]
    plot_forgetting(table, "new", "prior", outputs)
    logs = {"base/sft": [{"step": s, "loss": 1 / s} for s in range(1, 4)] + [{"step": 3, "train_runtime": 1.0}]}
    plot_training(logs, [tmp_path / "t.png"])
    for path in [*outputs, tmp_path / "t.png"]:
        assert path.stat().st_size > 1000


def test_empty_table_still_draws():
    plot_forgetting(pd.DataFrame(columns=TABLE_COLUMNS), None, None, [])


def test_deltas_against_the_base_and_the_kl_figure(tmp_path):
    entries = _entries() + [{"model": "m", "lineage": "base/sft", "stage": "sft", "task": "new"}]
    metrics = _metrics() + [{"task": "new", "n": 10, "kl_mean": 4.0, "kl_mean_ci": [3.0, 5.0]}]
    table = with_deltas(metrics_table(entries, metrics))
    deltas = table[table.metric == "delta_accuracy"].set_index("task")
    assert deltas.loc["new", "value"] == 0.6 and round(deltas.loc["prior", "value"], 6) == -0.2
    assert deltas.loc["prior", "ci_low"] < -0.2 < deltas.loc["prior", "ci_high"]
    plot_kl_forgetting(table, "new", "prior", [tmp_path / "k.png"])
    assert (tmp_path / "k.png").stat().st_size > 1000
