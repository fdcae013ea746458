"""A weight matrix's singular values and vectors from the eigendecomposition of its smaller Gram matrix: for the
weight analyses, which read one matrix at a time and must stay within a few copies of it."""

from __future__ import annotations

import numpy as np

__all__ = ["BLOCK", "Spectrum", "blocks"]

BLOCK = 1 << 20  # entries per block when converting, rounding or summing (bounds the temporaries)


def blocks(rows: int, cols: int):
    """Slices of about BLOCK entries over the first axis of a rows x cols array."""
    step = max(1, BLOCK // max(cols, 1))
    return (slice(i, i + step) for i in range(0, rows, step))


class Spectrum:
    """A matrix's singular values and vectors from the eigendecomposition of its smaller Gram matrix, summed in
    float64 a block at a time: the vectors of the smaller side whole, those of the larger side only as asked for
    (``top``), never the n x r factor a thin SVD writes; ``vectors=False``: the singular values alone. Squaring
    the spectrum loses only singular values below ~1e-8 of the largest, which no measure here reads (ranks count
    values above 1e-3 of the largest)."""

    def __init__(self, matrix: np.ndarray, vectors: bool = True):
        from scipy.linalg import eigh, eigvalsh

        self.matrix, self.wide = matrix, matrix.shape[0] <= matrix.shape[1]
        side = matrix.shape[0] if self.wide else matrix.shape[1]
        gram = np.zeros((side, side))
        for block in blocks(*(matrix.shape if not self.wide else matrix.shape[::-1])):
            part = (matrix[:, block] if self.wide else matrix[block]).astype(np.float64)
            gram += part @ part.T if self.wide else part.T @ part
        if vectors:  # MRRR (evr): O(side) workspace where the default divide and conquer takes 2·side² more
            values, found = eigh(gram, overwrite_a=True, check_finite=False, driver="evr")
            self.vectors = found[:, ::-1]
        else:  # the singular values alone: a third of the work
            values, self.vectors = eigvalsh(gram, overwrite_a=True, check_finite=False), None
        self.values = np.sqrt(np.clip(values[::-1], 0, None))

    def _other(self, count: int) -> np.ndarray:
        """The leading ``count`` singular vectors of the larger side: Wᵀu / s (or W v / s); zero where s is 0."""
        s = self.values[:count]
        part = self.vectors[:, :count].astype(self.matrix.dtype)  # the larger side's vectors in the matrix's dtype
        other = self.matrix.T @ part if self.wide else self.matrix @ part
        return other / np.where(s > 0, s, np.inf)

    def top(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(U_k, V_k): the leading k left and right singular vectors, as columns."""
        own = self.vectors[:, :k]
        return (own, self._other(k)) if self.wide else (self._other(k), own)

    def left_cosines(self, vectors: np.ndarray) -> np.ndarray:
        """|cosine| of each column of ``vectors`` with each of the min(m, n) left singular vectors (rows)."""
        if self.wide:
            return np.abs(self.vectors.T @ vectors)
        # u_j = W v_j / s_j, so U_rᵀ x = diag(1/s) V_rᵀ Wᵀ x: no m x r factor
        s = self.values
        return np.abs((self.vectors.T @ (self.matrix.T @ vectors)) / np.where(s > 0, s, np.inf)[:, None])
