"""A checkpoint scored as the workflow scores it: accuracy, reference log-likelihood, KL, on the resolved device."""

import pytest

from forgetlab.evaluate.checkpoint import checkpoint_kl, evaluate_checkpoint, policy_samples
from forgetlab.evaluate.likelihood import PolicySamples
from forgetlab.models import resolve_device
from forgetlab.tasks import make_task
from tests.conftest import perturbed_copy

TASK = make_task("arithmetic", {"kind": "arithmetic"})
RECORDS = TASK.build("test", 4, seed=0)


def test_evaluation_reports_accuracy_and_the_reference_log_likelihood(tiny_model):
    metrics, rows = evaluate_checkpoint(tiny_model, TASK, RECORDS, max_new_tokens=4, batch_size=2, backend="hf")
    assert metrics["n"] == 4 and len(rows) == 4 and 0 <= metrics["accuracy"] <= 1
    assert metrics["ref_loglik"] < 0 and metrics["ref_loglik_per_token"] > metrics["ref_loglik"]
    assert metrics["backend"] == "hf" and metrics["device"] == resolve_device("auto")


def test_sampled_evaluation_needs_a_temperature(tiny_model):
    with pytest.raises(ValueError, match="temperature"):
        evaluate_checkpoint(tiny_model, TASK, RECORDS, max_new_tokens=2, batch_size=2, samples=2)


def test_forward_and_reverse_kl_of_a_model_with_itself_are_zero(tiny_model):
    forward = checkpoint_kl(tiny_model, tiny_model, TASK, RECORDS[:2], max_new_tokens=3)
    reverse = checkpoint_kl(tiny_model, tiny_model, TASK, RECORDS[:2], max_new_tokens=3, reverse=True)
    assert abs(forward["kl_mean"]) < 1e-6 and forward["direction"] == "forward" and reverse["direction"] == "reverse"
    assert abs(reverse["reverse_kl_mean"]) < 1e-6 and "kl_mean" not in reverse  # the tables keep the two apart


def test_forward_kl_from_saved_base_samples_equals_sampling_in_the_job(tiny_model, tmp_path):
    """The base's completions and states sampled once, saved and read back, give every checkpoint the KL that
    sampling them in its own job gives."""
    other = perturbed_copy(tiny_model, tmp_path, scale=0.05, seed=1)
    settings = {"max_new_tokens": 5, "seed": 2}
    path = tmp_path / "countdown.pt"
    policy_samples(tiny_model, TASK, RECORDS, **settings).save(path)
    samples = PolicySamples.load(path)
    assert len(samples.sequences) == len(RECORDS) and all(
        len(states) == len(ids) - start for states, ids, start in zip(samples.states, samples.sequences, samples.starts)
    )
    shared = checkpoint_kl(tiny_model, other, TASK, RECORDS, samples=samples, **settings)
    own = checkpoint_kl(tiny_model, other, TASK, RECORDS, **settings)
    assert shared["kl_mean"] > 0 and shared["tokens"] == own["tokens"]
    assert shared["kl_mean"] == pytest.approx(own["kl_mean"], rel=1e-5)
    assert shared["log_ratio_mean"] == pytest.approx(own["log_ratio_mean"], rel=1e-5, abs=1e-6)
