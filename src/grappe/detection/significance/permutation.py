"""Round 0 of the conditional permutation test: one shared block of draws, tail counts per cell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from numba import njit, prange

if TYPE_CHECKING:
    from grappe.detection.significance.checks import _Problem

#: Default number of conditional permutations of round 0, shared by every tested cell.
PERMUTATIONS = 999

# Neighbour sums within this relative distance are ties (rounding must not split equal sums).
_TIE_RTOL = 1e-10
# Dense work arrays per block of sectors hold about this many values (bounds peak memory).
_BLOCK_VALUES = 2_000_000


def _draw_block(n: int, permutations: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """``permutations`` rows of ``width`` distinct territory indices in random order.

    Rows are drawn with replacement and the rows holding a repeated index are drawn again
    until none is left: each kept row is a uniform ordered sample without replacement. When
    the rows are long compared with ``n`` (repeats likely), each row is instead the ``width``
    smallest of ``n`` uniform keys, in increasing order (also a uniform ordered sample),
    built in chunks of rows to bound memory.
    """
    if width * width > n:
        out = np.empty((permutations, width), dtype=np.int64)
        chunk = max(1, _BLOCK_VALUES // n)
        for r0 in range(0, permutations, chunk):
            keys = rng.random((min(chunk, permutations - r0), n))
            part = np.argpartition(keys, width - 1, axis=1)[:, :width]
            order = np.argsort(np.take_along_axis(keys, part, axis=1), axis=1)
            out[r0 : r0 + len(keys)] = np.take_along_axis(part, order, axis=1)
        return out
    idx = rng.integers(0, n, size=(permutations, width))
    redo = np.arange(permutations)
    while len(redo):
        redo = redo[rows_with_repeats(idx, redo, n)]
        idx[redo] = rng.integers(0, n, size=(len(redo), width))
    return idx


@dataclass
class _Draws:
    """The shared block of draws of round 0 and what every block of sectors reuses."""

    idx: np.ndarray  # (P, m) territory indices
    cards: np.ndarray  # (n,) neighbours per territory
    card_values: np.ndarray  # distinct cardinalities >= 1
    card_pos: np.ndarray  # (n,) position of each territory's cardinality in card_values, or -1
    pair_b: np.ndarray  # corrections: draw row ...
    pair_i: np.ndarray  # ... territory occurring among its first c_i indices ...
    pair_repl: np.ndarray  # ... and the index that replaces it (the (c_i + 1)-th).

    @classmethod
    def make(cls, cards: np.ndarray, permutations: int, rng: np.random.Generator) -> _Draws:
        n = len(cards)
        width = min(int(cards.max()) + 1, n)
        idx = _draw_block(n, permutations, width, rng).astype(np.int64)
        card_values = np.unique(cards[cards > 0]).astype(np.int64)
        card_pos = np.full(n, -1, dtype=np.int64)
        card_pos[cards > 0] = np.searchsorted(card_values, cards[cards > 0])
        position = np.arange(width - 1)[None, :]
        pb, pk = np.nonzero(position < cards[idx[:, : width - 1]])
        pi = idx[pb, pk]
        return cls(idx, cards, card_values, card_pos, pb, pi, idx[pb, cards[pi]])


@dataclass
class _Cells:
    """The candidate cells of a test (a positive neighbour sum in a valid sector), sector by
    sector, by increasing territory, with their round-0 counts when there are draws."""

    rows: np.ndarray  # int32 territory
    cols: np.ndarray  # int32 sector
    y: np.ndarray  # value of the cell
    lag: np.ndarray  # observed neighbour sum (self excluded)
    ge: np.ndarray | None  # draws with neighbour sum >= the observed one ...
    le: np.ndarray | None  # ... and <= it (tie tolerance), when counted
    # (observed - mean of the draws' neighbour sums) / their std, float32: every statistic
    # here is affine in the neighbour sum, so its z_sim is this, signed by the slope.
    z_lag: np.ndarray | None


def _candidates(
    problem: _Problem, valid: np.ndarray, draws: _Draws | None, lower: bool
) -> _Cells:
    """The candidate cells and their round-0 counts, in two compiled passes over the sectors
    (:func:`candidate_cells`): the draw sums of each cardinality,
    sorted once, a binary search per cell, then the rows where a territory meets itself.
    ``method="direct"`` counts the same draws cell by cell instead (:func:`_counts_direct`).
    The draws below the observed sum (``le``) are counted only with ``lower``.
    """
    values = problem.values
    adjacency = problem.weights.adjacency
    csc = (values.indptr, values.indices, values.data, problem.n)
    csr = (adjacency.indptr, adjacency.indices, np.asarray(adjacency.data, dtype=np.float64))
    # Who has territory k as a neighbour (the weights are positive, possibly asymmetric).
    by_column = sp.csc_array(adjacency)
    transposed = (by_column.indptr, by_column.indices)
    per_sector = candidate_counts(*csc, *transposed, valid)
    starts = np.zeros(problem.n_sectors + 1, dtype=np.int64)
    np.cumsum(per_sector, out=starts[1:])
    shared = draws is not None and problem.method == "shared"
    if shared:
        assert draws is not None
        drawn = (draws.idx, draws.card_values, draws.card_pos, draws.pair_b, draws.pair_i,
                 draws.pair_repl)
    else:
        none = np.zeros(0, dtype=np.int64)
        drawn = (np.zeros((0, 1), dtype=np.int64), none, none, none, none, none)
    rows, y, lag, ge, le, z_lag = candidate_cells(
        *csc, *csr, *transposed, starts, *drawn, _TIE_RTOL, lower
    )
    cols = np.repeat(np.arange(problem.n_sectors, dtype=np.int32), per_sector)
    cells = _Cells(rows, cols, y, lag, ge, le if lower else None, z_lag)
    if draws is None:
        cells.ge = cells.le = cells.z_lag = None
    elif not shared:
        cells.ge, le, cells.z_lag = _counts_direct(problem, draws, cells)
        cells.le = le if lower else None
    return cells


def _counts_direct(
    problem: _Problem, draws: _Draws, cells: _Cells
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The round-0 counts of the cells, drawing every territory's sums one by one (audit)."""
    y = problem.values.toarray()
    m = len(cells.rows)
    ge = np.zeros(m, dtype=np.int64)
    le = np.zeros(m, dtype=np.int64)
    z_lag = np.zeros(m, dtype=np.float32)
    order_rows = np.argsort(cells.rows, kind="stable")
    bounds = np.searchsorted(cells.rows[order_rows], np.arange(problem.n + 1))
    for i in np.flatnonzero(np.diff(bounds)).tolist():
        at = order_rows[bounds[i] : bounds[i + 1]]
        c = int(draws.cards[i])
        # Move i to the end of each row, keep the first c: c distinct others.
        order = np.argsort(draws.idx == i, axis=1, kind="stable")
        drawn = np.take_along_axis(draws.idx, order, axis=1)[:, :c]
        sums = y[drawn][:, :, cells.cols[at]].sum(axis=1)  # (P, cells of i)
        a = cells.lag[at]
        ge[at] = (sums >= a - _TIE_RTOL * a).sum(axis=0)
        le[at] = (sums <= a + _TIE_RTOL * a).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z_lag[at] = (a - sums.mean(axis=0)) / np.sqrt(sums.var(axis=0))
    return ge, le, z_lag


@dataclass
class _Tested:
    """The tested cells (sector by sector) and their test, refined in place."""

    rows: np.ndarray  # int32
    cols: np.ndarray  # int32
    lag: np.ndarray
    statistic: np.ndarray
    z: np.ndarray
    folded: np.ndarray
    tail: np.ndarray
    z_sim: np.ndarray
    draw_round: np.ndarray
    up: np.ndarray  # the statistic increases with the neighbour sum


@njit(cache=True, nogil=True)
def _count_at_most(sorted_values: np.ndarray, first: int, last: int, value: float) -> int:
    """How many of ``sorted_values[first:last]`` (ascending) are ``<= value``."""
    lo, hi = first, last
    while lo < hi:
        mid = (lo + hi) >> 1
        if sorted_values[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return lo - first


@njit(cache=True, nogil=True)
def _first_at_least(sorted_values: np.ndarray, first: int, last: int, value: float) -> int:
    """Position of the first of ``sorted_values[first:last]`` (ascending) that is ``>= value``."""
    lo, hi = first, last
    while lo < hi:
        mid = (lo + hi) >> 1
        if sorted_values[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _dense_column(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, j: int, n: int) -> np.ndarray:
    """Column ``j`` of a CSC matrix as a dense vector of ``n`` values."""
    y = np.zeros(n)
    for t in range(indptr[j], indptr[j + 1]):
        y[indices[t]] = data[t]
    return y


@njit(cache=True, nogil=True)
def _neighbour_sum(adj_indptr: np.ndarray, adj_indices: np.ndarray, adj_data: np.ndarray,
                   y: np.ndarray, i: int) -> float:
    """Row ``i`` of ``adjacency @ y``, summed in the order of scipy's sparse product."""
    total = 0.0
    for k in range(adj_indptr[i], adj_indptr[i + 1]):
        total += adj_data[k] * y[adj_indices[k]]
    return total


@njit(cache=True, nogil=True)
def _mark_candidates(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, j: int,
    adj_t_indptr: np.ndarray, adj_t_indices: np.ndarray, mark: np.ndarray,
) -> int:
    """Mark the territories with a positive value among their neighbours in sector ``j``
    (``adj_t``: the adjacency by columns, i.e. who has ``k`` as a neighbour); return how many."""
    found = 0
    for t in range(indptr[j], indptr[j + 1]):
        if data[t] > 0.0:
            k = indices[t]
            for u in range(adj_t_indptr[k], adj_t_indptr[k + 1]):
                i = adj_t_indices[u]
                if not mark[i]:
                    mark[i] = True
                    found += 1
    return found


@njit(cache=True, parallel=True)
def candidate_counts(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    n: int,
    adj_t_indptr: np.ndarray,
    adj_t_indices: np.ndarray,
    valid: np.ndarray,
) -> np.ndarray:
    """Cells with a positive neighbour sum in each valid sector (columns of a CSC matrix):
    the territories with a positive value among their neighbours (positive weights)."""
    s = len(indptr) - 1
    counts = np.zeros(s, dtype=np.int64)
    for j in prange(s):
        if valid[j]:
            mark = np.zeros(n, dtype=np.bool_)
            counts[j] = _mark_candidates(indptr, indices, data, j, adj_t_indptr, adj_t_indices, mark)
    return counts


@njit(cache=True, parallel=True)
def candidate_cells(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    n: int,
    adj_indptr: np.ndarray,
    adj_indices: np.ndarray,
    adj_data: np.ndarray,
    adj_t_indptr: np.ndarray,
    adj_t_indices: np.ndarray,
    starts: np.ndarray,
    idx: np.ndarray,
    card_values: np.ndarray,
    card_pos: np.ndarray,
    pair_b: np.ndarray,
    pair_i: np.ndarray,
    pair_repl: np.ndarray,
    tie_rtol: float,
    lower: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cells with a positive neighbour sum, sector by sector, and round 0 of their test.

    Sector ``j`` (column of the CSC values) holds the cells ``starts[j]:starts[j + 1]``
    (:func:`candidate_counts`), by increasing territory: their territory, value, neighbour
    sum (the row of ``adjacency @ y``, same additions) and, when ``idx`` holds draws, the
    draws with neighbour sum ``>=`` (``ge``) and ``<=`` (``le``) the observed one within the
    tie tolerance (``le`` only with ``lower``, else empty) and the standardised neighbour
    sum ``(observed - mean of the draws) / their std`` (float32). Draw ``b`` gives territory ``i``
    the sum of ``y`` over the first ``c_i`` indices of row ``b`` of ``idx`` (the same number
    for every territory of that cardinality), except in the rows ``pair_b`` where ``i``
    (``pair_i``) occurs among them: there ``pair_repl`` replaces it. ``card_pos[i]`` is the
    position of ``c_i`` in ``card_values``. The sectors are shared out between the cores.
    """
    s = len(starts) - 1
    m = starts[s]
    rows = np.empty(m, dtype=np.int32)
    own = np.empty(m)
    lag = np.empty(m)
    ge = np.zeros(m, dtype=np.int32)
    le = np.zeros(m if lower else 0, dtype=np.int32)
    z_lag = np.zeros(m, dtype=np.float32)
    for j in prange(s):
        first, last = starts[j], starts[j + 1]
        if first == last:
            continue
        y = _dense_column(indptr, indices, data, j, n)
        mark = np.zeros(n, dtype=np.bool_)
        _mark_candidates(indptr, indices, data, j, adj_t_indptr, adj_t_indices, mark)
        q = first
        for i in range(n):
            if mark[i]:
                rows[q] = i
                own[q] = y[i]
                lag[q] = _neighbour_sum(adj_indptr, adj_indices, adj_data, y, i)
                q += 1
        if idx.shape[0] > 0:
            _sector_counts(
                y, rows[first:last], lag[first:last], idx, card_values, card_pos, pair_b,
                pair_i, pair_repl, tie_rtol, ge[first:last], le[first:last] if lower else le,
                z_lag[first:last],
            )
    return rows, own, lag, ge, le, z_lag


@njit(cache=True, nogil=True, error_model="numpy")
def _sector_counts(
    y: np.ndarray,
    rows: np.ndarray,
    lag: np.ndarray,
    idx: np.ndarray,
    card_values: np.ndarray,
    card_pos: np.ndarray,
    pair_b: np.ndarray,
    pair_i: np.ndarray,
    pair_repl: np.ndarray,
    tie_rtol: float,
    ge: np.ndarray,
    le: np.ndarray,
    z_lag: np.ndarray,
) -> None:
    """Round 0 of :func:`candidate_cells` for the cells ``rows`` of one sector (``le``
    empty: not counted)."""
    n = len(y)
    p = idx.shape[0]
    n_cards = len(card_values)
    cmax = card_values[n_cards - 1]
    base = np.empty((n_cards, p))
    ordered = np.empty((n_cards, p))
    mu0 = np.empty(n_cards)
    s1_card = np.empty(n_cards)
    s2_card = np.empty(n_cards)
    m = len(rows)
    counting_le = len(le) == m
    s1 = np.empty(m)
    s2 = np.empty(m)
    position = np.full(n, -1, dtype=np.int64)
    for b in range(p):
        total = 0.0
        kk = 0
        for k in range(cmax):
            total += y[idx[b, k]]
            if k + 1 == card_values[kk]:
                base[kk, b] = total
                kk += 1
    # The draws by increasing sum: from one cardinality to the next a sum grows or stays, so
    # the draws that stay keep their order, and only those that grow are sorted and merged in.
    by_sum = np.argsort(base[0])
    kept = np.empty(p, dtype=np.int64)
    grown = np.empty(p, dtype=np.int64)
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
        if kk > 0:
            previous = base[kk - 1]
            n_kept = 0
            n_grown = 0
            for u in range(p):
                b = by_sum[u]
                if row[b] == previous[b]:
                    kept[n_kept] = b
                    n_kept += 1
                else:
                    grown[n_grown] = b
                    n_grown += 1
            moved = grown[:n_grown][np.argsort(row[grown[:n_grown]])]
            u = 0
            v = 0
            for t in range(p):
                if v == n_grown or (u < n_kept and row[kept[u]] <= row[moved[v]]):
                    by_sum[t] = kept[u]
                    u += 1
                else:
                    by_sum[t] = moved[v]
                    v += 1
        for t in range(p):
            ordered[kk, t] = row[by_sum[t]]
    for q in range(m):
        i = rows[q]
        position[i] = q
        kk = card_pos[i]  # a positive neighbour sum: at least one neighbour
        s1[q] = s1_card[kk]
        s2[q] = s2_card[kk]
        a = lag[q]
        low = a - tie_rtol * a
        high = a + tie_rtol * a
        ge[q] = p - _first_at_least(ordered[kk], 0, p, low)
        if counting_le:
            le[q] = _count_at_most(ordered[kk], 0, p, high)
    for t in range(len(pair_i)):
        i = pair_i[t]
        q = position[i]
        if q < 0:
            continue
        kk = card_pos[i]
        value = base[kk, pair_b[t]]
        own = value - y[i] + y[pair_repl[t]]
        a = lag[q]
        low = a - tie_rtol * a
        high = a + tie_rtol * a
        ge[q] += int(own >= low) - int(value >= low)
        if counting_le:
            le[q] += int(own <= high) - int(value <= high)
        mu = mu0[kk]
        s1[q] += own - value
        s2[q] += (own - mu) ** 2 - (value - mu) ** 2
    for q in range(m):
        kk = card_pos[rows[q]]
        first = s1[q] / p
        mean = mu0[kk] + first
        var = max(s2[q] / p - first * first, 0.0)
        z_lag[q] = (lag[q] - mean) / np.sqrt(var)


@njit(cache=True)
def rows_with_repeats(idx: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Which of the rows ``rows`` of ``idx`` (values in ``[0, n)``) hold a value twice."""
    seen = np.full(n, -1, dtype=np.int64)
    out = np.zeros(len(rows), dtype=np.bool_)
    for t in range(len(rows)):
        r = rows[t]
        for k in range(idx.shape[1]):
            v = idx[r, k]
            if seen[v] == t:
                out[t] = True
                break
            seen[v] = t
    return out

