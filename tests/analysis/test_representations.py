"""Attention, drift, probes and concept neurons against cases with known answers: identical models give zero
divergence and drift; a planted linearly separable feature is read back."""

import numpy as np
import pytest

from forgetlab.analysis.attention import attention_analysis
from forgetlab.analysis.concepts import concept_analysis, concept_scores
from forgetlab.analysis.drift import drift_analysis
from forgetlab.analysis.probe import probe_layers
from forgetlab.models import load_model

from ..conftest import perturbed_copy

PROMPTS = [[1, 5, 9, 200, 17], [3, 8, 13, 21, 34, 55], [7, 7, 7]]


@pytest.fixture(scope="module")
def eager(tiny_model):
    return load_model(tiny_model, attn_implementation="eager")


@pytest.fixture(scope="module")
def other(tiny_model, tmp_path_factory):
    """The tiny model with its MLPs and attention moved: a second checkpoint."""
    return perturbed_copy(tiny_model, tmp_path_factory.mktemp("other"), 0.2, seed=1, moves=lambda name: "_proj" in name)


def test_identical_models_have_zero_attention_divergence(eager):
    result = attention_analysis(eager, eager, PROMPTS, ["right", "wrong", "right"])
    assert result["summary"]["attention_js"] == pytest.approx(0.0, abs=1e-6)
    assert result["summary"]["attention_entropy_change"] == pytest.approx(0.0, abs=1e-6)
    assert result["summary"]["attention_prompts_right"] == 2 and result["summary"]["attention_prompts_wrong"] == 1
    layers, heads = eager.config.num_hidden_layers, eager.config.num_attention_heads
    assert len([row for row in result["rows"] if row["group"] == "all"]) == layers * heads
    first = next(row for row in result["rows"] if row["group"] == "all")
    assert 0 < first["sink_ref"] <= 1 and first["entropy_ref"] > 0


def test_a_moved_model_attends_differently(eager, other):
    result = attention_analysis(eager, load_model(other, attn_implementation="eager"), PROMPTS)
    assert result["summary"]["attention_js"] > 1e-4
    with pytest.raises(ValueError, match="eager"):
        attention_analysis(load_model(other), load_model(other), PROMPTS[:1])  # sdpa returns no maps


def test_identical_models_do_not_drift_and_moved_ones_do(eager, other):
    sequences = [(ids, 3) for ids in PROMPTS]
    same = drift_analysis(eager, eager, sequences, top_k=5)["summary"]
    assert same["drift_js_prompt"] == pytest.approx(0.0, abs=1e-6) and same["drift_topk_overlap_answer"] == 1.0
    assert same["drift_hidden_cosine"] == pytest.approx(1.0, abs=1e-5)
    moved = drift_analysis(eager, load_model(other), sequences, top_k=5)
    assert moved["summary"]["drift_js_answer"] > 1e-4 and moved["summary"]["drift_last_hidden_cosine"] < 0.9999
    assert [row["layer"] for row in moved["rows"]] == list(range(eager.config.num_hidden_layers + 1))


def test_a_probe_reads_a_planted_linearly_separable_feature():
    rng = np.random.default_rng(0)
    labels = np.array(["yes", "no"] * 30)
    planted = rng.standard_normal((3, 60, 16))
    planted[:, :, 4] += np.where(labels == "yes", 4.0, -4.0)  # a feature that separates the classes
    noise = rng.standard_normal((3, 60, 16))  # a checkpoint whose states no longer carry it
    result = probe_layers(planted, noise, labels, seed=1)
    assert result["summary"]["probe_accuracy_ref"] >= 0.95 and min(row["accuracy_ref"] for row in result["rows"]) > 0.9
    assert result["summary"]["probe_transfer"] < 0.8 and result["summary"]["probe_majority"] == 0.5
    with pytest.raises(ValueError, match="two or more classes"):
        probe_layers(planted, noise, ["yes"] * 60)


def test_concept_scores_are_cosines():
    vectors = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    assert concept_scores(vectors, np.array([0.0, 3.0])) == pytest.approx([0.0, 1.0, np.sqrt(0.5)])


def test_concept_neurons_stay_put_in_an_identical_model_and_move_in_another(tiny_model, other):
    concepts = {"number": [1230], "add": [5765, 42]}
    same = concept_analysis(tiny_model, tiny_model, concepts, top_n=5)["summary"]
    assert (
        same["concepts_jaccard"] == 1.0
        and same["concepts_cosine"] == pytest.approx(1.0)
        and same["concepts_norm_change"] == 0
    )
    moved = concept_analysis(tiny_model, other, concepts, top_n=5)
    assert moved["summary"]["concepts_jaccard"] < 1.0 and {row["side"] for row in moved["rows"]} == {"input", "output"}


def test_forward_passes_with_a_shared_prefix_run_once_match_each_sequence_alone(tiny_model, other, monkeypatch):
    import torch

    from forgetlab.analysis import forward

    model = load_model(other)
    prefix = list(range(100, 120))  # 20 shared tokens, then rows of different lengths
    sequences = [prefix + [5, 9, 200], prefix + [3, 8, 13, 21, 34], prefix + [7]]
    shared = list(forward.forward_each(model, sequences, batch_size=3, logits=True, hidden=True))
    assert forward.shared_prefix(sequences) == 20
    monkeypatch.setattr(forward, "shared_prefix", lambda batch: 0)
    for sequence, got in zip(sequences, shared):
        alone = next(forward.forward_each(model, [sequence], logits=True, hidden=True))
        assert got["logits"].shape == (len(sequence), model.config.vocab_size)
        torch.testing.assert_close(got["logits"], alone["logits"], rtol=1e-4, atol=1e-4)
        assert len(got["hidden"]) == model.config.num_hidden_layers + 1
        for mine, whole in zip(got["hidden"], alone["hidden"]):
            torch.testing.assert_close(mine, whole, rtol=1e-4, atol=1e-4)
