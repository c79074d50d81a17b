"""Checked inputs of a significance call: values, weights and options validated into one problem."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from grappe.detection.significance.permutation import _BLOCK_VALUES
from grappe.detection.significance.refinement import CONFIDENCE, MAX_PERMUTATIONS, _schedule
from grappe.detection.weights import SpatialWeights
from grappe.errors import InputError

Transform = Literal["B", "R"]
Fdr = Literal["territories", "all"]
Method = Literal["shared", "direct"]
Refinement = Literal["sequential", "full"]


def _check_transform(transform: str) -> Transform:
    tr = str(transform).upper()
    if tr not in ("B", "R"):
        raise InputError(
            f"transform must be 'B' (binary) or 'R' (row-standardised), got {transform!r}"
        )
    return "B" if tr == "B" else "R"


@dataclass
class _Problem:
    """Validated inputs shared by both statistics."""

    weights: SpatialWeights
    values: sp.csc_array  # float64, duplicates summed
    sectors: np.ndarray
    permutations: int
    rng: np.random.Generator | None
    fdr: Fdr
    method: Method
    schedule: tuple[int, ...]
    alpha: float
    confidence: float
    refinement: Refinement

    @property
    def n(self) -> int:
        return self.weights.n

    @property
    def n_sectors(self) -> int:
        return len(self.sectors)

    @classmethod
    def build(
        cls,
        values: Any,
        weights: SpatialWeights,
        *,
        sectors: Sequence[str] | np.ndarray | None,
        permutations: int,
        rng: np.random.Generator | None,
        fdr: str,
        method: str,
        verb: str,
        max_permutations: int | None = None,
        alpha: float = 0.05,
        confidence: float = CONFIDENCE,
        refinement: str = "sequential",
    ) -> _Problem:
        if not isinstance(weights, SpatialWeights):
            raise InputError(
                f"{verb}: weights must be a SpatialWeights (got {type(weights).__name__})"
            )
        n = weights.n
        if n < 2:
            raise InputError(f"{verb}: needs at least 2 territories (got {n})")
        matrix: sp.csc_array | np.ndarray
        if sp.issparse(values):
            matrix = sp.csc_array(values, dtype=np.float64)
            if matrix.ndim != 2:
                raise InputError(f"{verb}: values must be 2-D")
            matrix.sum_duplicates()
            data, (r, c) = matrix.data, _csc_positions(matrix)
        else:
            dense = np.asarray(values, dtype=np.float64)
            if dense.ndim == 1:
                dense = dense[:, None]
            if dense.ndim != 2:
                raise InputError(f"{verb}: values must be 1-D or 2-D (got {dense.ndim} dimensions)")
            matrix = dense
            data = dense.ravel()
            r, c = np.divmod(np.arange(dense.size), dense.shape[1])
        if matrix.shape[0] != n:
            raise InputError(
                f"{verb}: values have {matrix.shape[0]} rows but the weights hold {n} territories "
                "(align them with weights.reindex(codes))"
            )
        if matrix.shape[1] == 0:
            raise InputError(f"{verb}: values have no sector column")
        labels = (
            np.arange(matrix.shape[1]).astype(str)
            if sectors is None
            else np.asarray(sectors).astype(str)
        )
        if len(labels) != matrix.shape[1]:
            raise InputError(
                f"{verb}: {len(labels)} sector labels for {matrix.shape[1]} value columns"
            )
        bad = ~np.isfinite(data) | (data < 0)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{verb}: value {float(data[k])!r} for territory {str(weights.ids[r[k]])!r}, "
                f"sector {str(labels[c[k]])!r}: values must be finite and non-negative "
                "(counts, employment)"
            )
        if not isinstance(permutations, int | np.integer) or permutations < 0:
            raise InputError(
                f"{verb}: permutations must be a whole number >= 0 (got {permutations!r})"
            )
        if permutations and not isinstance(rng, np.random.Generator):
            raise InputError(
                f"{verb}: rng must be a numpy.random.Generator when permutations > 0 "
                "(e.g. numpy.random.default_rng(42))"
            )
        if fdr not in ("territories", "all"):
            raise InputError(f"{verb}: fdr must be 'territories' or 'all' (got {fdr!r})")
        if method not in ("shared", "direct"):
            raise InputError(f"{verb}: method must be 'shared' or 'direct' (got {method!r})")
        if refinement not in ("sequential", "full"):
            raise InputError(
                f"{verb}: refinement must be 'sequential' or 'full' (got {refinement!r})"
            )
        if isinstance(alpha, bool) or not isinstance(alpha, float | int) or not 0 < alpha < 1:
            raise InputError(f"{verb}: alpha must be between 0 and 1 (got {alpha!r})")
        if (
            isinstance(confidence, bool)
            or not isinstance(confidence, float | int)
            or not 0.5 <= confidence < 1
        ):
            raise InputError(
                f"{verb}: confidence must be at least 0.5 and below 1 (got {confidence!r})"
            )
        cap = max(MAX_PERMUTATIONS, int(permutations)) if max_permutations is None else max_permutations
        if not isinstance(cap, int | np.integer) or isinstance(cap, bool) or cap < permutations:
            raise InputError(
                f"{verb}: max_permutations must be a whole number >= permutations "
                f"({permutations}) (got {max_permutations!r})"
            )
        if cap >= 2**32 - 1:
            raise InputError(f"{verb}: max_permutations must be below 4,294,967,295 (got {cap})")
        if isinstance(matrix, np.ndarray):
            matrix = sp.csc_array(matrix)
        return cls(
            weights,
            matrix,
            labels,
            int(permutations),
            rng,
            "territories" if fdr == "territories" else "all",
            "shared" if method == "shared" else "direct",
            _schedule(int(permutations), int(cap)),
            float(alpha),
            float(confidence),
            "sequential" if refinement == "sequential" else "full",
        )

    def column(self, j: int) -> np.ndarray:
        """Dense float64 values of sector ``j``."""
        start, stop = self.values.indptr[j], self.values.indptr[j + 1]
        out = np.zeros(self.n)
        out[self.values.indices[start:stop]] = self.values.data[start:stop]
        return out

    def block(self, j0: int, j1: int) -> np.ndarray:
        """Dense float64 values of sectors ``j0:j1``, C order."""
        return np.asarray(self.values[:, j0:j1].toarray(), order="C")

    def blocks(self) -> Iterator[tuple[int, int]]:
        """Blocks of sectors of about ``_BLOCK_VALUES`` dense values."""
        width = max(1, min(self.n_sectors, _BLOCK_VALUES // self.n))
        for j0 in range(0, self.n_sectors, width):
            yield j0, min(j0 + width, self.n_sectors)


def _csc_positions(m: sp.csc_array) -> tuple[np.ndarray, np.ndarray]:
    cols = np.repeat(np.arange(m.shape[1]), np.diff(m.indptr))
    return m.indices, cols

