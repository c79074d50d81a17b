"""Benjamini–Hochberg false discovery rate control, per family of p-values."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from grappe.detection.segments import order_within
from grappe.errors import InputError

#: Default false discovery rate of the calls (Benjamini–Hochberg level).
ALPHA = 0.05


def benjamini_hochberg(p_values: Any, groups: Any = None, family_sizes: Any = None) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values, within each group; NaN stay NaN.

    Same arithmetic as ``scipy.stats.false_discovery_control(p, method="bh")`` applied to each
    group separately.

    Parameters
    ----------
    p_values : array-like of float, 1-D
        p-values in [0, 1] (NaN: not part of any family).
    groups : array-like of int, optional
        Family of each p-value, integers in ``[0, number of families)`` (default: one family).
    family_sizes : array-like of int, optional
        Number of hypotheses of each family, at least its number of p-values; the hypotheses
        not given count as ``p = 1``. This adjusts a family whose untested members are known
        to have ``p = 1`` without materialising them: the result equals adjusting the padded
        family.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, np.nan]).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    >>> benjamini_hochberg([0.01, 0.04, 0.03], family_sizes=[6]).round(3).tolist()
    [0.06, 0.08, 0.08]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise InputError(f"benjamini_hochberg: p_values must be 1-D (got shape {p.shape})")
    valid = ~np.isnan(p)
    everywhere = bool(valid.all())
    if ((p < 0) | (p > 1)).any():
        raise InputError("benjamini_hochberg: p-values must lie in [0, 1]")
    g = np.zeros(len(p), dtype=np.int64) if groups is None else np.asarray(groups)
    if g.shape != p.shape:
        raise InputError("benjamini_hochberg: groups and p_values differ in length")
    if g.dtype.kind not in "iu":
        g = np.asarray(groups, dtype=np.int64)
    if len(g) and g.min() < 0:
        raise InputError("benjamini_hochberg: groups must be non-negative integers")
    # Without NaN (the usual case) the p-values are used in place: tens of millions of
    # cells, so every copy counts in the peak memory.
    where = None if everywhere else np.flatnonzero(valid)
    del valid
    if len(p) == 0 or (where is not None and len(where) == 0):
        return np.full(len(p), np.nan)
    pv, gv = (p, g) if where is None else (p[where], g[where])
    n_groups = int(gv.max()) + 1
    counts = np.bincount(gv, minlength=n_groups)
    if family_sizes is None:
        sizes = counts
    else:
        declared = np.asarray(family_sizes, dtype=np.int64)
        if declared.ndim != 1 or declared.size < n_groups:
            raise InputError("benjamini_hochberg: family_sizes must give a size for every group")
        sizes = declared[:n_groups]
        if (sizes < counts).any():
            raise InputError("benjamini_hochberg: a family size is smaller than its p-values")
    starts = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    # One compiled pass per family, in place of the values sorted by family and p-value.
    adjusted = np.empty(len(pv))
    bh_adjusted(pv, order_within(gv, pv), starts, sizes, adjusted)
    if where is None:
        return adjusted
    out = np.full(len(p), np.nan)
    out[where] = adjusted
    return out


def _ranked(
    p: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """p-values sorted by (family, p) and ranked within their family (non-empty input).

    Returns ``(order, p[order], groups[order], starts, counts, rank)``: an order by (family,
    p) (:func:`~grappe.detection.segments.order_within`), where each family starts and how
    many it holds, and each value's rank (1-based, float) in its family. Tied p-values may
    come in any order: the adjusted values and the rejections do not depend on it (tied
    p-values share them).
    """
    order = order_within(groups, p)
    ps, gs = p[order], groups[order]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    counts = np.diff(np.r_[starts, len(gs)])
    rank = np.arange(len(ps), dtype=np.float64)
    rank -= np.repeat(starts, counts)
    rank += 1.0
    return order, ps, gs, starts, counts, rank


def _bh_rejects(p: np.ndarray, groups: np.ndarray, sizes: np.ndarray, alpha: float) -> np.ndarray:
    """Benjamini–Hochberg rejections at ``alpha`` within each family (declared sizes).

    A p-value above ``alpha`` is never rejected and, the family sizes being declared, does
    not change the others' rejections: only the p-values at most ``alpha`` are sorted.
    """
    out = np.zeros(len(p), dtype=bool)
    low = np.flatnonzero(p <= alpha)
    if len(low) == 0:
        return out
    # The calls of benjamini_hochberg(...) <= alpha without the adjusted values: a cell is
    # rejected when some cell of its family ranked at or after it has p * m / rank <= alpha
    # (the same product, so the same bits decide), i.e. when its p is at most the largest
    # such p of its family.
    pv, gv = p[low], groups[low]
    _, ps, gs, starts, counts, rank = _ranked(pv, gv)
    passing = np.flatnonzero(ps * (np.repeat(sizes[gs[starts]], counts) / rank) <= alpha)
    if len(passing) == 0:
        return out
    last = passing[np.r_[gs[passing][1:] != gs[passing][:-1], True]]
    threshold = np.full(len(sizes), -1.0)
    threshold[gs[last]] = ps[last]
    out[low] = pv <= threshold[gv]
    return out


@njit(cache=True, parallel=True)
def bh_adjusted(
    p: np.ndarray, order: np.ndarray, starts: np.ndarray, sizes: np.ndarray, out: np.ndarray
) -> None:
    """Benjamini–Hochberg adjusted p-values into ``out``, family by family.

    ``order`` sorts the p-values by family, then by value; family ``g`` holds the sorted
    positions ``starts[g]:starts[g + 1]`` and counts ``sizes[g]`` hypotheses. The value at
    rank ``r`` is the running minimum, from the largest rank down, of ``(m / r) * p``,
    clipped to [0, 1] (the members not given count as ``p = 1``: the clip accounts for them).
    The families are shared out between the cores.
    """
    for g in prange(len(starts) - 1):
        first, last = starts[g], starts[g + 1]
        m = float(sizes[g])
        running = np.inf
        for t in range(last - 1, first - 1, -1):
            value = (m / float(t - first + 1)) * p[order[t]]
            running = min(running, value)
            out[order[t]] = min(max(running, 0.0), 1.0)

