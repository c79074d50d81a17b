"""Sequential refinement: more draws only for the cells whose call can still change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

from grappe.detection.segments import unique_keys
from grappe.detection.significance.fdr import _bh_rejects
from grappe.detection.significance.permutation import (
    _TIE_RTOL,
    _count_at_most,
    _draw_block,
    _first_at_least,
    _Tested,
)
from grappe.detection.significance.tails import beta_ppf, binom_ppf
from grappe.progress import Reporter

if TYPE_CHECKING:
    from grappe.detection.significance.checks import _Problem

#: Default cap of the sequential refinement: a cell gets at most this many draws.
MAX_PERMUTATIONS = 399_999
#: Default two-sided confidence of the bounds that decide whether a call is settled.
CONFIDENCE = 0.999


def _schedule(permutations: int, cap: int) -> tuple[int, ...]:
    """Draws after each round: ``permutations``, then doubling (``2 P + 1``) up to ``cap``."""
    totals = [permutations]
    while permutations and totals[-1] < cap:
        totals.append(min(2 * totals[-1] + 1, cap))
    return tuple(totals)


@dataclass
class _ExtraDraws:
    """One refinement block of draws, shared by every sector, with its corrections by territory."""

    idx_t: np.ndarray  # (width, B) territory indices: row k holds the k-th index of every draw
    pair_ptr: np.ndarray  # (n + 1,) corrections of territory i: pair_ptr[i]:pair_ptr[i + 1]
    pair_b: np.ndarray  # draw row where the territory occurs among its first c_i indices
    pair_repl: np.ndarray  # the index that replaces it (the (c_i + 1)-th of the row)

    @classmethod
    def make(cls, cards: np.ndarray, size: int, rng: np.random.Generator) -> _ExtraDraws:
        n = len(cards)
        width = min(int(cards.max()) + 1, n)
        idx = _draw_block(n, size, width, rng)
        index_type = np.int32 if n < 2**31 else np.int64
        ptr, pair_b, pair_repl = self_pairs(idx, cards.astype(np.int64))
        return cls(
            # 16-bit indices where they fit: the counting streams them once per sector.
            np.ascontiguousarray(idx.T, dtype=np.uint16 if n <= 2**16 else index_type),
            ptr,
            pair_b.astype(index_type),
            pair_repl.astype(index_type),
        )

    def larger(
        self,
        problem: _Problem,
        rows: np.ndarray,
        cols: np.ndarray,
        lag: np.ndarray,
        up: np.ndarray,
    ) -> np.ndarray:
        """Draws of this block at least as extreme as observed, for the cells ``(rows, cols)``.

        The cells are sorted by sector (``cols``), distinct territories within a sector;
        ``lag`` is their observed neighbour sum. A cell counts draws with neighbour sum
        ``>= lag`` where ``up`` (the statistic increases with the neighbour sum) and
        ``<= lag`` elsewhere, with the tie tolerance of round 0.
        """
        low = lag - _TIE_RTOL * lag
        high = lag + _TIE_RTOL * lag
        c_cells = problem.weights.cardinalities[rows].astype(np.int64)
        cuts = np.flatnonzero(np.diff(cols)) + 1
        sector_ptr = np.concatenate([[0], cuts, [len(cols)]]).astype(np.int64)
        if problem.method == "direct":
            out = np.zeros(len(rows), dtype=np.int64)
            for g0, g1 in zip(sector_ptr[:-1].tolist(), sector_ptr[1:].tolist(), strict=True):
                at = slice(g0, g1)
                out[at] = self._larger_direct(
                    problem.column(int(cols[g0])), rows[at], c_cells[at], low[at], high[at], up[at]
                )
            return out
        # One compiled call for every sector: running sums up to the cells' largest
        # cardinality, then the rows where a cell's own territory sits among its first c
        # indices (its draw skips itself and takes the next index instead).
        values = problem.values
        return block_tail_counts(
            values.indptr,
            values.indices,
            values.data,
            problem.n,
            self.idx_t,
            cols[sector_ptr[:-1]].astype(np.int64),
            sector_ptr,
            rows.astype(np.int64),
            c_cells,
            low,
            high,
            up.astype(np.bool_),
            self.pair_ptr,
            self.pair_b,
            self.pair_repl,
        )

    def _larger_direct(
        self,
        y: np.ndarray,
        cells: np.ndarray,
        c_cells: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        up: np.ndarray,
    ) -> np.ndarray:
        """Same counts, drawing every cell's sums one by one (audit)."""
        out = np.zeros(len(cells), dtype=np.int64)
        idx = self.idx_t.T.astype(np.int64)
        for k, (i, c) in enumerate(zip(cells.tolist(), c_cells.tolist(), strict=True)):
            order = np.argsort(idx == i, axis=1, kind="stable")
            sums = y[np.take_along_axis(idx, order, axis=1)[:, :c]].sum(axis=1)
            out[k] = (sums >= low[k]).sum() if up[k] else (sums <= high[k]).sum()
        return out


def _clopper_pearson(f: np.ndarray, p: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """One-sided Clopper–Pearson bounds, each at level ``delta``, of ``f`` successes in ``p``."""
    f = f.astype(np.float64)
    p = p.astype(np.float64)
    low = np.zeros(len(f))
    high = np.ones(len(f))
    some = f > 0
    low[some] = beta_ppf(delta, f[some], p[some] - f[some] + 1.0)
    below = f < p
    high[below] = beta_ppf(1.0 - delta, f[below] + 1.0, p[below] - f[below])
    return low, high


class _Bounds:
    """Bounds on the p-value a cell would get at the cap, from its draws so far."""

    def __init__(self, schedule: tuple[int, ...], confidence: float) -> None:
        self.totals = np.asarray(schedule, dtype=np.int64)
        self.cap = int(self.totals[-1])
        self.delta = (1.0 - confidence) / 2.0

    def at_cap(self, rounds: np.ndarray, folded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` with ``lo <= p(cap) <= hi`` and ``lo <= p_sim <= hi`` (package notes).

        Computed once per distinct (round, count) pair: counts are small integers.
        """
        keys, inverse = unique_keys(
            rounds.astype(np.int64) * (self.cap + 1) + folded, len(self.totals) * (self.cap + 1)
        )
        rnd, f = np.divmod(keys, self.cap + 1)
        p = self.totals[rnd]
        q_lo, q_hi = _clopper_pearson(f, p, self.delta)
        rest = self.cap - p
        more = rest > 0
        add_lo = np.zeros(len(keys))
        add_hi = np.zeros(len(keys))
        add_lo[more] = binom_ppf(self.delta, rest[more], q_lo[more])
        add_hi[more] = binom_ppf(1.0 - self.delta, rest[more], q_hi[more])
        now = (f + 1.0) / (p + 1.0)
        lo = np.minimum((f + add_lo + 1.0) / (self.cap + 1.0), now)
        hi = np.maximum((f + add_hi + 1.0) / (self.cap + 1.0), now)
        return lo[inverse], hi[inverse]

    def max_candidate(self, alpha: float) -> int:
        """Largest round-0 tail count whose ``lo`` can still be ``<= alpha``."""
        p0 = int(self.totals[0])
        # lo is about f / P: look a little beyond alpha * P first, everywhere if needed.
        for top in (min(p0, int(2 * alpha * p0) + 100), p0):
            f = np.arange(top + 1)
            lo, _ = self.at_cap(np.zeros(top + 1, dtype=np.int8), f)
            if top == p0 or lo[-1] > alpha:
                break
        ok = np.flatnonzero(lo <= alpha)
        return int(ok[-1]) if len(ok) else -1


@dataclass
class _Refiner:
    """The sequential refinement of one result (package notes), on its candidate cells."""

    problem: _Problem
    cells: _Tested
    valid_sector: np.ndarray

    def run(self, reporter: Reporter, label: str) -> np.ndarray:
        """Refine the candidate cells in place; return the positions of the cells at the cap."""
        problem, cells = self.problem, self.cells
        schedule = problem.schedule
        last = len(schedule) - 1
        n, s = problem.n, problem.n_sectors
        bounds = _Bounds(schedule, problem.confidence)
        sequential = problem.refinement == "sequential"
        if sequential:
            pos = np.flatnonzero(cells.folded <= bounds.max_candidate(problem.alpha))
        else:
            pos = np.arange(len(cells.rows))
        # Sector-major, by increasing territory: every selection below stays sorted by sector.
        ci, cj = cells.rows[pos], cells.cols[pos]
        p0 = schedule[0]
        f0 = cells.folded[pos].astype(np.int64)
        larger = np.where(cells.tail[pos] > 0, f0, p0 - f0)
        rnd = np.zeros(len(pos), dtype=np.int8)
        up = cells.up[pos]
        if problem.fdr == "territories":
            groups, sizes = cj, np.where(self.valid_sector, n, 0)
        else:
            groups = np.zeros(len(pos), dtype=np.int64)
            sizes = np.array([n * int(self.valid_sector.sum())])
        alive = np.ones(len(pos), dtype=bool)
        assert problem.rng is not None
        # The blocks of the rounds come from a stream of their own, fixed by rng's state.
        entropy = int(problem.rng.integers(0, 2**63))
        blocks: dict[int, _ExtraDraws] = {}
        cards = problem.weights.cardinalities
        with reporter.step(label, total=last) as advance:
            while True:
                a = np.flatnonzero(alive)
                totals = np.asarray(schedule, dtype=np.int64)[rnd[a]]
                f = np.minimum(larger[a], totals - larger[a])
                lo, hi = bounds.at_cap(rnd[a], f)
                if sequential:
                    # BH rejects at most the k cells of a family with lo <= alpha, so below
                    # alpha * k / m; k only falls as cells are refined, and a cell left above
                    # that bound keeps its draws: it is settled outside for good.
                    low = lo <= problem.alpha
                    k = np.bincount(groups[a][low], minlength=len(sizes))
                    reach = problem.alpha * k / np.maximum(sizes, 1)
                    out = lo > reach[groups[a]]
                    alive[a[out]] = False
                    a, lo, hi = a[~out], lo[~out], hi[~out]
                    undecided = _bh_rejects(lo, groups[a], sizes, problem.alpha) & ~_bh_rejects(
                        hi, groups[a], sizes, problem.alpha
                    )
                else:
                    undecided = np.ones(len(a), dtype=bool)
                undecided &= rnd[a] < last
                if problem.fdr == "territories":
                    # A family without undecided cells is final: its cells leave.
                    open_family = np.zeros(s, dtype=bool)
                    open_family[cj[a[undecided]]] = True
                    alive[a[~open_family[cj[a]]]] = False
                todo = a[undecided]
                if len(todo) == 0:
                    break
                before = int(rnd[todo].min())
                for r in np.flatnonzero(np.bincount(rnd[todo])).tolist():
                    step = todo[rnd[todo] == r]  # sorted by sector
                    block = blocks.get(r + 1)
                    if block is None:
                        seed = np.random.SeedSequence(entropy, spawn_key=(r + 1,))
                        size = schedule[r + 1] - schedule[r]
                        block = _ExtraDraws.make(cards, size, np.random.default_rng(seed))
                        blocks[r + 1] = block
                    larger[step] += block.larger(
                        problem, ci[step], cj[step], cells.lag[pos[step]], up[step]
                    )
                    rnd[step] += 1
                advance(max(0, int(rnd[todo].min()) - before))
        totals = np.asarray(schedule, dtype=np.int64)[rnd]
        lower = (totals - larger) < larger
        cells.folded[pos] = np.where(lower, totals - larger, larger)
        cells.tail[pos] = np.where(lower, -1, 1)
        cells.draw_round[pos] = rnd
        return pos[rnd == last] if last else pos[:0]


# Sectors summed together by block_tail_counts (their values of one territory: 32 bytes), and
# the draws whose running sums it keeps at once (in the core's cache).
_PACK = 4
_DRAW_SPAN = 4096


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

