"""How the weights moved: per linear weight of every layer, principal angles between the top-k singular
subspaces of a reference and a checkpoint, singular-value drift, and how much of the change rotates rather than
rescales.

One matrix at a time: a matrix's analysis holds the difference, both matrices' spectra (values and smaller side,
read from a stored spectrum or computed) and their top-k vectors, never the whole model.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from ..options import option
from .base import Analysis
from .spectrum import Spectrum, SpectrumStore
from .weights import WeightReader, WeightsConfig, linear_weights

__all__ = ["ANALYSIS", "SVDConfig", "compare_matrix", "principal_angles", "random_subspace_angle", "svd_analysis"]


def principal_angles(a: np.ndarray, b: np.ndarray, orthonormal: bool = False) -> np.ndarray:
    """Principal angles in degrees, smallest first, between the column spans of ``a`` and ``b`` (in float64).

    ``scipy.linalg.subspace_angles`` first orthonormalises both bases with an SVD each; singular vectors are
    orthonormal already, so with ``orthonormal`` its algorithm runs without that step (same values: the tests
    compare the two): cosines from the singular values of aᵀb, and the small angles, where arccos is inaccurate,
    from the sines of b's component outside span(a).
    """
    from scipy.linalg import subspace_angles, svdvals

    a, b = a.astype(np.float64), b.astype(np.float64)
    if not orthonormal:
        return np.degrees(subspace_angles(a, b))[::-1]  # scipy gives them largest first
    if a.shape[1] < b.shape[1]:
        a, b = b, a
    cross = a.T @ b
    cosines = svdvals(cross)  # largest first: the smallest angles first
    sines = svdvals(b - a @ cross)[::-1]  # smallest first
    small = cosines**2 >= 0.5
    return np.degrees(np.where(small, np.arcsin(np.clip(sines, -1, 1)), np.arccos(np.clip(cosines, -1, 1))))


@functools.lru_cache(maxsize=64)
def random_subspace_angle(n: int, k: int, seed: int = 0) -> float:
    """Mean principal angle (degrees) between two random k-dimensional subspaces of R^n: the value two
    unrelated subspaces of the same size reach (near 90 when k << n, lower as k approaches n / 2)."""
    rng = np.random.default_rng(seed)
    a, _ = np.linalg.qr(rng.standard_normal((n, k)))
    b, _ = np.linalg.qr(rng.standard_normal((n, k)))
    return float(principal_angles(a, b).mean())


def compare_matrix(
    reference: np.ndarray, checkpoint: np.ndarray, fraction: float, seed: int = 0, spectra: tuple | None = None
) -> list[dict]:
    """Rows for the left (column space) and right (row space) singular subspaces of one weight. ``spectra``: the
    two matrices' :class:`Spectrum` (else computed here). The checkpoint's array is consumed: its buffer becomes
    the change."""
    if reference.shape != checkpoint.shape:
        raise ValueError(f"shapes differ: {reference.shape} vs {checkpoint.shape}")
    if not 0 < fraction <= 0.5:
        raise ValueError(f"fraction must lie in (0, 0.5], not {fraction}")
    m, n = reference.shape
    k = max(1, int(fraction * min(m, n)))
    old, new = spectra or (Spectrum.compute(reference), Spectrum.compute(checkpoint))
    u_new, v_new = new.top(k)  # before the checkpoint's buffer becomes the change
    u_ref, v_ref = old.top(k)
    left = principal_angles(u_ref, u_new, orthonormal=True)
    right = principal_angles(v_ref, v_new, orthonormal=True)
    del u_ref, v_ref, u_new, v_new
    s_ref, s_new = old.values, new.values
    delta = checkpoint
    delta -= reference
    delta_energy = float(np.square(delta, dtype=np.float64).sum())
    diagonal = old.diagonal(delta)
    reference_norm = float(np.sqrt(np.square(s_ref).sum()))
    kept = s_ref > s_ref[0] * 1e-3  # relative drift of the singular values that carry the map, not of near-zeros
    shared = {
        "rows": m,
        "cols": n,
        "k": k,
        "sv_drift": float(np.mean((s_new[kept] - s_ref[kept]) / s_ref[kept])),
        "sv_drift_top": float(np.mean((s_new[:k] - s_ref[:k]) / s_ref[:k])),
        "rotation_share": float(1 - np.square(diagonal).sum() / delta_energy) if delta_energy > 0 else 0.0,
        "delta_norm": float(np.sqrt(delta_energy)) / reference_norm if reference_norm else 0.0,
    }
    rows = []
    for side, angles, dim in (("left", left, m), ("right", right, n)):
        rows.append({
            "side": side, **shared, "mean_angle": float(angles.mean()), "max_angle": float(angles.max()),
            "chordal": float(np.sqrt(np.square(np.sin(np.radians(angles))).sum())),
            "random_mean_angle": random_subspace_angle(dim, k, seed),
        })  # fmt: skip
    return rows


@dataclass(kw_only=True)
class SVDConfig(WeightsConfig):
    """Principal angles between the top-k singular subspaces, singular-value drift and rotation share of every
    linear weight."""

    seed: int = option(0, "seed of the random-subspace baseline")


def svd_analysis(
    reference_dir: str | os.PathLike, model_dir: str | os.PathLike, options: SVDConfig, spectra: tuple = (None, None)
) -> dict:
    """``rows``: one per (layer, matrix, side) of every linear weight; ``summary``: their means, and the relative
    size of the whole change (``weight_change``: ||W_t - W_r|| / ||W_r|| over all the weights compared).
    ``spectra``: the two models' stored spectra folders (None: computed here)."""
    reference, checkpoint = WeightReader(reference_dir), WeightReader(model_dir)
    stores = [SpectrumStore(folder) for folder in spectra]
    rows, change, size = [], 0.0, 0.0
    for layer, matrix, name in linear_weights(checkpoint, options.matrices):
        before, after = reference.load(name), checkpoint.load(name)
        energy = float(np.square(before).sum())
        pair = (stores[0].of(name, before), stores[1].of(name, after))
        for row in compare_matrix(before, after, options.fraction, options.seed, pair):
            rows.append({"layer": layer, "matrix": matrix, **row})
        size, change = size + energy, change + rows[-1]["delta_norm"] ** 2 * energy
    if not rows:
        raise ValueError(f"{model_dir}: no linear layer weights found (q/k/v/o/gate/up/down_proj)")

    def mean(key: str) -> float:
        return float(np.mean([row[key] for row in rows]))

    summary = {
        "svd_mean_angle": mean("mean_angle"), "svd_max_angle": float(max(row["max_angle"] for row in rows)),
        "svd_random_mean_angle": mean("random_mean_angle"), "svd_sv_drift": mean("sv_drift"),
        "svd_rotation_share": mean("rotation_share"), "weight_change": float(np.sqrt(change / size)),
    }  # fmt: skip
    return {"summary": summary, "rows": rows}


def run(inputs) -> dict:
    return svd_analysis(inputs.reference_dir, inputs.model_dir, inputs.options, inputs.spectra)


MATRIX_STYLES = {"q": "-", "k": "--", "v": "-.", "o": ":", "gate": "-", "up": "--", "down": ":"}


def draw(data, outputs: list) -> list[dict]:
    """Top: mean principal angle (degrees) between the top-k left singular subspaces per layer, one line per
    matrix, the random-subspace baseline dotted. Bottom: mean relative singular-value drift per layer."""
    from matplotlib.ticker import MaxNLocator

    from ..report.analysis import EMPTY, empty_figure, panels, rows_of, save_figure

    table = data.analysis.get("svd", EMPTY)
    if table.empty:
        return empty_figure(outputs, "SVD")
    fig, axes, labels = panels(table, rows=2)
    for column, label in enumerate(labels):
        rows = rows_of(table, label)
        left = rows[rows["side"] == "left"]
        for matrix, group in left.groupby("matrix", sort=False):
            style = MATRIX_STYLES.get(matrix, "-")
            axes[0][column].plot(group["layer"], group["mean_angle"], style, marker=".", label=matrix)
            axes[1][column].plot(group["layer"], 100 * group["sv_drift"], style, marker=".", label=matrix)
        # two unrelated subspaces of the same size sit near this angle: far above what training moves
        title = f"{label}\nrandom subspaces: {left['random_mean_angle'].mean():.0f} degrees"
        axes[0][column].set(title=title, ylabel="mean principal angle, top-k left (degrees)", xlabel="layer")
        axes[1][column].axhline(0, color="grey", linewidth=0.8)
        axes[1][column].set(ylabel="mean singular-value drift (%)", xlabel="layer")
        for ax in axes[:, column]:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0][0].legend(fontsize=7, ncol=2)
    return save_figure(fig, outputs)


ANALYSIS = Analysis("svd", SVDConfig, run, draw, reads_items=False, reads_spectra=True, flags=("fraction",))
