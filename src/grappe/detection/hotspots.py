"""The Gi* test of potential clusters: surprise values on communes, weights, bound, lift to a level.

Significance
------------
*What is tested.* For commune ``i`` and sector ``s`` the value is the *surprise* of the
sector's establishment count: ``v = -log10 P(X >= x_is)`` with ``X`` Poisson of mean
``e_is = x_i. x_.s / x_..``, the count expected if the sector were spread like all
establishments (``v = 0`` without establishment). Where nothing is clustered
``P(v >= t) <= 10^-t`` in every commune, dense or sparse, so the values share one tail and
are exchangeable, as the permutation test assumes; a cluster is a group of neighbouring
communes that are each surprising. Two simpler values were measured worse on the synthetic
fabrics of ``tests/detection/test_recall.py``: raw counts follow the density of the fabric
and make every dense area a hot spot of every sector (about 0.5 % of all presences called
with nothing planted, the communes of Paris first); Pearson residuals
``(x - e) / sqrt(e)`` explode for one establishment of a rare sector in a village
(``e`` ~ 0.001 gives ~ 30), so random draws of such villages outweigh a real cluster and
the clusters of denser fabrics (Toulouse's aerospace at 1 M establishments) are lost.

*Why communes.* Conditional permutation keeps a territory's own value and asks whether its
neighbours are unusually high. A cluster that fits inside one zone d'emploi or EPCI
(Toulouse's aerospace in Toulouse Métropole, Oyonnax's plastics in its zone d'emploi) has
ordinary neighbours at that level, so no Gi* test at that level can see it; at the commune
scale the same cluster is a group of neighbouring communes, which is what Gi* detects. A
candidate territory is therefore significant in a sector when at least one of its communes
is a Gi* hot spot of the sector at false discovery rate ``alpha`` (Benjamini–Hochberg across
the communes of the sector, untested communes counting with ``p = 1``); its ``gi_z``,
``p_value`` and ``p_adjusted`` are those of its most significant commune (``hotspot``).
``support="level"`` runs the same test on the territories of the requested level instead
(faster, blind to clusters that fit in one territory).

*Weights.* Contiguity from shared borders (the packaged commune contiguity, aggregated to
the level for ``support="level"``); a territory without any neighbour (an island such as
Ouessant or Île-de-Sein) gets its nearest territory by population-weighted centroid (k = 1,
the link made both ways); territories without coordinates keep no neighbour and are never
tested (their neighbour sum is empty).

*Screened p-values.* ``permutations`` conditional permutations (one seeded block shared by
every cell, counted exactly by :mod:`grappe.detection.significance`) give each cell its
upper-tail p-value ``(r + 1) / (P + 1)``, ``r`` the draws whose neighbour sum reaches the
observed one. That estimate cannot go below ``1 / (P + 1)``, too coarse for
Benjamini–Hochberg over the communes of a sector (the figures are in the notes of
:mod:`grappe.detection.significance`): the clusters of a full-size fabric would be lost. Two
steps lift that floor:

1. the sequential refinement of :func:`~grappe.detection.significance.getis_ord` gives more
   draws (doubling, up to ``max_permutations``) to the cells whose call at ``alpha`` still
   depends on them, and stops as soon as no call can change;
2. where no draw reaches the observed sum (``r = 0`` after the refinement), the p-value is
   ``min(1 / (draws + 1), B)`` with ``B`` an upper bound of the exact permutation p-value:
   reaching the observed neighbour sum ``A`` takes at least ``j*`` non-zero neighbours,
   ``j*`` the fewest of the other communes' largest values whose sum reaches ``A``, and the
   number of non-zero values among ``c`` neighbours drawn without replacement is
   hypergeometric, so ``p <= B = P(H >= j*)``.

The permutations decide every call above their resolution; the bound, never below the
exact permutation p-value, decides only below it, where the draws cannot: for a null cell
``P(p <= t) <= t`` at every ``t``, so the Benjamini–Hochberg calls keep their guarantee.
Cells in the lower tail of their permutation distribution (upper-tail p-value >= 1/2) enter
their family with ``p = 1``, which only makes the calls more conservative. With
``permutations=0`` the p-value is the normal one of the analytic z.

*False discoveries.* The family of Benjamini–Hochberg is one sector across communes, as
the rule asks: each sector may make a false call with probability up to ``alpha``, so with
~730 sous-classes a fabric where nothing is clustered still gets calls, mostly two or three
establishments of a rare sector in neighbouring communes (0.4 % of the presences of the
synthetic fabrics of ``tests/detection/test_recall.py`` with nothing planted). The score's
critical-mass factor ranks them below real clusters of the same specialisation, but they
can fill a top 20 when nothing else stands out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from numba import njit

from grappe.detection.counts import EstablishmentCounts
from grappe.detection.segments import positions
from grappe.detection.significance import benjamini_hochberg, getis_ord
from grappe.detection.significance.permutation import _TIE_RTOL
from grappe.detection.significance.tails import normal_sf, poisson_log_sf
from grappe.detection.weights import SpatialWeights, contiguity
from grappe.progress import Reporter

#: Where the Gi* test runs: on communes (default) or on the territories of the level.
Support = Literal["commune", "level"]
# Surprise values beyond 10^-300 are capped (the float64 range).
_SURPRISE_CAP = 300.0
# Islands borrow this many nearest territories as neighbours.
_ISLAND_K = 1
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@lru_cache(maxsize=8)
def _level_weights(level: str, ze_key: object) -> SpatialWeights:
    """Contiguity of every territory of a level, islands tied to their nearest territory."""
    from grappe.refdata import territories

    levels = territories.commune_levels()
    codes = pc.unique(levels.column(level).drop_null()).to_pylist()
    weights = contiguity(np.asarray(sorted(codes)), level)
    if len(weights.islands) == 0:
        return weights
    centroids = territories.centroids(level)
    located = centroids.filter(pc.is_valid(centroids.column("x")))
    located_codes = np.asarray(located.column("code").to_pylist(), dtype=str)
    inside = np.isin(weights.ids, located_codes)
    sub = weights.reindex(weights.ids[inside])
    coords = located.filter(pc.is_in(located.column("code"), pa.array(sub.ids.tolist())))
    filled = sub.fill_islands(coords, k=_ISLAND_K)
    if inside.all():
        return filled
    # Territories without coordinates keep no neighbour (never tested).
    coo = filled.adjacency.tocoo()
    rows = np.searchsorted(weights.ids, filled.ids[coo.row])
    cols = np.searchsorted(weights.ids, filled.ids[coo.col])
    return SpatialWeights.from_pairs(weights.ids, rows, cols, filled.kind)


def _weights(level: str) -> SpatialWeights:
    from grappe.refdata import territories

    key = territories._ze_key() if level == "ze" else None  # follows a re-import of the ZE
    return _level_weights(level, key)


@dataclass(frozen=True)
class _Test:
    """Gi* outcome on the tested support cells (flat, row-major on weights.ids x sectors)."""

    rows: npt.NDArray[np.int32]  # support territory (row of the weights)
    cols: npt.NDArray[np.int32]  # sector
    z: FloatArray
    p: FloatArray
    p_adjusted: FloatArray
    ids: npt.NDArray[np.str_]
    sectors: npt.NDArray[np.str_]
    valid_sector: npt.NDArray[np.bool_]


def _significance(
    fine: EstablishmentCounts,
    weights: SpatialWeights,
    permutations: int,
    seed: int,
    alpha: float,
    max_permutations: int,
    reporter: Reporter,
    tested: npt.NDArray[np.bool_] | None = None,
) -> _Test:
    """Gi* hot-spot p-values of establishments on the support, refined below 1 / (P + 1).

    ``tested`` (one flag per sector of ``fine``) limits the test to those sectors; the
    others keep empty columns. The expected counts use every establishment either way.
    """
    n, s = weights.n, len(fine.sectors)
    located = np.searchsorted(weights.ids, fine.territories)
    located = np.minimum(located, n - 1)
    inside = weights.ids[located] == fine.territories
    est = fine.establishments.tocoo()
    keep = inside[est.row]
    if tested is not None:
        keep &= tested[est.col]
    # The surprise of each count, not the count (see the module notes): raw counts follow
    # the density of the fabric and would make every dense area a hot spot of every sector.
    data = est.data[keep]
    row_total = np.asarray(fine.establishments.sum(axis=1)).ravel()
    col_total = np.asarray(fine.establishments.sum(axis=0)).ravel()
    expected = row_total[est.row[keep]] * col_total[est.col[keep]] / col_total.sum()
    data = _surprise(data, expected)
    values = sp.csc_array(
        (data, (located[est.row[keep]], est.col[keep])), shape=(n, s)
    )
    values.sum_duplicates()
    values.eliminate_zeros()
    rng = np.random.default_rng(seed)
    result = getis_ord(
        values,
        weights,
        transform="B",
        permutations=permutations,
        rng=rng if permutations else None,
        sectors=fine.sectors,
        reporter=reporter,
        max_permutations=max_permutations if permutations else None,
        alpha=alpha,
    )
    # Only cells in the upper tail can be hot spots; the others (upper-tail p-value >= 1/2)
    # enter their family with p = 1, which can only make the calls more conservative, and
    # halves the arrays kept from tens of millions of tested cells.
    upper = np.flatnonzero(result.cell_tail > 0)
    rows, cols = result.cell_rows[upper], result.cell_cols[upper]  # 32-bit, sector-major
    z = result.cell_z[upper]
    if permutations:
        p = result.p_sim_of(upper)
        floor = np.flatnonzero(result.cell_folded[upper] == 0)  # upper tail: folded = larger
        if len(floor):
            f_rows, f_cols = rows[floor].astype(np.int64), cols[floor].astype(np.int64)
            totals = np.asarray(values.sum(axis=0)).ravel()
            gi = result.cell_statistic[upper[floor]]
            own = np.asarray(values[f_rows, f_cols]).ravel()
            lag = gi * totals[f_cols] - own
            bound = _hypergeometric_bound(values, weights, f_rows, f_cols, lag)
            p[floor] = np.minimum(p[floor], bound)
    else:
        p = normal_sf(z)
    # Sectors without variance have no test at all.
    valid_sector = result.valid_sector
    del result, upper
    # Each sector's family is every support territory, the untested ones with p = 1.
    families = cols.astype(np.uint16) if s < 2**16 else cols  # less memory
    p_adjusted = benjamini_hochberg(p, families, np.full(s, n))
    del families
    return _Test(rows, cols, z, p, p_adjusted, weights.ids, fine.sectors, valid_sector)


def _surprise(observed: FloatArray, expected: FloatArray) -> FloatArray:
    """``-log10 P(X >= observed)`` for ``X ~ Poisson(expected)``: 0 for no establishment.

    Under the null (a sector spread like all establishments) ``P(v >= t) <= 10 ** -t`` in
    every commune, dense or sparse: the values share one tail, as the permutation test
    assumes.
    """
    log_sf = poisson_log_sf(observed - 1.0, expected)
    return np.minimum(-log_sf / math.log(10.0), _SURPRISE_CAP)


def _hypergeometric_bound(
    values: sp.csc_array,
    weights: SpatialWeights,
    rows: IntArray,
    cols: IntArray,
    lag: FloatArray,
) -> FloatArray:
    """Upper bound of the conditional-permutation p-value ``P(D >= lag)`` of each cell.

    ``D`` is the sum of ``c_i`` values drawn without replacement among the other
    territories. Reaching ``lag`` takes at least ``j*`` non-zero draws, ``j*`` the fewest of
    the other territories' largest values whose sum reaches ``lag``; the count of non-zero
    draws is hypergeometric.
    """
    n = weights.n
    cards = weights.cardinalities[rows]
    own = np.asarray(values[rows, cols]).ravel()
    needed = np.empty(len(rows), dtype=np.int64)
    nonzero = np.diff(values.indptr)
    for j in np.unique(cols).tolist():
        at = np.flatnonzero(cols == j)
        column = values.data[values.indptr[j] : values.indptr[j + 1]]
        ascending = np.sort(column)
        top = np.cumsum(ascending[::-1])  # top[k - 1]: sum of the k largest values
        target = lag[at] * (1.0 - _TIE_RTOL)
        # The draws come from the other territories: the cell's own value, when among the
        # largest, is not available. With ``r`` its rank (1 = largest), the others' k
        # largest sum to top[k - 1] for k < r and to top[k] - own from k = r on.
        rank = len(ascending) - np.searchsorted(ascending, own[at], side="right") + 1
        first = np.searchsorted(top, target, side="left") + 1
        without = np.searchsorted(top, target + own[at], side="left")
        needed[at] = np.where((first < rank) | (own[at] <= 0), first, np.maximum(rank, without))
    needed[lag <= 0] = 0  # an empty neighbour sum is always reached
    others_nonzero = nonzero[cols] - (own > 0)
    bound = _hypergeometric_sf(needed, n - 1, others_nonzero, cards)
    # The observed draw itself has a positive probability: never report exactly zero.
    return np.maximum(bound, np.finfo(np.float64).tiny)


def _hypergeometric_sf(
    j: IntArray, population: int, successes: IntArray, draws: IntArray
) -> FloatArray:
    """``P(H >= j)`` for ``H`` hypergeometric, vectorised (scipy's ``sf`` loops per element).

    The first term comes from log-gamma functions, the next ones from the ratio of
    consecutive terms; the loop runs over the at most ``max(draws)`` terms, not the cells.
    """
    from scipy.special import gammaln

    j = np.asarray(j, dtype=np.int64)
    k = np.asarray(successes, dtype=np.float64)
    c = np.asarray(draws, dtype=np.float64)
    big_n = float(population)
    last = np.minimum(k, c)
    start = np.maximum(j, 0).astype(np.float64)
    possible = start <= last
    h = np.where(possible, start, 0.0)

    def log_choose(a: FloatArray, b: FloatArray) -> FloatArray:
        return np.asarray(gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1))

    with np.errstate(invalid="ignore"):
        log_term = (
            log_choose(k, h) + log_choose(big_n - k, c - h) - log_choose(np.full_like(k, big_n), c)
        )
    term = np.where(possible, np.exp(log_term), 0.0)
    total = term.copy()
    for _ in range(int(np.max(last - h, initial=0))):
        going = possible & (h < last)
        if not going.any():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (k - h) * (c - h) / ((h + 1.0) * (big_n - k - c + h + 1.0))
        term = np.where(going, term * ratio, 0.0)
        total += term
        h = np.where(going, h + 1.0, h)
    return np.minimum(total, 1.0)


def _lift(
    test: _Test,
    level_territories: npt.NDArray[np.str_],
    level_sectors: npt.NDArray[np.str_],
    cand_rows: IntArray,
    cand_cols: IntArray,
    support: Support,
    level: str,
) -> tuple[dict[str, np.ndarray], IntArray]:
    """The most significant support territory of each candidate (row ``cand_rows`` of the
    level's territories, column ``cand_cols`` of its sectors, in row-major order): gi_z and
    p-values, and the index of the hot spot among the support territories (-1: none)."""
    s = len(level_sectors)
    # The support and the level may hold different sectors: align their columns by code.
    column = np.searchsorted(level_sectors, test.sectors)
    column = np.minimum(column, s - 1)
    known_sector = level_sectors[column] == test.sectors
    support_ids = test.ids
    if support == "commune" and level != "commune":
        from grappe.refdata import territories

        parent = territories.parents(support_ids, level)
    else:
        parent = support_ids
    t_index = np.searchsorted(level_territories, parent)
    t_index = np.minimum(t_index, len(level_territories) - 1)
    has_parent = level_territories[t_index] == parent
    # The candidate of each tested cell (-1: outside every candidate, or of a territory or
    # sector the level does not hold), then per candidate, in one compiled pass: the smallest
    # p, among those the largest z, among those the first territory (tens of millions of
    # tested cells, none copied).
    ok = has_parent[test.rows] & known_sector[test.cols]
    key = t_index[test.rows].astype(np.int64) * s + column[test.cols]
    key[~ok] = -1
    del ok
    # The candidates come in row-major order: their keys are sorted.
    cand_key = cand_rows.astype(np.int64) * s + cand_cols
    n_cand = len(cand_key)
    at = positions(cand_key, key)
    del key
    valid = np.zeros(s, dtype=bool)
    valid[column[known_sector & test.valid_sector]] = True
    out_p = np.ones(n_cand)
    best_z = np.full(n_cand, -np.inf)
    first = np.full(n_cand, np.iinfo(np.int64).max)
    out_padj = np.where(valid[cand_cols], 1.0, np.nan)
    # Benjamini-Hochberg is monotone in p within a sector: the smallest p has the smallest
    # adjusted p.
    best_per_group(at, test.p, test.z, test.rows, test.p_adjusted, out_p, best_z, first, out_padj)
    found = first < np.iinfo(np.int64).max
    out_z = np.where(found & np.isfinite(best_z), best_z, np.nan)
    hotspot = np.where(found, first, -1)
    return {"gi_z": out_z, "p_value": out_p, "p_adjusted": out_padj}, hotspot


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

