"""A weight matrix's singular values and vectors from the eigendecomposition of its smaller Gram matrix: for the
weight analyses, which read one matrix at a time and must stay within a few copies of it.

A model's spectra can be written once (:func:`write_spectra`, one file per weight: the values and the smaller
side's vectors) and read by every analysis and restore of that model (:class:`SpectrumStore`), so no weight is
decomposed twice; the larger side's vectors are one product with the matrix away."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..io import atomic_dir
from .weights import MATRICES, WeightReader, linear_weights

__all__ = ["BLOCK", "Spectrum", "SpectrumStore", "blocks", "write_spectra"]

BLOCK = 1 << 20  # entries per block when converting, rounding or summing (bounds the temporaries)


def blocks(rows: int, cols: int):
    """Slices of about BLOCK entries over the first axis of a rows x cols array."""
    step = max(1, BLOCK // max(cols, 1))
    return (slice(i, i + step) for i in range(0, rows, step))


class Spectrum:
    """A matrix's singular values (largest first) and the singular vectors of its smaller side (columns; None when
    only the values were asked for); the larger side's vectors come from the matrix as asked for (:meth:`pair`),
    never as the n x r factor a thin SVD writes."""

    def __init__(self, matrix: np.ndarray, values: np.ndarray, vectors: np.ndarray | None):
        self.matrix, self.wide = matrix, matrix.shape[0] <= matrix.shape[1]
        self.values, self.vectors = values, vectors

    @classmethod
    def compute(cls, matrix: np.ndarray, vectors: bool = True) -> Spectrum:
        """From the Gram matrix, summed in float64 a block at a time. Squaring the spectrum loses only singular
        values below ~1e-8 of the largest, which no measure here reads (ranks count values above 1e-3 of the
        largest); ``vectors=False``: the singular values alone, a third of the work."""
        from scipy.linalg import eigh, eigvalsh

        wide = matrix.shape[0] <= matrix.shape[1]
        side = matrix.shape[0] if wide else matrix.shape[1]
        gram = np.zeros((side, side))
        for block in blocks(*(matrix.shape if not wide else matrix.shape[::-1])):
            part = (matrix[:, block] if wide else matrix[block]).astype(np.float64)
            gram += part @ part.T if wide else part.T @ part
        if vectors:  # MRRR (evr): O(side) workspace where the default divide and conquer takes 2·side² more
            values, found = eigh(gram, overwrite_a=True, check_finite=False, driver="evr")
            found = found[:, ::-1]
        else:
            values, found = eigvalsh(gram, overwrite_a=True, check_finite=False), None
        return cls(matrix, np.sqrt(np.clip(values[::-1], 0, None)), found)

    def pair(self, indices) -> tuple[np.ndarray, np.ndarray]:
        """(U_I, V_I): the left and right singular vectors of the components ``indices`` (a slice or an index
        array), as columns. The larger side's are Wᵀu / s (or W v / s), in the matrix's dtype; zero where s is 0."""
        own = self.vectors[:, indices]
        s = self.values[indices]
        part = own.astype(self.matrix.dtype)
        other = self.matrix.T @ part if self.wide else self.matrix @ part
        other /= np.where(s > 0, s, np.inf)
        return (own, other) if self.wide else (other, own)

    def top(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(U_k, V_k): the leading k left and right singular vectors, as columns."""
        return self.pair(slice(0, k))

    def left_cosines(self, vectors: np.ndarray) -> np.ndarray:
        """|cosine| of each column of ``vectors`` with each of the min(m, n) left singular vectors (rows)."""
        if self.wide:
            return np.abs(self.vectors.T @ vectors)
        # u_j = W v_j / s_j, so U_rᵀ x = diag(1/s) V_rᵀ Wᵀ x: no m x r factor
        s = self.values
        return np.abs((self.vectors.T @ (self.matrix.T @ vectors)) / np.where(s > 0, s, np.inf)[:, None])

    def diagonal(self, change: np.ndarray, chunk: int = 256) -> np.ndarray:
        """u_iᵀ ΔW v_i for every component i: how much of a change ΔW (same shape) lies on each of the matrix's
        own rank-one directions. A block of ``chunk`` components at a time (bounds the products)."""
        s = np.where(self.values > 0, self.values, np.inf)
        out = np.empty(len(self.values))
        for start in range(0, len(out), chunk):
            part = self.vectors[:, start : start + chunk].astype(self.matrix.dtype)
            if self.wide:  # v_i = Wᵀ u_i / s_i
                sums = np.einsum("ij,ij->i", part.T @ change, part.T @ self.matrix, dtype=np.float64)
            else:  # u_i = W v_i / s_i
                sums = np.einsum("ij,ij->j", change @ part, self.matrix @ part, dtype=np.float64)
            out[start : start + chunk] = sums / s[start : start + chunk]
        return out


def _file(folder: Path, name: str) -> Path:
    return folder / f"{name}.safetensors"


def write_spectra(model_dir: str | os.PathLike, out_dir: str | os.PathLike, matrices=MATRICES) -> int:
    """The spectrum of every linear weight of ``model_dir`` (the ``matrices`` of each layer) into ``out_dir``,
    one file per weight (values in float64, the smaller side's vectors in float32); how many were written."""
    from safetensors.numpy import save_file

    reader = WeightReader(model_dir)
    weights = list(linear_weights(reader, matrices))
    if not weights:
        raise ValueError(f"{model_dir}: no linear layer weights found (q/k/v/o/gate/up/down_proj)")
    with atomic_dir(out_dir) as folder:
        for _, _, name in weights:
            spectrum = Spectrum.compute(reader.load(name))
            vectors = np.ascontiguousarray(spectrum.vectors, dtype=np.float32)
            save_file({"values": spectrum.values, "vectors": vectors}, str(_file(folder, name)))
    return len(weights)


class SpectrumStore:
    """The spectra :func:`write_spectra` wrote for a model, by weight name; without a folder each is computed
    from its matrix when asked for."""

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = Path(folder) if folder is not None else None

    def of(self, name: str, matrix: np.ndarray) -> Spectrum:
        """The spectrum of weight ``name``, whose float32 ``matrix`` its larger side's vectors are computed from."""
        if self.folder is None:
            return Spectrum.compute(matrix)
        from safetensors import safe_open

        path = _file(self.folder, name)
        if not path.exists():
            raise FileNotFoundError(f"{self.folder}: no spectrum of {name} (written for other matrices?)")
        with safe_open(str(path), "np") as handle:
            values, vectors = handle.get_tensor("values"), handle.get_tensor("vectors")
        if vectors.shape != (min(matrix.shape),) * 2:
            raise ValueError(f"{path}: a spectrum of size {len(values)}, but {name} is {matrix.shape}: another model's")
        return Spectrum(matrix, values, vectors)
