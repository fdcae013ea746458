"""Weight SVD against constructed cases with known answers."""

import numpy as np
import pytest
from scipy.stats import ortho_group

from forgetlab.analysis.svd import compare_matrix, principal_angles, random_subspace_angle


def _weight(m=40, n=30, seed=0):
    """A weight with known, distinct singular values and vectors: (W, U, s, V)."""
    u, v = ortho_group.rvs(m, random_state=seed), ortho_group.rvs(n, random_state=seed + 1)
    s = np.linspace(10, 1, min(m, n))
    return (u[:, : len(s)] * s) @ v[:, : len(s)].T, u, s, v


def _sides(rows):
    return {row["side"]: row for row in rows}


def test_a_rotation_by_a_known_angle_inside_a_chosen_plane_is_recovered():
    w, u, _, _ = _weight()
    theta = np.radians(17.0)
    # rotate the top singular vector u_0 towards u_39, which lies outside the top-k subspace: one angle of 17
    plane = np.stack([u[:, 0], u[:, 39]], axis=1)
    rotation = (
        np.eye(40)
        + plane @ (np.array([[np.cos(theta) - 1, -np.sin(theta)], [np.sin(theta), np.cos(theta) - 1]])) @ plane.T
    )
    rows = _sides(compare_matrix(w.copy(), rotation @ w, fraction=0.2))
    k = rows["left"]["k"]
    assert k == 6
    assert rows["left"]["max_angle"] == pytest.approx(17.0, abs=1e-4)
    assert rows["left"]["mean_angle"] == pytest.approx(17.0 / k, abs=1e-4)
    assert rows["right"]["max_angle"] == pytest.approx(0.0, abs=1e-3)  # the row space did not move
    assert rows["left"]["sv_drift"] == pytest.approx(0.0, abs=1e-5)  # a rotation keeps every singular value
    assert rows["left"]["rotation_share"] > 0.5


def test_pure_rescaling_moves_singular_values_not_directions():
    w, *_ = _weight()
    rows = _sides(compare_matrix(w.copy(), 1.5 * w, fraction=0.25))
    assert rows["left"]["sv_drift"] == pytest.approx(0.5, abs=1e-5)
    assert rows["left"]["max_angle"] == pytest.approx(0.0, abs=1e-2) and rows["right"]["max_angle"] == pytest.approx(
        0.0, abs=1e-2
    )
    assert rows["left"]["rotation_share"] == pytest.approx(0.0, abs=1e-6)
    assert rows["left"]["delta_norm"] == pytest.approx(0.5, abs=1e-5)


def test_identical_weights_have_no_angle_no_drift_no_change():
    w, *_ = _weight()
    rows = compare_matrix(w.copy(), w.copy(), fraction=0.5)
    for row in rows:
        assert row["max_angle"] == pytest.approx(0.0, abs=1e-2) and row["sv_drift"] == 0.0 and row["delta_norm"] == 0.0


def test_k_is_at_most_half_the_smaller_side():
    w, *_ = _weight()
    with pytest.raises(ValueError, match=r"fraction must lie in \(0, 0.5\]"):
        compare_matrix(w.copy(), w.copy(), fraction=0.6)


@pytest.mark.parametrize("n, expected", [(2, 45.0), (3, np.degrees(1.0))])
def test_the_random_subspace_baseline_matches_its_expected_value(n, expected):
    # a random line against another: uniform angle in the plane (mean 45); in 3-D cos is uniform (mean 1 radian)
    mean = np.mean([random_subspace_angle(n, 1, seed) for seed in range(600)])
    assert mean == pytest.approx(expected, abs=2.0)


def test_principal_angles_are_smallest_first_in_degrees():
    a = np.eye(3)[:, :2]
    b = np.stack([np.eye(3)[:, 0], np.array([0.0, np.cos(0.3), np.sin(0.3)])], axis=1)
    assert principal_angles(a, b) == pytest.approx([0.0, np.degrees(0.3)], abs=1e-6)
