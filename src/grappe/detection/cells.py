"""The stored cells of sparse territory x sector matrices as flat arrays: values, sums, ratios."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

FloatArray = np.ndarray


@dataclass(frozen=True)
class _Cells:
    """Coordinates of the pattern cells, to build matrices and sums on it."""

    rows: np.ndarray
    cols: np.ndarray
    n_t: int
    n_s: int
    pattern: sp.csr_array

    def matrix(self, values: FloatArray) -> sp.csr_array:
        # Built from the pattern's own index arrays so that explicit zeros (a present cell
        # with zero employment) and NaN stay stored, aligned with to_frame().
        return sp.csr_array(
            (np.asarray(values, dtype=np.float64), self.pattern.indices, self.pattern.indptr),
            shape=(self.n_t, self.n_s),
        )

    def row_sum(self, values: FloatArray) -> FloatArray:
        return _bincount(self.rows, values, self.n_t)

    def col_sum(self, values: FloatArray) -> FloatArray:
        return _bincount(self.cols, values, self.n_s)


def _vector(values: FloatArray) -> FloatArray:
    return np.asarray(values, dtype=np.float64).ravel()


def _coordinates(pattern: sp.csr_array) -> tuple[np.ndarray, np.ndarray]:
    rows = np.repeat(np.arange(pattern.shape[0]), np.diff(pattern.indptr))
    return rows, pattern.indices.astype(np.int64)


def _values(matrix: sp.sparray, rows: np.ndarray, cols: np.ndarray) -> FloatArray:
    """Values of a sparse matrix at the given cells (zeros where not stored)."""
    if len(rows) == 0:
        return np.zeros(0)
    csr = sp.csr_array(matrix, dtype=np.float64)
    return np.asarray(csr[rows, cols], dtype=np.float64).ravel()


def _sum(matrix: sp.sparray, axis: int) -> FloatArray:
    return np.asarray(sp.csr_array(matrix, dtype=np.float64).sum(axis=axis)).ravel()


def _bincount(index: np.ndarray, weights: FloatArray, length: int) -> FloatArray:
    return np.bincount(index, weights=weights, minlength=length).astype(np.float64)


def _divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """Element-wise ratio, NaN where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out

