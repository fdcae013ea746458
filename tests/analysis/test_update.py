"""Update geometry against constructed cases with known answers, and end to end on the tiny model."""

import json

import numpy as np
import pytest
from scipy.stats import ortho_group

from forgetlab.analysis.update import (
    UpdateConfig,
    intruder_dimensions,
    overlap_table,
    random_jaccard,
    update_matrix,
    update_overlap,
)
from tests.conftest import perturbed_copy


def _weight(m=40, n=30, seed=0):
    """A float32 weight with distinct singular values 10..1: (W, U, V) with U, V its full orthogonal bases."""
    u, v = ortho_group.rvs(m, random_state=seed), ortho_group.rvs(n, random_state=seed + 1)
    s = np.linspace(10, 1, min(m, n))
    return ((u[:, : len(s)] * s) @ v[:, : len(s)].T).astype(np.float32), u, v


def _geometry(reference, checkpoint, **options):
    return update_matrix(reference.copy(), checkpoint.astype(np.float32), UpdateConfig(**options))


def test_exactly_a_known_share_of_changed_entries_is_counted():
    w, *_ = _weight()
    changed = w.copy()
    flat = changed.reshape(-1)
    picked = np.random.default_rng(0).choice(flat.size, size=flat.size * 15 // 100, replace=False)
    flat[picked] += 1.0
    row = _geometry(w, changed)
    assert row["unchanged_share"] == pytest.approx(0.85) and row["unchanged_share_bf16"] == pytest.approx(0.85)


def test_changes_below_bfloat16_resolution_are_unchanged_in_bf16_only():
    w = np.random.default_rng(1).standard_normal((32, 48)).astype(np.float32)
    import torch

    w = torch.from_numpy(w).to(torch.bfloat16).float().numpy()  # a bf16-representable reference
    row = _geometry(w, w * (1 + 1e-4))
    assert row["unchanged_share"] < 0.01 and row["unchanged_share_bf16"] == 1.0


def test_a_change_inside_the_reference_top_subspaces_has_principal_share_one_and_outside_zero():
    w, u, v = _weight()
    row = _geometry(w, w, fraction=0.2)
    k = row["k"]
    assert k == 6 and row["principal_share_random"] == pytest.approx(36 / (40 * 30))
    a = np.random.default_rng(2).standard_normal((k, k))
    inside = _geometry(w, w + u[:, :k] @ a @ v[:, :k].T, fraction=0.2)
    assert inside["principal_share"] == pytest.approx(1.0, abs=1e-6)
    b = np.random.default_rng(3).standard_normal((40 - k, 30 - k))
    outside = _geometry(w, w + u[:, k:] @ b @ v[:, k:].T, fraction=0.2)
    assert outside["principal_share"] == pytest.approx(0.0, abs=1e-6)


def test_an_unchanged_weight_has_no_update():
    w, *_ = _weight()
    row = _geometry(w, w)
    assert row["unchanged_share"] == 1.0 and row["unchanged_share_bf16"] == 1.0
    assert row["update_rank"] == 0.0 and row["principal_share"] == 0.0 and row["small_weight_share"] == 0.0
    assert row["delta_energy"] == 0.0 and row["intruders"] == 0


@pytest.mark.parametrize("r", [1, 3, 7])
def test_a_sum_of_r_outer_products_has_rank_r(r):
    w, *_ = _weight()
    rng = np.random.default_rng(r)
    delta = rng.standard_normal((40, r)) @ rng.standard_normal((r, 30))
    assert _geometry(w, w + delta)["update_rank"] == pytest.approx(r / 30)


def test_a_change_on_the_smallest_weights_puts_its_energy_there():
    w = np.arange(1, 101, dtype=np.float32).reshape(10, 10)  # |w| 1..100: the decile is 1..10
    delta = np.zeros_like(w)
    delta.reshape(-1)[:10] = 3.0  # on the smallest decile
    delta.reshape(-1)[50] = 4.0  # elsewhere
    row = _geometry(w, w + delta)
    assert row["small_weight_share"] == pytest.approx(90 / 106) and row["small_weight_share_random"] == 0.1
    random = _geometry(w, w + np.random.default_rng(4).standard_normal(w.shape).astype(np.float32))
    assert 0 < random["small_weight_share"] < 0.3


def test_a_spike_orthogonal_to_the_reference_is_one_intruder_dimension():
    w, u, v = _weight(m=40, n=30)  # tall: the reference's 30 left singular vectors leave 10 directions unused
    spike = 50 * np.outer(u[:, 35], v[:, 0])
    assert intruder_dimensions(w, w, top=10, threshold=0.5) == 0
    assert intruder_dimensions(w, w + spike, top=10, threshold=0.5) == 1
    assert _geometry(w, w + spike, intruder_top=10)["intruders"] == 1
    assert "intruders" not in _geometry(w, w + spike, intruder_top=0)


def test_the_gram_route_finds_the_leading_singular_vectors_of_wide_and_tall_matrices():
    from forgetlab.analysis.update import _top_left_vectors

    for shape in ((30, 40), (40, 30)):
        w = np.random.default_rng(5).standard_normal(shape).astype(np.float32) * np.linspace(3, 1, shape[1])
        u = np.linalg.svd(w.astype(np.float64))[0][:, :5]
        assert np.abs(np.sum(u * _top_left_vectors(w, 5), axis=0)) == pytest.approx(np.ones(5), abs=1e-4)


def test_the_random_jaccard_is_the_expected_overlap_of_independent_sets():
    assert random_jaccard(0.5, 0.5) == pytest.approx(0.25 / 0.75)
    assert random_jaccard(1.0, 0.3) == pytest.approx(0.3) and random_jaccard(0.0, 0.0) == 0.0
    rng = np.random.default_rng(6)
    a, b = rng.random(200_000) < 0.2, rng.random(200_000) < 0.05
    assert np.count_nonzero(a & b) / np.count_nonzero(a | b) == pytest.approx(random_jaccard(0.2, 0.05), rel=0.03)


def _with_weights(model_dir, folder, change):
    """A copy of the model with ``change(name, tensor)`` applied to every tensor."""
    from safetensors.torch import load_file, save_file

    folder.mkdir()
    for path in model_dir.iterdir():
        if path.name != "model.safetensors":
            (folder / path.name).write_bytes(path.read_bytes())
    tensors = load_file(str(model_dir / "model.safetensors"))
    save_file(
        {name: change(name, t.clone()).to(t.dtype).contiguous() for name, t in tensors.items()},
        str(folder / "model.safetensors"),
    )
    return folder


def test_the_overlap_of_constructed_coordinate_sets(tiny_model, tmp_path):
    def first(name, t):
        t.view(-1)[: t.numel() // 2] += 1.0  # the first half of each weight
        return t

    def second(name, t):
        t.view(-1)[t.numel() // 4 : t.numel() * 3 // 4] += 1.0  # the middle half: a third of the union is shared
        return t

    a, b = _with_weights(tiny_model, tmp_path / "a", first), _with_weights(tiny_model, tmp_path / "b", second)
    assert update_overlap(a, b, tiny_model) == pytest.approx(1 / 3, abs=0.01)
    (row,) = overlap_table(tiny_model, {"a": a, "b": b})
    assert row["first"] == "a" and row["second"] == "b" and row["first_density"] == pytest.approx(0.5, abs=0.01)
    assert row["random_jaccard"] == pytest.approx(1 / 3, abs=0.01)  # half and half at random also share a third
    assert update_overlap(a, a, tiny_model) == 1.0 and update_overlap(tiny_model, tiny_model, tiny_model) == 0.0


def test_the_analysis_runs_on_a_model_and_from_the_command_line(tiny_model, tmp_path):
    from forgetlab.analysis import run_analysis
    from forgetlab.cli import main

    moves = lambda name: "mlp" in name  # noqa: E731
    (tmp_path / "ckpt").mkdir()
    checkpoint = perturbed_copy(tiny_model, tmp_path / "ckpt", 0.02, seed=0, moves=moves)
    result = run_analysis("update", tiny_model, checkpoint, {"fraction": 0.25})
    rows = result["rows"]
    assert {row["matrix"] for row in rows} == {"q", "k", "v", "o", "gate", "up", "down"}
    attention = [row for row in rows if row["matrix"] in "qkvo"]
    assert all(row["unchanged_share"] == 1.0 and row["delta_energy"] == 0.0 for row in attention)
    summary = result["summary"]
    out = tmp_path / "update.json"
    assert main(["analyse", "update", "--reference", str(tiny_model), "--model", str(checkpoint), "--out",
                 str(out), "--fraction", "0.25"]) in (None, 0)  # fmt: skip
    written = json.loads(out.read_text())
    assert written["analysis"] == "update" and written["summary"] == pytest.approx(summary)
    assert set(summary) == {
        "update_unchanged_share", "update_unchanged_share_bf16", "update_rank", "update_principal_share",
        "update_principal_share_random", "update_small_weight_share", "update_small_weight_share_random",
        "update_intruders",
    }  # fmt: skip
    # Gaussian noise on the MLP only: a full-rank change spread like a random one
    assert 0 < summary["update_unchanged_share"] < 1
    assert all(row["update_rank"] == 1.0 for row in rows if row["matrix"] not in "qkvo")
    assert summary["update_principal_share"] == pytest.approx(summary["update_principal_share_random"], rel=0.3)
    assert summary["update_small_weight_share"] == pytest.approx(0.1, abs=0.03)
