"""The lm-eval bridge on the tiny model with local multiple-choice and generation tasks (offline)."""

import os

import pytest

from forgetlab.evaluate.harness import harness_metrics, run_lm_eval

from ..conftest import ROOT

HARNESS = ROOT / "tests" / "harness"


@pytest.fixture(scope="module")
def results(tiny_model):
    # the task YAMLs name their data relative to the repository root, as a workflow's task YAMLs name theirs
    # relative to its working folder
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        return run_lm_eval(tiny_model, ["tiny_mc", "tiny_gen"], limit=4, include_path=str(HARNESS))
    finally:
        os.chdir(here)


def test_multiple_choice_task_reports_accuracy_over_the_items_with_lm_evals_interval(results):
    mc = results["tiny_mc"]
    assert mc["acc"] in {0.0, 0.25, 0.5, 0.75, 1.0}  # 4 items
    stderr = (mc["acc"] * (1 - mc["acc"]) / 3) ** 0.5  # lm-eval's sample standard error of the mean
    assert mc["acc_ci"] == pytest.approx([mc["acc"] - 1.96 * stderr, mc["acc"] + 1.96 * stderr])


def test_generation_task_reports_filtered_exact_match(results):
    assert 0.0 <= results["tiny_gen"]["exact_match:last_number"] <= 1.0


def test_metric_names_are_flattened():
    raw = {
        "alias": "x",
        "acc,none": 0.5,
        "acc_stderr,none": 0.1,
        "exact_match,strict": 1.0,
        "exact_match_stderr,strict": "N/A",
    }
    assert harness_metrics(raw) == {"acc": 0.5, "acc_ci": [0.5 - 0.196, 0.5 + 0.196], "exact_match:strict": 1.0}


def test_generation_settings_and_context_length_reach_the_harness(tiny_model, monkeypatch):
    from lm_eval.models.huggingface import HFLM

    seen = {}
    generate_until = HFLM.generate_until

    def recording(self, requests, *args, **kwargs):
        seen["gen_kwargs"] = [request.args[1] for request in requests]
        seen["max_length"] = self.max_length
        return generate_until(self, requests, *args, **kwargs)

    monkeypatch.setattr(HFLM, "generate_until", recording)
    monkeypatch.chdir(ROOT)
    run_lm_eval(
        tiny_model, ["tiny_gen"], limit=2, include_path=str(HARNESS), max_length=96, gen_kwargs={"max_gen_toks": 3}
    )
    assert seen["max_length"] == 96
    assert [kwargs["max_gen_toks"] for kwargs in seen["gen_kwargs"]] == [3, 3]
