"""Update geometry: the shape of a checkpoint's weight change ΔW = W_t - W_r against its reference, per linear
weight. How sparse it is (entries left exactly unchanged, also after rounding to bfloat16 as Mukherjee et al.
2025, "RL finetunes small subnetworks", count them), its numerical rank, how much of its energy lies in the
reference's principal subspaces or on the reference's smallest weights, and the checkpoint's intruder dimensions
(Shuttleworth et al. 2024, "LoRA vs Full Fine-tuning: An Illusion of Equivalence"). Each energy share comes
with its value for a random ΔW of the same size. :func:`overlap_table` compares which coordinates two
checkpoints updated.

One matrix at a time: besides the reference and checkpoint arrays (the checkpoint's becomes the change), a
matrix's analysis holds the reference's smaller Gram matrix and its eigenvectors (in float64), its top-k singular
vectors on the other side, a few boolean masks and small projections: under two copies of the matrix in all.
Given the two models' stored spectra (the workflow writes each model's once), only the change is decomposed.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import numpy as np

from ..options import option
from .base import Analysis
from .spectrum import Spectrum, SpectrumStore, blocks
from .weights import MATRICES, WeightReader, WeightsConfig, linear_weights

__all__ = [
    "ANALYSIS", "UpdateConfig", "bf16_changed", "intruder_dimensions", "overlap_table", "random_jaccard",
    "update_analysis", "update_matrix", "update_overlap",
]  # fmt: skip


@dataclass(kw_only=True)
class UpdateConfig(WeightsConfig):
    """Sparsity, rank, principal-subspace and small-weight shares of the weight change and intruder dimensions
    of every linear weight, each against its value for a random change."""

    rank_tolerance: float = option(
        1e-3,
        "singular values of the change above this share of its largest count towards its numerical rank (1e-3: "
        "directions with at least 0.1% of the top direction's gain, well above float32 round-off)",
        exclusiveMinimum=0,
        exclusiveMaximum=1,
    )
    intruder_threshold: float = option(
        0.5,
        "a top singular vector of the checkpoint is an intruder when its |cosine| with every singular vector of "
        "the reference stays below this (0.5, Shuttleworth et al. 2024)",
        exclusiveMinimum=0,
        maximum=1,
    )
    intruder_top: int = option(
        10, "how many of the checkpoint's top left singular vectors are checked (0: none)", minimum=0
    )


def _energy(matrix: np.ndarray) -> float:
    """||matrix||_F^2 accumulated in float64, a block of rows at a time (no full-size temporary)."""
    total = 0.0
    for rows in blocks(*matrix.shape):
        block = matrix[rows]
        total += float(np.einsum("ij,ij->", block, block, dtype=np.float64))
    return total


def bf16_changed(reference: np.ndarray, checkpoint: np.ndarray) -> np.ndarray:
    """Boolean mask of the entries that differ once both are rounded to bfloat16 (torch rounds to nearest even),
    a block of rows at a time so the rounded copies stay small."""
    import torch

    changed = np.empty(reference.shape, dtype=bool)
    for rows in blocks(*reference.shape):
        a = torch.from_numpy(np.ascontiguousarray(reference[rows])).to(torch.bfloat16)
        b = torch.from_numpy(np.ascontiguousarray(checkpoint[rows])).to(torch.bfloat16)
        changed[rows] = (a != b).numpy()
    return changed


def _top_left_vectors(matrix: np.ndarray, top: int) -> np.ndarray:
    """The ``top`` leading left singular vectors (columns), from the eigenvectors of the smaller Gram matrix:
    one r x r product and a partial eigensolve instead of a full SVD (no copy of the matrix, no n x r factor).
    Squaring the spectrum costs accuracy only in the small singular values; the leading vectors only need to be
    told apart from the reference's at a cosine of ~0.5."""
    from scipy.linalg import eigh

    m, n = matrix.shape
    top = min(top, m, n)
    gram = matrix @ matrix.T if m <= n else matrix.T @ matrix
    size = gram.shape[0]
    values, vectors = eigh(gram, subset_by_index=[size - top, size - 1], overwrite_a=True, check_finite=False)
    values, vectors = values[::-1], vectors[:, ::-1]  # largest first
    if m <= n:
        return vectors
    # u_i = W v_i / s_i; a zero singular value has no direction to compare: leave its column zero
    s = np.sqrt(np.clip(values, 0, None))
    return (matrix @ vectors) / np.where(s > 0, s, np.inf)


def intruder_dimensions(reference: np.ndarray, checkpoint: np.ndarray, top: int, threshold: float) -> int:
    """Among the checkpoint's ``top`` leading left singular vectors, how many have |cosine| below ``threshold``
    with every left singular vector of the reference (all min(m, n) of them)."""
    spectrum = Spectrum.compute(np.asarray(reference, dtype=np.float32))
    return _intruders(spectrum, _top_left_vectors(np.asarray(checkpoint, dtype=np.float32), top), threshold)


def _intruders(spectrum: Spectrum, u_new: np.ndarray, threshold: float) -> int:
    if u_new.shape[1] == 0:
        return 0
    cosines = spectrum.left_cosines(u_new).max(axis=0)
    return int(np.count_nonzero((cosines < threshold) & (np.linalg.norm(u_new, axis=0) > 0)))


def update_matrix(
    reference: np.ndarray, checkpoint: np.ndarray, options: UpdateConfig | None = None, spectra: tuple | None = None
) -> dict:
    """The update geometry of one weight. ``spectra``: the two matrices' :class:`Spectrum` (else the reference's
    is computed here, and the checkpoint's leading vectors alone). The checkpoint's float32 array is consumed: its
    buffer becomes the change."""
    options = options or UpdateConfig()
    if reference.shape != checkpoint.shape:
        raise ValueError(f"shapes differ: {reference.shape} vs {checkpoint.shape}")
    if not 0 < options.fraction <= 0.5:
        raise ValueError(f"fraction must lie in (0, 0.5], not {options.fraction}")
    reference, checkpoint = (np.ascontiguousarray(a, dtype=np.float32) for a in (reference, checkpoint))
    m, n = reference.shape
    size, rank = m * n, min(m, n)
    k = max(1, int(options.fraction * rank))
    # WeightReader upcasts bf16/fp16 to float32 exactly, so two entries are equal in float32 iff they are equal
    # in the stored dtype: comparing the float32 arrays counts the stored tensors' unchanged entries.
    unchanged = np.count_nonzero(reference == checkpoint) / size
    unchanged_bf16 = 1 - np.count_nonzero(bf16_changed(reference, checkpoint)) / size
    # the reference's smallest-magnitude decile: the ceil(10%) smallest |w| and any ties with the largest of them
    magnitude = np.abs(reference)
    kth = max(0, int(np.ceil(0.1 * size)) - 1)
    magnitude.reshape(-1).partition(kth)
    threshold = magnitude.reshape(-1)[kth]
    np.abs(reference, out=magnitude)
    small = magnitude <= threshold
    del magnitude
    u_new = None
    if options.intruder_top:  # before the checkpoint's buffer becomes the change
        top = min(options.intruder_top, m, n)
        u_new = spectra[1].top(top)[0] if spectra else _top_left_vectors(checkpoint, top)
    delta = checkpoint
    delta -= reference  # the checkpoint's buffer now holds the change
    energy = _energy(delta)
    small_energy = float(np.square(delta[small], dtype=np.float64).sum())
    small_share_random = np.count_nonzero(small) / size  # 0.1 but for ties in |w|
    del small
    reference_energy = _energy(reference)
    spectrum = spectra[0] if spectra else Spectrum.compute(reference)
    u_k, v_k = spectrum.top(k)
    # ||U_k U_kᵀ ΔW V_k V_kᵀ||² = ||U_kᵀ ΔW V_k||² (orthonormal bases): a k x n then a k x k product
    # in the change's float32: a float64 factor would make numpy upcast a whole copy of the change
    inside = (u_k.T.astype(delta.dtype) @ delta) @ v_k.astype(delta.dtype)
    principal_energy = float(np.square(inside, dtype=np.float64).sum())
    intruders = _intruders(spectrum, u_new, options.intruder_threshold) if u_new is not None else None
    s_ref = spectrum.values[0]
    del spectrum, u_k, v_k, inside, u_new
    s_delta = Spectrum.compute(delta, vectors=False).values if energy > 0 else np.zeros(1)
    row = {
        "rows": m, "cols": n, "k": k, "unchanged_share": unchanged, "unchanged_share_bf16": unchanged_bf16,
        "update_rank": float(np.count_nonzero(s_delta > options.rank_tolerance * s_delta[0])) / rank
        if s_delta[0] > 0 else 0.0,
        "principal_share": principal_energy / energy if energy > 0 else 0.0,
        # A random ΔW (i.i.d. entries) spreads its energy evenly over the m·n orthonormal rank-one directions
        # u_i v_jᵀ of any pair of bases; k·k of them span the pair of top-k subspaces.
        "principal_share_random": k * k / size,
        "small_weight_share": small_energy / energy if energy > 0 else 0.0,
        "small_weight_share_random": small_share_random,
        "delta_top_sv": float(s_delta[0] / s_ref) if s_ref else 0.0,  # the change's largest gain, in W_r's
        "delta_stable_rank": energy / float(s_delta[0]) ** 2 if s_delta[0] > 0 else 0.0,
        "delta_energy": energy,  # ||ΔW||²: the summary's weight for the energy shares
        "delta_norm": float(np.sqrt(energy / reference_energy)) if reference_energy else 0.0,
    }  # fmt: skip
    if intruders is not None:
        row["intruders"] = intruders
    return row


def update_analysis(
    reference_dir: str | os.PathLike, model_dir: str | os.PathLike, options: UpdateConfig, spectra: tuple = (None, None)
) -> dict:
    """``rows``: one per (layer, matrix); ``summary``: over all compared weights, the entry shares
    (``update_unchanged_share``, ``_bf16``) weighted by entry count (the share of all entries), the energy
    shares (``update_principal_share``, ``update_small_weight_share`` and their ``_random`` values) weighted by
    ||ΔW||² (the share of the whole update's energy), ``update_rank`` the plain mean over weights, and
    ``update_intruders`` the total count. ``spectra``: the two models' stored spectra folders (None: computed)."""
    reference, checkpoint = WeightReader(reference_dir), WeightReader(model_dir)
    stored = [SpectrumStore(folder) if folder is not None else None for folder in spectra]
    rows = []
    for layer, matrix, name in linear_weights(checkpoint, options.matrices):
        before, after = reference.load(name), checkpoint.load(name)
        pair = (stored[0].of(name, before), stored[1].of(name, after)) if all(stored) else None
        rows.append({"layer": layer, "matrix": matrix, **update_matrix(before, after, options, pair)})
    if not rows:
        raise ValueError(f"{model_dir}: no linear layer weights found (q/k/v/o/gate/up/down_proj)")
    entries = np.array([row["rows"] * row["cols"] for row in rows], dtype=np.float64)
    energies = np.array([row["delta_energy"] for row in rows])

    def weighted(key: str, weights: np.ndarray) -> float:
        total = weights.sum()
        return float(np.dot([row[key] for row in rows], weights) / total) if total > 0 else 0.0

    summary = {
        "update_unchanged_share": weighted("unchanged_share", entries),
        "update_unchanged_share_bf16": weighted("unchanged_share_bf16", entries),
        "update_rank": float(np.mean([row["update_rank"] for row in rows])),
        "update_principal_share": weighted("principal_share", energies),
        "update_principal_share_random": weighted("principal_share_random", energies),
        "update_small_weight_share": weighted("small_weight_share", energies),
        "update_small_weight_share_random": weighted("small_weight_share_random", energies),
    }
    if options.intruder_top:
        summary["update_intruders"] = int(sum(row["intruders"] for row in rows))
    return {"summary": summary, "rows": rows}


def random_jaccard(p1: float, p2: float) -> float:
    """Expected Jaccard overlap of two independent random sets of densities p1, p2 in a large ground set:
    intersection p1·p2, union p1 + p2 - p1·p2 (0 when both are empty)."""
    union = p1 + p2 - p1 * p2
    return p1 * p2 / union if union > 0 else 0.0


def overlap_table(
    reference_dir: str | os.PathLike, checkpoints: dict[str, str | os.PathLike], matrices=MATRICES
) -> list[dict]:
    """Pairwise overlap of the updated coordinates (entries that differ from the reference in bfloat16, as
    ``unchanged_share_bf16`` counts them) of checkpoints of one reference, pooled over their linear weights:
    rows {first, second, jaccard, random_jaccard, first_density, second_density}. Jaccard is 0 when neither
    updated anything. Each weight is read once per checkpoint."""
    labels = list(checkpoints)
    reference = WeightReader(reference_dir)
    readers = {label: WeightReader(path) for label, path in checkpoints.items()}
    pairs = list(itertools.combinations(labels, 2))
    changed = dict.fromkeys(labels, 0)
    both = dict.fromkeys(pairs, 0)
    total = 0
    for _, _, name in linear_weights(reference, matrices):
        before = reference.load(name)
        masks = {label: bf16_changed(before, reader.load(name)) for label, reader in readers.items()}
        total += before.size
        for label, mask in masks.items():
            changed[label] += int(np.count_nonzero(mask))
        for first, second in pairs:
            both[first, second] += int(np.count_nonzero(masks[first] & masks[second]))
    if not total:
        raise ValueError(f"{reference_dir}: no linear layer weights found (q/k/v/o/gate/up/down_proj)")
    rows = []
    for first, second in pairs:
        union = changed[first] + changed[second] - both[first, second]
        p1, p2 = changed[first] / total, changed[second] / total
        rows.append({
            "first": first, "second": second, "jaccard": both[first, second] / union if union else 0.0,
            "random_jaccard": random_jaccard(p1, p2), "first_density": p1, "second_density": p2,
        })  # fmt: skip
    return rows


def update_overlap(
    first_dir: str | os.PathLike, second_dir: str | os.PathLike, reference_dir: str | os.PathLike, matrices=MATRICES
) -> float:
    """Jaccard overlap of the coordinates two checkpoints of one reference updated (see :func:`overlap_table`)."""
    return overlap_table(reference_dir, {"first": first_dir, "second": second_dir}, matrices)[0]["jaccard"]


def run(inputs) -> dict:
    return update_analysis(inputs.reference_dir, inputs.model_dir, inputs.options, inputs.spectra)


def draw(data, outputs: list) -> list[dict]:
    """Top: share of entries unchanged in bfloat16 per layer, one line per matrix. Bottom: share of the change's
    energy inside the reference's top-k singular subspaces per layer, a random change's share dotted."""
    from matplotlib.ticker import MaxNLocator

    from ..report.analysis import EMPTY, empty_figure, panels, rows_of, save_figure

    table = data.analysis.get("update", EMPTY)
    if table.empty:
        return empty_figure(outputs, "update geometry")
    fig, axes, labels = panels(table, rows=2)
    for column, label in enumerate(labels):
        rows = rows_of(table, label)
        for matrix, group in rows.groupby("matrix", sort=False):
            (line,) = axes[0][column].plot(group["layer"], group["unchanged_share_bf16"], marker=".", label=matrix)
            color = line.get_color()
            axes[1][column].plot(group["layer"], group["principal_share"], marker=".", color=color, label=matrix)
            axes[1][column].plot(group["layer"], group["principal_share_random"], ":", color=color, linewidth=0.8)
        axes[0][column].set(title=label, ylabel="entries unchanged in bfloat16 (share)", xlabel="layer")
        axes[1][column].set(ylabel="update energy in top-k subspaces (share)\ndotted: random update", xlabel="layer")
        for ax in axes[:, column]:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    # one scale per row, so checkpoints compare at a glance (RL's sparse update against SFT's dense one)
    for ax in axes[0]:
        ax.set_ylim(max(0.0, table["unchanged_share_bf16"].min() - 0.02), 1.0)
    for ax in axes[1]:
        ax.set_ylim(0, 1.05 * max(table["principal_share"].max(), table["principal_share_random"].max()))
    axes[0][0].legend(fontsize=7, ncol=2)
    return save_figure(fig, outputs)


ANALYSIS = Analysis("update", UpdateConfig, run, draw, reads_items=False, reads_spectra=True, flags=("fraction",))
