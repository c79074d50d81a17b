"""Compiled loops of the permutation test (numba), where numpy would need a pass per step.

Each kernel does the arithmetic of the vectorised code it replaces in the same order (the
same float additions, left to right), so the counts are those the numpy version gave.
Compiled once per machine and cached beside the module (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Sectors summed together by block_tail_counts (their values of one territory: 32 bytes), and
# the draws whose running sums it keeps at once (in the core's cache).
_PACK = 4
_DRAW_SPAN = 4096


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
def _count_runs(
    runs: np.ndarray, sums: np.ndarray, starts: np.ndarray, s0: int, first_cell: int, g: int,
    k: int, cmax: int, sorted_threshold: np.ndarray,
) -> None:
    """Record, for the draws' sums at cardinality ``k + 1`` of sector ``g``, the runs of its
    cells they count for (see :func:`block_tail_counts`)."""
    base_slot = first_cell + g  # runs of this sector: slots base_slot ... + its cells
    for g_at in (k, cmax + k):
        first, last = starts[s0 + g_at], starts[s0 + g_at + 1]
        if last == first:
            continue
        lo_slot = base_slot + (first - first_cell)
        if g_at < cmax:  # upward cells: those with low <= the sum
            lowest = sorted_threshold[first]
            for b in range(len(sums)):
                value = sums[b]
                if value >= lowest:
                    runs[lo_slot] += 1
                    runs[lo_slot + _count_at_most(sorted_threshold, first, last, value)] -= 1
        else:  # downward cells: those with high >= the sum
            end_slot = base_slot + (last - first_cell)
            for b in range(len(sums)):
                at = _first_at_least(sorted_threshold, first, last, sums[b])
                runs[base_slot + (at - first_cell)] += 1
                runs[end_slot] -= 1


@njit(cache=True, parallel=True)
def block_tail_counts(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    n: int,
    idx_t: np.ndarray,
    sector_of: np.ndarray,
    sector_ptr: np.ndarray,
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

    The cells ``sector_ptr[g]:sector_ptr[g + 1]`` belong to sector ``sector_of[g]`` (a column
    of the CSC values) and are distinct territories of it. Draw ``b`` gives territory ``i``
    (cardinality ``c``) the sum of the sector's values over the first ``c`` indices of column
    ``b`` of ``idx_t``, skipping ``i`` itself: where ``i`` occurs among them (the pairs
    ``pair_ptr[i]:pair_ptr[i + 1]``, at draw ``pair_b``), the ``(c + 1)``-th index
    ``pair_repl`` takes its place. A cell counts the sums ``>= low`` where ``up``, ``<= high``
    elsewhere.

    The running sums of all draws advance one index at a time (adding zeros too, which leaves
    every sum unchanged bit for bit); when they reach a cardinality, each draw's sum is
    compared with the sorted thresholds of the cells of that cardinality: a binary search gives
    how many cells it counts for, recorded as the two ends of a run. The sectors are summed
    in packs of :data:`_PACK` (one index fetches the values of the whole pack) over spans of
    :data:`_DRAW_SPAN` draws, the packs shared out between the cores (each sector's runs are
    its own: the same counts in any order).
    """
    size = idx_t.shape[1]
    m = len(cells)
    n_sec = len(sector_of)
    out = np.zeros(m, dtype=np.int64)
    if m == 0:
        return out
    # Cells of each sector grouped by (direction, cardinality), by increasing threshold:
    # sector g's groups start at starts[starts_ptr[g] + group], group = (0 or cmax) + c - 1.
    cmax_of = np.zeros(n_sec, dtype=np.int64)
    starts_ptr = np.zeros(n_sec + 1, dtype=np.int64)
    for g in range(n_sec):
        for q in range(sector_ptr[g], sector_ptr[g + 1]):
            cmax_of[g] = max(cmax_of[g], c_cells[q])
        starts_ptr[g + 1] = starts_ptr[g] + 2 * cmax_of[g] + 1
    starts = np.zeros(starts_ptr[n_sec], dtype=np.int64)
    order = np.empty(m, dtype=np.int64)
    sorted_threshold = np.empty(m)
    for g in range(n_sec):
        first, last = sector_ptr[g], sector_ptr[g + 1]
        cmax = cmax_of[g]
        s0 = starts_ptr[g]
        threshold = np.empty(last - first)
        group = np.empty(last - first, dtype=np.int64)
        for q in range(first, last):
            threshold[q - first] = low[q] if up[q] else high[q]
            group[q - first] = (0 if up[q] else cmax) + c_cells[q] - 1
        by_threshold = np.argsort(threshold)
        starts[s0] = first
        for t in range(last - first):
            starts[s0 + group[t] + 1] += 1
        for t in range(2 * cmax):
            starts[s0 + t + 1] += starts[s0 + t]
        fill = starts[s0 : s0 + 2 * cmax].copy()
        for t in range(last - first):
            u = by_threshold[t]
            order[fill[group[u]]] = first + u
            sorted_threshold[fill[group[u]]] = threshold[u]
            fill[group[u]] += 1
    # Sectors in packs of _PACK, by decreasing cardinality (so a pack's sums run about as far
    # as each of its sectors needs): a draw index then fetches the values of every sector of
    # the pack at once, side by side in the pack's dense values (territories x _PACK).
    by_cmax = np.argsort(-cmax_of, kind="mergesort")
    n_packs = (n_sec + _PACK - 1) // _PACK
    runs = np.zeros(m + n_sec, dtype=np.int64)  # sector g's runs: slots sector_ptr[g] + g ...
    fix = np.zeros(m, dtype=np.int64)
    span = min(size, _DRAW_SPAN)
    for pack in prange(n_packs):
        members = by_cmax[pack * _PACK : min(n_sec, (pack + 1) * _PACK)]
        y = np.zeros((n, _PACK))
        for w in range(len(members)):
            j = sector_of[members[w]]
            for t in range(indptr[j], indptr[j + 1]):
                y[indices[t], w] = data[t]
        reach = cmax_of[members[0]]
        prefix = np.empty((span, _PACK))
        for b0 in range(0, size, span):
            b1 = min(size, b0 + span)
            prefix[:] = 0.0
            for k in range(reach):
                row = idx_t[k]
                for b in range(b0, b1):
                    t = row[b]
                    for w in range(_PACK):
                        prefix[b - b0, w] += y[t, w]
                for w in range(len(members)):
                    g = members[w]
                    cmax = cmax_of[g]
                    if k < cmax:
                        _count_runs(runs, prefix[: b1 - b0, w], starts, starts_ptr[g], sector_ptr[g],
                                    g, k, cmax, sorted_threshold)
        for w in range(len(members)):
            g = members[w]
            for q in range(sector_ptr[g], sector_ptr[g + 1]):
                i = cells[q]
                c = c_cells[q]
                for t in range(pair_ptr[i], pair_ptr[i + 1]):
                    b = pair_b[t]
                    base = 0.0
                    for k in range(c):
                        base += y[idx_t[k, b], w]
                    own = base - y[i, w] + y[pair_repl[t], w]
                    if up[q]:
                        fix[q] += int(own >= low[q]) - int(base >= low[q])
                    else:
                        fix[q] += int(own <= high[q]) - int(base <= high[q])
    for g in range(n_sec):
        running = 0
        for t in range(sector_ptr[g], sector_ptr[g + 1]):
            running += runs[t + g]
            out[order[t]] = running
    for q in range(m):
        out[q] += fix[q]
    return out


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
def best_per_group(
    group: np.ndarray,
    p: np.ndarray,
    z: np.ndarray,
    where: np.ndarray,
    p_adjusted: np.ndarray,
    p_best: np.ndarray,
    z_best: np.ndarray,
    where_best: np.ndarray,
    p_adjusted_best: np.ndarray,
) -> None:
    """The best member of each group, in one pass, updating the ``*_best`` arrays in place.

    The best has the smallest ``p``, among those the largest ``z`` (NaN counts as -inf),
    among those the smallest ``where``; it is compared with the initial content of the
    ``*_best`` arrays as with one more member. ``p_adjusted_best`` takes the smallest
    ``p_adjusted`` of the group, NaN ignored (``numpy.fmin``). Members of group -1 belong
    to none.
    """
    for t in range(len(group)):
        g = group[t]
        if g < 0:
            continue
        pv = p[t]
        zv = z[t]
        if np.isnan(zv):
            zv = -np.inf
        w = where[t]
        if pv < p_best[g]:
            p_best[g] = pv
            z_best[g] = zv
            where_best[g] = w
        elif pv == p_best[g]:
            if zv > z_best[g]:
                z_best[g] = zv
                where_best[g] = w
            elif zv == z_best[g] and w < where_best[g]:
                where_best[g] = w
        pa = p_adjusted[t]
        if not np.isnan(pa) and (np.isnan(p_adjusted_best[g]) or pa < p_adjusted_best[g]):
            p_adjusted_best[g] = pa


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


@njit(cache=True)
def self_pairs(idx: np.ndarray, cards: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (draw, territory) pairs where territory ``i`` occurs among the first ``c_i``
    indices of a draw (a row of ``idx``), by territory, then draw: ``ptr`` (the pairs of
    ``i`` are ``ptr[i]:ptr[i + 1]``), the draw of each pair and the index that replaces
    ``i`` in it (the ``(c_i + 1)``-th of the row)."""
    n = len(cards)
    size, width = idx.shape
    ptr = np.zeros(n + 1, dtype=np.int64)
    for b in range(size):
        for k in range(width - 1):
            i = idx[b, k]
            if k < cards[i]:
                ptr[i + 1] += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    pair_b = np.empty(ptr[n], dtype=np.int64)
    pair_repl = np.empty(ptr[n], dtype=np.int64)
    for b in range(size):
        for k in range(width - 1):
            i = idx[b, k]
            if k < cards[i]:
                pair_b[fill[i]] = b
                pair_repl[fill[i]] = idx[b, cards[i]]
                fill[i] += 1
    return ptr, pair_b, pair_repl


@njit(cache=True, parallel=True, error_model="numpy")
def gi_values(
    y: np.ndarray,
    lag: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    self_weight: np.ndarray,
    other_weight: np.ndarray,
    expected: np.ndarray,
    var_factor: np.ndarray,
    total: np.ndarray,
    mean: np.ndarray,
    variance: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Gi* and its analytic z-value of cells (territory ``i``, sector ``j``, value ``y``,
    neighbour sum ``lag``), as esda computes them: ``(w_ii y + w lag) / total`` and
    ``(G - E[G]) / sqrt(var_factor * variance / mean^2)``; NaN where a sector has none."""
    m = len(y)
    statistic = np.empty(m)
    z = np.empty(m)
    for q in prange(m):
        a, b = i[q], j[q]
        g = (self_weight[a] * y[q] + other_weight[a] * lag[q]) / total[b]
        statistic[q] = g
        z[q] = (g - expected[a]) / np.sqrt(var_factor[a] * (variance[b] / (mean[b] * mean[b])))
    return statistic, z


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


# Entries of the table of cells of one block of rows in cell_numbers (256 KiB of int32: a
# table in the core's cache, where a larger one costs a cache miss per entry).
_CELL_TABLE = 2**16


@njit(cache=True)
def cell_numbers(
    rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (row, col) cells of entries, row-major, and the cell of each entry.

    ``np.unique(rows * n_cols + cols, return_inverse=True)`` without a sort: entries with a
    negative row are left out (cell -1). The rows are taken in blocks whose cells fit a table
    of :data:`_CELL_TABLE` entries: the entries are counted by block and copied block after
    block (their cell within the block's table and their position), then each block's cells
    are marked in the table, numbered in order and looked up, reading forward.
    """
    m = len(rows)
    block_rows = max(1, _CELL_TABLE // max(n_cols, 1))
    n_blocks = max(1, (n_rows + block_rows - 1) // block_rows)
    block_ptr = np.zeros(n_blocks + 1, dtype=np.int64)
    for t in range(m):
        if rows[t] >= 0:
            block_ptr[rows[t] // block_rows + 1] += 1
    for b in range(n_blocks):
        block_ptr[b + 1] += block_ptr[b]
    # Each entry's cell within its block's table, and the entry, block after block.
    fill = block_ptr[:-1].copy()
    local = np.empty(block_ptr[n_blocks], dtype=np.int32)
    entry = np.empty(block_ptr[n_blocks], dtype=np.int64)
    for t in range(m):
        if rows[t] >= 0:
            b = rows[t] // block_rows
            local[fill[b]] = (rows[t] - b * block_rows) * n_cols + cols[t]
            entry[fill[b]] = t
            fill[b] += 1
    table = np.full(min(n_rows, block_rows) * n_cols, -1, dtype=np.int32)
    keys = np.empty(block_ptr[n_blocks], dtype=np.int64)
    inverse = np.full(m, -1, dtype=np.int64)
    found = 0
    for b in range(n_blocks):
        first, last = block_ptr[b], block_ptr[b + 1]
        if first == last:
            continue
        for u in range(first, last):
            table[local[u]] = 0
        offset = b * block_rows * n_cols
        for cell in range(min(block_rows, n_rows - b * block_rows) * n_cols):
            if table[cell] == 0:
                table[cell] = found + 1  # shifted: 0 marks a cell seen, not numbered
                keys[found] = cell + offset
                found += 1
        for u in range(first, last):
            inverse[entry[u]] = table[local[u]] - 1
        for u in range(first, last):
            table[local[u]] = -1
    return keys[:found].copy(), inverse


@njit(cache=True)
def cell_sums(
    groups: np.ndarray, values: np.ndarray, n_groups: int, band: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    """Float sums by group of integer values (``np.bincount(groups, weights=values)``, the
    same additions in the same order), entries of a negative group left out; with ``band``
    (not empty) each value is first multiplied by ``weight[band]`` (in integers, exact)."""
    out = np.zeros(n_groups)
    weighted = len(band) > 0
    for t in range(len(groups)):
        g = groups[t]
        if g >= 0:
            if weighted:
                out[g] += float(np.int64(values[t]) * np.int64(weight[band[t]]))
            else:
                out[g] += float(values[t])
    return out
