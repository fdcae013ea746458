"""Stored spectra: written once per model, read by every weight analysis and restore with the same results as
decomposing each weight where it is read."""

import numpy as np
import pytest
from safetensors.torch import load_file

from forgetlab.analysis.restore import restore_model
from forgetlab.analysis.spectrum import Spectrum, SpectrumStore, write_spectra
from forgetlab.analysis.svd import SVDConfig, svd_analysis
from forgetlab.analysis.update import UpdateConfig, update_analysis
from forgetlab.analysis.weights import WeightReader, linear_weights

from ..conftest import perturbed_copy
from .test_svd import _weight


@pytest.fixture(scope="module")
def stored(tiny_model, tmp_path_factory):
    """A moved copy of the tiny model, and both models' stored spectra: (reference, checkpoint, spectra)."""
    root = tmp_path_factory.mktemp("spectra")
    (root / "moved").mkdir()
    moved = perturbed_copy(tiny_model, root / "moved", 0.05, seed=1)
    spectra = (root / "reference", root / "moved-spectrum")
    for model, folder in zip((tiny_model, moved), spectra):
        assert write_spectra(model, folder) == 2 * 7
    return tiny_model, moved, spectra


@pytest.mark.parametrize("shape", [(40, 30), (30, 40)])
def test_the_spectrum_is_the_svd_of_wide_and_tall_matrices(shape):
    w, *_ = _weight(*shape)
    w = w.astype(np.float32)
    spectrum = Spectrum.compute(w)
    u, s, vt = np.linalg.svd(w.astype(np.float64), full_matrices=False)
    assert spectrum.values == pytest.approx(s, rel=1e-5)
    left, right = spectrum.pair(np.array([0, 3, 29]))
    for found, expected in ((left, u[:, [0, 3, 29]]), (right, vt[[0, 3, 29]].T)):
        assert np.abs(np.sum(found * expected, axis=0)) == pytest.approx(1.0, abs=1e-5)  # equal up to sign


def test_the_diagonal_of_a_change_on_the_matrix_own_directions():
    w, u, _, v = _weight()
    weights = np.array([0.5, -2.0, 0.0, 1.5])
    change = sum(c * np.outer(u[:, i], v[:, i]) for i, c in enumerate(weights))
    change += 0.3 * np.outer(u[:, 0], v[:, 1])  # off the diagonal: not counted
    diagonal = Spectrum.compute(w).diagonal(change)
    assert diagonal[:4] == pytest.approx(weights, abs=1e-8) and diagonal[4:] == pytest.approx(0.0, abs=1e-8)


def test_stored_spectra_match_the_computed_ones(stored):
    reference, _, (folder, _) = stored
    reader, store = WeightReader(reference), SpectrumStore(folder)
    for _, _, name in linear_weights(reader):
        w = reader.load(name)
        read, computed = store.of(name, w), Spectrum.compute(w)
        assert read.values == pytest.approx(computed.values, rel=1e-6)
        k = max(1, len(read.values) // 4)
        for a, b in zip(read.top(k), computed.top(k)):
            assert np.abs(np.sum(a * b, axis=0)) == pytest.approx(1.0, abs=1e-4)


def test_analyses_and_restores_give_the_same_results_from_stored_spectra(stored, tmp_path):
    reference, moved, spectra = stored
    for analysis, options in ((svd_analysis, SVDConfig()), (update_analysis, UpdateConfig())):
        computed, read = analysis(reference, moved, options), analysis(reference, moved, options, spectra)
        for key, value in computed["summary"].items():
            assert read["summary"][key] == pytest.approx(value, rel=1e-3, abs=1e-4), (analysis.__name__, key)
    for name, folder in (("computed", None), ("read", spectra)):
        restore_model(reference, moved, tmp_path / name, "directions", 0.5, spectra=folder or (None, None))
    computed, read = (load_file(str(tmp_path / name / "model.safetensors")) for name in ("computed", "read"))
    assert all(np.allclose(computed[name], read[name], atol=1e-5) for name in computed)


def test_a_spectrum_of_another_model_or_matrix_is_named(stored, tmp_path):
    reference, _, (folder, _) = stored
    name = next(linear_weights(WeightReader(reference)))[2]
    with pytest.raises(ValueError, match=f"{name} is \\(7, 3\\): another model's"):
        SpectrumStore(folder).of(name, np.zeros((7, 3), dtype=np.float32))
    write_spectra(reference, tmp_path / "q-only", matrices=["q"])
    down = next(name for _, matrix, name in linear_weights(WeightReader(reference)) if matrix == "down")
    with pytest.raises(FileNotFoundError, match=f"no spectrum of {down}"):
        SpectrumStore(tmp_path / "q-only").of(down, np.zeros((2, 2), dtype=np.float32))
