"""The lm-eval bridge on the tiny model with local multiple-choice and generation tasks (offline)."""

from pathlib import Path

import pytest

from forgetlab.evaluate.harness import harness_metrics, run_lm_eval

HARNESS = Path(__file__).parent / "harness"


def local_tasks(folder: Path) -> Path:
    """The test task YAMLs with their data paths made absolute (lm-eval resolves them from the cwd)."""
    for source in HARNESS.glob("*.yaml"):
        (folder / source.name).write_text(source.read_text().replace("tests/harness/", f"{HARNESS}/"))
    return folder


@pytest.fixture(scope="module")
def results(tiny_model, tmp_path_factory):
    include = local_tasks(tmp_path_factory.mktemp("tasks"))
    return run_lm_eval(tiny_model, ["tiny_mc", "tiny_gen"], limit=4, include_path=str(include))


def test_multiple_choice_task_reports_accuracy_with_interval(results):
    mc = results["tiny_mc"]
    assert 0.0 <= mc["acc"] <= 1.0
    low, high = mc["acc_ci"]
    assert low <= mc["acc"] <= high


def test_generation_task_reports_filtered_exact_match(results):
    assert 0.0 <= results["tiny_gen"]["exact_match:last_number"] <= 1.0


def test_metric_names_are_flattened():
    raw = {"alias": "x", "acc,none": 0.5, "acc_stderr,none": 0.1, "exact_match,strict": 1.0, "exact_match_stderr,strict": "N/A"}
    assert harness_metrics(raw) == {"acc": 0.5, "acc_ci": [0.5 - 0.196, 0.5 + 0.196], "exact_match:strict": 1.0}
