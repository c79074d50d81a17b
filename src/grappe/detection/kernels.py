"""Compiled loops of the permutation test (numba), where numpy would need a pass per step.

Each kernel does the arithmetic of the vectorised code it replaces in the same order (the
same float additions, left to right), so the counts are those the numpy version gave.
Compiled once per machine and cached beside the module (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Chunks of draws of a refinement block, shared out between the cores.
_CHUNKS = 8


@njit(cache=True, parallel=True)
def group_order(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Indices sorting by group (``0 <= group < n_groups``), then by value.

    A counting sort by group, then each group's values sorted apart, the groups shared out
    between the cores. Tied values may come in any order within their group.
    """
    n = len(groups)
    counts = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(n):
        counts[groups[i] + 1] += 1
    starts = np.cumsum(counts)
    fill = starts[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        g = groups[i]
        order[fill[g]] = i
        fill[g] += 1
    for g in prange(n_groups):
        first, last = starts[g], starts[g + 1]
        if last - first > 1:
            segment = order[first:last].copy()
            order[first:last] = segment[np.argsort(values[segment])]
    return order


@njit(cache=True, parallel=True)
def block_tail_counts(
    y: np.ndarray,
    idx_t: np.ndarray,
    cells: np.ndarray,
    c_cells: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    up: np.ndarray,
    pair_ptr: np.ndarray,
    pair_b: np.ndarray,
    pair_repl: np.ndarray,
) -> np.ndarray:
    """Draws of a block at least as extreme as observed, for each of ``cells``.

    Draw ``b`` gives territory ``i`` (cardinality ``c``) the sum of ``y`` over the first
    ``c`` indices of column ``b`` of ``idx_t``, skipping ``i`` itself: where ``i`` occurs
    among them (the pairs ``pair_ptr[i]:pair_ptr[i + 1]``, at draw ``pair_b``), the
    ``(c + 1)``-th index ``pair_repl`` takes its place. A cell counts the sums ``>= low``
    where ``up``, ``<= high`` elsewhere. The draws are shared out between the cores in
    chunks, each counting apart (integer counts: the same total in any order).
    """
    size = idx_t.shape[1]
    m = len(cells)
    out = np.zeros(m, dtype=np.int64)
    if m == 0:
        return out
    cmax = 0
    for q in range(m):
        cmax = max(cmax, c_cells[q])
    chunks = min(_CHUNKS, size)
    partial = np.zeros((chunks, m), dtype=np.int64)
    for chunk in prange(chunks):
        prefix = np.empty(cmax)
        counts = partial[chunk]
        for b in range(chunk * size // chunks, (chunk + 1) * size // chunks):
            total = 0.0
            for k in range(cmax):
                total += y[idx_t[k, b]]
                prefix[k] = total
            for q in range(m):
                value = prefix[c_cells[q] - 1]
                if up[q]:
                    if value >= low[q]:
                        counts[q] += 1
                elif value <= high[q]:
                    counts[q] += 1
    for chunk in range(chunks):
        for q in range(m):
            out[q] += partial[chunk, q]
    for q in range(m):
        i = cells[q]
        c = c_cells[q]
        for t in range(pair_ptr[i], pair_ptr[i + 1]):
            b = pair_b[t]
            base = 0.0
            for k in range(c):
                base += y[idx_t[k, b]]
            own = base - y[i] + y[pair_repl[t]]
            if up[q]:
                out[q] += int(own >= low[q]) - int(base >= low[q])
            else:
                out[q] += int(own <= high[q]) - int(base <= high[q])
    return out


@njit(cache=True, parallel=True)
def shared_counts(
    y_t: np.ndarray,
    lag_t: np.ndarray,
    tested_t: np.ndarray,
    idx: np.ndarray,
    card_values: np.ndarray,
    card_pos: np.ndarray,
    pair_b: np.ndarray,
    pair_i: np.ndarray,
    pair_repl: np.ndarray,
    tie_rtol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Round 0 of the permutation test for a block of sectors (rows of ``y_t``).

    For each tested territory: the draws with neighbour sum ``>=`` (``ge``) and ``<=``
    (``le``) the observed one within the tie tolerance, and the mean and variance of its
    draws. Draw ``b`` gives territory ``i`` the sum of ``y`` over the first ``c_i`` indices
    of row ``b`` of ``idx`` (the same number for every territory of that cardinality), except
    in the rows ``pair_b`` where ``i`` (``pair_i``) occurs among them: there ``pair_repl``
    replaces it. ``card_pos[i]`` is the position of ``c_i`` in ``card_values`` (-1: no
    neighbour). The sectors are shared out between the cores.
    """
    s, n = y_t.shape
    ge = np.zeros((s, n), dtype=np.int64)
    le = np.zeros((s, n), dtype=np.int64)
    mean = np.zeros((s, n))
    var = np.zeros((s, n))
    if len(card_values) == 0:
        return ge, le, mean, var
    for j in prange(s):
        _sector_counts(
            y_t[j], lag_t[j], tested_t[j], idx, card_values, card_pos, pair_b, pair_i,
            pair_repl, tie_rtol, ge[j], le[j], mean[j], var[j],
        )
    return ge, le, mean, var


@njit(cache=True, nogil=True)
def _sector_counts(
    y: np.ndarray,
    lag: np.ndarray,
    tested: np.ndarray,
    idx: np.ndarray,
    card_values: np.ndarray,
    card_pos: np.ndarray,
    pair_b: np.ndarray,
    pair_i: np.ndarray,
    pair_repl: np.ndarray,
    tie_rtol: float,
    ge: np.ndarray,
    le: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
) -> None:
    """:func:`shared_counts` for one sector, into its rows ``ge, le, mean, var``."""
    n = len(y)
    p = idx.shape[0]
    n_cards = len(card_values)
    cmax = card_values[n_cards - 1]
    base = np.empty((n_cards, p))
    ordered = np.empty((n_cards, p))
    mu0 = np.empty(n_cards)
    s1_card = np.empty(n_cards)
    s2_card = np.empty(n_cards)
    s1 = np.zeros(n)
    s2 = np.zeros(n)
    for b in range(p):
        total = 0.0
        kk = 0
        for k in range(cmax):
            total += y[idx[b, k]]
            if k + 1 == card_values[kk]:
                base[kk, b] = total
                kk += 1
    for kk in range(n_cards):
        row = base[kk]
        mu = row.mean()
        first = 0.0
        second = 0.0
        for b in range(p):
            dev = row[b] - mu
            first += dev
            second += dev * dev
        mu0[kk] = mu
        s1_card[kk] = first
        s2_card[kk] = second
        ordered[kk] = np.sort(row)
    for i in range(n):
        kk = card_pos[i]
        if kk < 0:
            continue
        s1[i] = s1_card[kk]
        s2[i] = s2_card[kk]
        if not tested[i]:
            continue
        a = lag[i]
        low = a - tie_rtol * a
        high = a + tie_rtol * a
        ge[i] = p - np.searchsorted(ordered[kk], low, side="left")
        le[i] = np.searchsorted(ordered[kk], high, side="right")
    for t in range(len(pair_i)):
        i = pair_i[t]
        if not tested[i]:
            continue
        kk = card_pos[i]
        value = base[kk, pair_b[t]]
        own = value - y[i] + y[pair_repl[t]]
        a = lag[i]
        low = a - tie_rtol * a
        high = a + tie_rtol * a
        ge[i] += int(own >= low) - int(value >= low)
        le[i] += int(own <= high) - int(value <= high)
        mu = mu0[kk]
        s1[i] += own - value
        s2[i] += (own - mu) ** 2 - (value - mu) ** 2
    for i in range(n):
        kk = card_pos[i]
        if kk < 0:
            continue
        first = s1[i] / p
        mean[i] = mu0[kk] + first
        var[i] = max(s2[i] / p - first * first, 0.0)
