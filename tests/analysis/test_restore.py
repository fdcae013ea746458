"""Restore experiments: restoring everything gives the reference back; folders load as checkpoints."""

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from scipy.stats import ortho_group

from forgetlab.analysis.restore import choose_components, choose_layers, restore_label, restore_model, restore_weight
from forgetlab.models import load_model

from ..conftest import perturbed_copy
from .test_svd import _weight


def test_restoring_every_component_returns_the_reference():
    w, *_ = _weight()
    other, *_ = _weight(seed=5)
    restored = restore_weight(w, other, "components", np.arange(30))
    assert np.allclose(restored, w, atol=1e-4)


def test_restoring_every_direction_of_a_pure_rotation_returns_the_reference():
    w, *_ = _weight()
    rotated = ortho_group.rvs(40, random_state=9) @ w  # same singular values, other left vectors
    assert np.allclose(restore_weight(w, rotated, "directions", np.arange(30)), w, atol=1e-4)
    assert np.allclose(restore_weight(w, 1.5 * w, "values", np.arange(30)), w, atol=1e-4)


def test_components_top_and_tail_and_a_random_control_of_the_same_size():
    assert choose_components(10, 0.2).tolist() == [0, 1]
    assert choose_components(10, 0.2, tail=0.1).tolist() == [0, 1, 9]
    control = choose_components(10, 0.2, tail=0.1, control=True, seed=3)
    assert len(control) == 3 and control.tolist() == choose_components(10, 0.2, 0.1, True, 3).tolist()
    assert choose_layers(30, (0, 7)) == list(range(8)) and len(choose_layers(30, (0, 7), control=True)) == 8
    with pytest.raises(ValueError, match="outside the model's 30 layers"):
        choose_layers(30, (20, 40))
    assert restore_label("directions", 0.2) == "directions-0.2"
    assert restore_label("layers", span="0-7", control=True) == "layers-0-7-random"


@pytest.fixture(scope="module")
def moved(tiny_model, tmp_path_factory):
    """The tiny model with every weight moved a little: a checkpoint to restore from its reference."""
    return perturbed_copy(tiny_model, tmp_path_factory.mktemp("moved"), 0.05, seed=0)


def test_a_fully_restored_model_has_the_reference_linear_weights_and_loads(tiny_model, moved, tmp_path):
    out = tmp_path / "restored"
    info = restore_model(tiny_model, moved, out, "components", fraction=1.0)
    reference, checkpoint, restored = (load_file(str(f / "model.safetensors")) for f in (tiny_model, moved, out))
    for name, tensor in restored.items():
        expected = reference[name] if name.endswith("_proj.weight") else checkpoint[name]
        assert torch.allclose(tensor, expected, atol=1e-4), name
    assert info["matrices"] == 2 * 7
    assert load_model(out).config.num_hidden_layers == 2


def test_layers_mode_resets_a_layer_range(tiny_model, moved, tmp_path):
    restore_model(tiny_model, moved, tmp_path / "r", "layers", span=(1, 1))
    reference, checkpoint = (
        load_file(str(tiny_model / "model.safetensors")),
        load_file(str(moved / "model.safetensors")),
    )
    restored = load_file(str(tmp_path / "r" / "model.safetensors"))
    for name, tensor in restored.items():
        expected = reference[name] if ".layers.1." in name else checkpoint[name]
        assert torch.equal(tensor, expected), name
