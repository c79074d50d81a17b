"""Local hot-spot statistics (Gi*, local Moran's I) with conditional permutation inference.

Both statistics are computed for many sectors at once (a territories x sectors matrix, dense or
sparse) exactly as esda's ``G_Local(star=True)`` and ``Moran_Local`` compute them, then tested by
conditional permutation (999 draws by default) and adjusted for multiple testing with
Benjamini–Hochberg.

How the permutation test stays exact at 35,000 communes x 732 sous-classes
--------------------------------------------------------------------------
Conditional permutation keeps the value of territory ``i`` fixed and gives it ``c_i`` (its
number of neighbours) values drawn without replacement among the ``n - 1`` other territories.
With binary or row-standardised weights every neighbour of ``i`` weighs the same, so both
statistics are monotone in the *neighbour sum* ``A_i = sum of the neighbours' values``: a
permuted Gi* is at least the observed one exactly when the permuted neighbour sum ``D`` is at
least ``A_i``; a permuted local Moran is at least the observed one when ``D >= A_i`` if
``z_i > 0`` and when ``D <= A_i`` if ``z_i < 0``. The p-value of a cell therefore only needs,
for each draw, the permuted neighbour sum.

One block of ``P`` draws is made once (``P`` rows of ``max(c) + 1`` distinct territory
indices) and shared by every cell and every sector, as esda's ``crand`` shares its block across
cells. The draw of territory ``i`` in row ``b`` is the first ``c_i`` indices of the row once
``i`` is skipped: a uniform sample of the others. For every ``i`` that does not occur among the
first ``c_i`` indices of row ``b`` (nearly all of them), its permuted sum is the *same number*
``D[b, c_i]``, the prefix sum of the row. So, per sector and per cardinality, the ``P`` prefix
sums are sorted once and each cell's count of draws ``>= A_i`` is a binary search; the few
(row, territory) pairs where the territory occurs in the row are corrected one by one (at most
``P * max(c)`` of them). Every tested cell thus gets its full ``P``-draw p-value, exactly the
count a direct loop over its ``P`` draws would give (``method="direct"`` does that loop, and the
tests check both agree bit for bit): no screen, no approximation, every call is decided by the
permutation test. Ties are compared in the neighbour-sum space with a relative tolerance of
1e-10, so that rounding cannot split equal sums. The loops over draws, cells and corrections
are compiled (:mod:`grappe.detection.kernels`, numba), with the same additions in the same
order as the vectorised numpy code they replaced: the same counts. They run on the cells that
can be tested only (a non-empty neighbourhood, about a third of the cells at commune level),
sector by sector, and the result keeps its arrays for those cells (``cell_*``): the
territories x sectors arrays are built from them when asked for.

Which cells are tested
----------------------
Values must be non-negative (counts, employment). A cell whose neighbour sum is zero (an empty
neighbourhood; in particular an empty cell with empty neighbours) sits at the minimum of its
permutation distribution: every permuted neighbour sum is ``>= 0``. No permutation can ever
place it in the upper tail, so it can never be a hot spot (Gi*) nor a high-high cluster, and
esda's folded rule, which counts ties as "larger", would give it ``p = 1 / (P + 1)`` in the
lower tail whatever the data (a tie artefact, not evidence: on a sparse sector most cells are
like that). Such cells are not tested: their ``p_sim`` and ``z_sim`` are NaN and they are never
called. They do stay in the Benjamini–Hochberg family, with their exact upper-tail p-value,
1: leaving them out would select the family on the observed neighbour sum (a non-empty
neighbourhood is already high in its own distribution) and make the calls on sparse sectors
anti-conservative. Sectors with no variance
(all equal, e.g. all zero) and, for local Moran, cells exactly at the sector mean (all permuted
statistics tie at zero) are not tested either.

p-values and calls
------------------
``p_sim = (larger + 1) / (P + 1)`` with esda's ``directed`` tail rule: ``larger`` counts draws
at least as large as the observed statistic and is replaced by ``P - larger`` when fewer draws
are below than above (the lower tail). ``p_adjusted`` applies Benjamini–Hochberg to the tested
cells of each sector (``fdr="territories"``, the family is one sector across territories) or
of the whole matrix (``fdr="all"``). A Gi* cell is *hot* when significant in the upper tail
and *cold* in the lower tail; a local Moran cell is *hot* when significant and high-high,
*cold* when significant and low-low (the quadrants of esda).

Sequential refinement: every call the permutation test can change is decided by it
--------------------------------------------------------------------------------------
With ``P = 999`` draws the smallest p-value is ``1 / 1000``, and Benjamini–Hochberg at 5 %
over the 35,000 communes of a sector rejects a cell only if at least 700 cells of the sector
reach that floor: with 999 draws nothing is ever called at commune level, and at zone d'emploi
level (287 territories) a sector needs 6 discoveries. More draws for every cell would cost
100 times as much. grappe draws more only where a call depends on it, and makes the calls of
the test that gives every tested cell ``max_permutations`` draws (``P_max``, 399,999 by
default), at the level ``alpha`` (5 % by default):

1. Round 0 gives every tested cell the ``P`` shared draws above.
2. For each cell, from its ``f`` tail draws out of ``P_r`` so far, bound the p-value that the
   ``P_max``-draw test would give it: the exact tail probability ``q`` lies in its
   Clopper–Pearson interval ``[q_lo, q_hi]`` (confidence ``confidence``, 0.999 by default),
   and the ``P_max - P_r`` draws still to come add at least the ``delta``-quantile of
   ``Binomial(P_max - P_r, q_lo)`` tail draws and at most the ``(1 - delta)``-quantile of
   ``Binomial(P_max - P_r, q_hi)`` (``delta = (1 - confidence) / 2``); this gives
   ``lo <= p(P_max) <= hi``, and ``lo <= p_sim <= hi`` for the current ``p_sim`` too.
3. Benjamini–Hochberg is monotone (smaller p-values reject a superset), so whatever the
   p-values within these bounds, the cells rejected with every p-value at ``hi`` are rejected
   and the cells not rejected with every p-value at ``lo`` are not. A cell between the two
   sets is *undecided*: only its call can still change. Families (sectors) without undecided
   cells are final; a cell whose ``lo`` exceeds ``alpha`` can never be rejected (the
   Benjamini–Hochberg threshold is at most ``alpha``) and leaves at once.
4. Each undecided cell gets the next block of draws (blocks double the draws: 999, 1,999,
   3,999, ... up to ``P_max``) and steps 2–4 repeat until no cell is undecided. A cell at
   ``P_max`` has ``lo = hi``: the loop ends.

The final ``p_sim`` of a cell uses all its draws and ``p_adjusted`` is Benjamini–Hochberg over
these p-values; since each lies within its bounds, the calls at ``alpha`` are those of the
``P_max``-draw test for every cell (``refinement="full"`` runs that test, drawing ``P_max``
for every tested cell, and the tests check both agree), except with the small probability
that a bound fails. Each ``p_sim`` is a valid permutation p-value at its own number of draws;
calls at another level than ``alpha`` use the same p-values without that guarantee.

The draws of round ``r >= 1`` are one block of ``P_r - P_{r-1}`` rows made, like round 0, for
every sector at once, from a generator seeded by ``SeedSequence(entropy, spawn_key=(r,))``
where ``entropy`` is the next draw of ``rng`` after round 0. A cell that reaches round ``r``
has used exactly the first ``P_r`` draws of this stream, whatever other cells or sectors were
refined: the results are reproducible bit for bit, do not depend on timing nor on the order of
the work, and a sector gets the same results when computed alone (``fdr="territories"``).
Each block is counted with the same shared prefix sums and corrections as round 0, only for
the cells being refined, in one compiled call per round for every sector
(:func:`grappe.detection.kernels.block_tail_counts`: per pack of sectors, running sums of the
draws up to the largest cardinality of their cells; at each cardinality a binary search of
each draw's sum among the sorted thresholds of the cells). ``z_sim`` keeps the moments of
round 0.

Every result reports its refinement: ``draws`` (per cell), ``refined`` (cells given more than
``P`` draws), ``sector_draws`` (the most draws used in each sector) and ``unsettled``: cells
that reached ``P_max`` and whose exact p-value interval still straddles the Benjamini–Hochberg
threshold they need (``alpha * k / m`` for a called cell of a family with ``k`` calls out of
``m`` territories, ``alpha * (k + 1) / m`` for the others). More draws than ``P_max`` could
change their call; raise ``max_permutations`` if they matter. ``refinement_by_sector()``
tabulates them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from grappe.detection.kernels import (
    bh_adjusted,
    block_tail_counts,
    candidate_cells,
    candidate_counts,
    gi_values,
    rows_with_repeats,
    self_pairs,
)
from grappe.detection.segments import order_within, unique_keys
from grappe.detection.weights import SpatialWeights
from grappe.errors import InputError
from grappe.progress import SILENT, Reporter

__all__ = [
    "CONFIDENCE",
    "MAX_PERMUTATIONS",
    "PERMUTATIONS",
    "GetisOrd",
    "LocalMoran",
    "LocalStatistic",
    "benjamini_hochberg",
    "getis_ord",
    "local_moran",
]

PERMUTATIONS = 999

#: Default cap of the sequential refinement: a cell gets at most this many draws.
MAX_PERMUTATIONS = 399_999

#: Default two-sided confidence of the bounds that decide whether a call is settled.
CONFIDENCE = 0.999

# Neighbour sums within this relative distance are ties (rounding must not split equal sums).
_TIE_RTOL = 1e-10

# Dense work arrays per block of sectors hold about this many values (bounds peak memory).
_BLOCK_VALUES = 2_000_000

Transform = Literal["B", "R"]
Fdr = Literal["territories", "all"]
Method = Literal["shared", "direct"]
Refinement = Literal["sequential", "full"]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class LocalStatistic:
    """A local statistic for every territory x sector cell, computed once.

    The test is kept for the tested cells only (``cell_*`` arrays, sector by sector, by
    increasing territory: about a third of the cells at commune level); the territories x
    sectors arrays (``statistic``, ``z``, ``tested``, ``folded``...) are built from them on
    first use.

    Attributes
    ----------
    territories : numpy.ndarray of str
        Row codes (the ids of the weights).
    sectors : numpy.ndarray of str
        Column labels.
    permutations : int
        Number of conditional permutations ``P`` of round 0, shared by every tested cell
        (0: analytic inference only).
    valid_sector : numpy.ndarray of bool
        Sectors with variance (the others have no test at all).
    cell_rows, cell_cols : numpy.ndarray of int32
        Territory (row) and sector (column) of each tested cell (see the module notes for
        who is not tested), sector-major.
    cell_statistic, cell_z : numpy.ndarray of float64
        The local statistic and its analytic z-value at the tested cells.
    cell_folded : numpy.ndarray of unsigned int
        ``min(larger, draws - larger)``, the tail count of esda's folded rule over the draws
        of the cell.
    cell_tail : numpy.ndarray of int8
        +1 when the observed statistic is in the upper tail of its permutation distribution,
        -1 in the lower tail (without permutations: the sign of ``z``).
    cell_z_sim : numpy.ndarray of float32
        ``(statistic - mean of draws) / std of draws`` over the ``P`` draws of round 0.
    cell_round : numpy.ndarray of int8
        Refinement round reached: the cell used ``schedule[cell_round]`` draws.
    cell_at_cap : numpy.ndarray of int
        Positions (in the ``cell_*`` arrays) of the cells that reached ``max_permutations``.
    schedule : tuple of int
        Draws after each round: ``P``, then doubling up to ``max_permutations``.
    alpha : float
        Level at which the refinement settled the calls.
    confidence : float
        Two-sided confidence of the bounds used to settle them.
    fdr : {"territories", "all"}
        The Benjamini–Hochberg family: each sector across territories, or every tested cell.
    transform : {"B", "R"}
        Weights transformation used (binary or row-standardised).
    weights_kind : str
        How the weights were built.
    dense : callable
        Returns the territories x sectors ``statistic`` and ``z`` (and the quadrants of local
        Moran), computed on first use.
    """

    territories: np.ndarray
    sectors: np.ndarray
    permutations: int
    valid_sector: np.ndarray
    cell_rows: np.ndarray
    cell_cols: np.ndarray
    cell_statistic: np.ndarray
    cell_z: np.ndarray
    cell_folded: np.ndarray
    cell_tail: np.ndarray
    cell_z_sim: np.ndarray
    cell_round: np.ndarray
    cell_at_cap: np.ndarray
    schedule: tuple[int, ...]
    alpha: float
    confidence: float
    fdr: str
    transform: str
    weights_kind: str
    dense: Callable[[], dict[str, np.ndarray]] = field(repr=False)

    name: ClassVar[str] = "statistic"

    @property
    def shape(self) -> tuple[int, int]:
        """(territories, sectors)."""
        return len(self.territories), len(self.sectors)

    def _spread(self, values: np.ndarray, fill: Any, dtype: Any = None) -> np.ndarray:
        """A territories x sectors array holding ``values`` at the tested cells, ``fill`` elsewhere."""
        out = np.full(self.shape, fill, dtype=dtype if dtype is not None else values.dtype)
        out[self.cell_rows, self.cell_cols] = values
        return out

    @cached_property
    def _dense(self) -> dict[str, np.ndarray]:
        return self.dense()

    @property
    def statistic(self) -> np.ndarray:
        """The local statistic (Gi* or local Moran's I) of every cell."""
        return self._dense["statistic"]

    @property
    def z(self) -> np.ndarray:
        """Analytic z-value (normal approximation) of every cell; NaN where undefined."""
        return self._dense["z"]

    @cached_property
    def tested(self) -> np.ndarray:
        """Cells given a permutation test (see the module notes for who is not)."""
        return self._spread(np.ones(len(self.cell_rows), dtype=bool), False)

    @cached_property
    def folded(self) -> np.ndarray:
        """``cell_folded`` of every cell (0 where not tested)."""
        return self._spread(self.cell_folded, 0)

    @cached_property
    def tail(self) -> np.ndarray:
        """``cell_tail`` of every cell (0 where not tested)."""
        return self._spread(self.cell_tail, 0)

    @cached_property
    def z_sim(self) -> np.ndarray:
        """``cell_z_sim`` of every cell (NaN where not tested)."""
        return self._spread(self.cell_z_sim, np.nan)

    @cached_property
    def draw_round(self) -> np.ndarray:
        """``cell_round`` of every cell (0 where not tested)."""
        return self._spread(self.cell_round, 0)

    @cached_property
    def at_cap(self) -> np.ndarray:
        """Flat indices (row-major) of the cells that reached ``max_permutations``, sorted."""
        at = self.cell_at_cap
        flat = self.cell_rows[at].astype(np.int64) * len(self.sectors) + self.cell_cols[at]
        return np.sort(flat)

    @cached_property
    def cell_p_sim(self) -> np.ndarray:
        """``(cell_folded + 1) / (draws + 1)`` of the tested cells (NaN without permutations)."""
        return self.p_sim_of(np.arange(len(self.cell_rows)))

    def p_sim_of(self, at: np.ndarray) -> np.ndarray:
        """``cell_p_sim`` at the positions ``at`` of the tested cells, without the others."""
        if self.permutations == 0:
            return np.full(len(at), np.nan)
        p = self.cell_folded[at].astype(np.float64)
        p += 1.0
        p /= (np.asarray(self.schedule, dtype=np.float64) + 1.0)[self.cell_round[at]]
        return p

    @cached_property
    def cell_p_adjusted(self) -> np.ndarray:
        """Benjamini–Hochberg over each family, untested members of a valid sector at p = 1.

        Leaving the untested cells out of the family would select on the observed neighbour
        sum (a cell is tested because its neighbourhood is not empty, i.e. high in its own
        distribution) and make the discoveries of sparse sectors anti-conservative; their
        exact upper-tail p-value is 1, so they stay in the family with it.
        """
        n, s = self.shape
        p = self.cell_p_sim if self.permutations else np.asarray(stats.norm.sf(np.abs(self.cell_z)))
        valid = self.valid_sector
        if self.fdr == "territories":
            groups = self.cell_cols.astype(np.uint16) if s < 2**16 else self.cell_cols
            sizes = np.where(valid, n, 0)
        else:
            groups = np.zeros(len(p), dtype=np.uint8)
            sizes = np.array([n * int(valid.sum())])
        return benjamini_hochberg(p, groups, sizes)

    @cached_property
    def p_adjusted(self) -> np.ndarray:
        """``cell_p_adjusted`` of every cell: 1 for the untested cells of a valid sector, NaN
        for the sectors without variance."""
        n, s = self.shape
        out = np.where(np.broadcast_to(self.valid_sector, (n, s)), 1.0, np.nan)
        out[self.cell_rows, self.cell_cols] = self.cell_p_adjusted
        return out

    @cached_property
    def cell_unsettled(self) -> np.ndarray:
        """Tested cells at the cap whose exact p-value interval straddles the threshold they
        need (see the module notes)."""
        n, s = self.shape
        out = np.zeros(len(self.cell_rows), dtype=bool)
        at_cap = self.cell_at_cap
        if len(at_cap) == 0:
            return out
        called = self.cell_p_adjusted <= self.alpha
        if self.fdr == "territories":
            k = np.bincount(self.cell_cols[called], minlength=s)[self.cell_cols[at_cap]]
            m = n
        else:
            k = np.full(len(at_cap), int(called.sum()))
            m = n * int(self.valid_sector.sum())
        is_called = called[at_cap]
        need = self.alpha * (k + ~is_called) / m
        cap = self.schedule[-1]
        f = self.cell_folded[at_cap].astype(np.int64)
        q_lo, q_hi = _clopper_pearson(f, np.full(len(f), cap), (1.0 - self.confidence) / 2.0)
        out[at_cap] = np.where(is_called, q_hi > need, q_lo <= need)
        return out

    @property
    def unsettled(self) -> np.ndarray:
        """Cells that reached ``max_permutations`` while their exact p-value interval still
        straddles the Benjamini–Hochberg threshold they need (see the module notes)."""
        return self._spread(self.cell_unsettled, False)

    @property
    def max_permutations(self) -> int:
        """The cap of the refinement: most draws a cell may get."""
        return self.schedule[-1]

    @cached_property
    def draws(self) -> np.ndarray:
        """Draws used by each cell (uint32; 0 where not tested or without permutations)."""
        if self.permutations == 0:
            return np.zeros(self.shape, dtype=np.uint32)
        return self._spread(np.asarray(self.schedule, dtype=np.uint32)[self.cell_round], 0)

    @property
    def refined(self) -> np.ndarray:
        """Cells given more draws than the ``permutations`` of round 0."""
        return self._spread(self.cell_round > 0, False)

    @cached_property
    def sector_draws(self) -> np.ndarray:
        """Most draws used by a cell of each sector (``permutations`` when none was refined)."""
        if self.permutations == 0:
            return np.zeros(len(self.sectors), dtype=np.int64)
        top = np.zeros(len(self.sectors), dtype=np.int64)
        np.maximum.at(top, self.cell_cols, self.cell_round)
        return np.asarray(self.schedule, dtype=np.int64)[top]

    def refinement_by_sector(self) -> pd.DataFrame:
        """One row per sector: draws used, cells refined, cells unsettled at the cap, calls.

        ``calls`` counts the cells significant at the level ``alpha`` of the refinement.
        """
        s = len(self.sectors)

        def count(mask: np.ndarray) -> np.ndarray:
            return np.bincount(self.cell_cols[mask], minlength=s)

        return pd.DataFrame(
            {
                "sector": self.sectors,
                "tested": count(np.ones(len(self.cell_cols), dtype=bool)),
                "draws": self.sector_draws,
                "refined": count(self.cell_round > 0),
                "unsettled": count(self.cell_unsettled),
                "calls": count(self.cell_p_adjusted <= self.alpha),
            }
        )

    @cached_property
    def p_norm(self) -> np.ndarray:
        """One-sided normal p-value of ``|z|`` (as esda's ``p_norm``)."""
        return np.asarray(stats.norm.sf(np.abs(self.z)))

    @cached_property
    def p_sim(self) -> np.ndarray:
        """Pseudo p-value ``(folded + 1) / (draws + 1)``; NaN where not tested or ``P == 0``."""
        return self._spread(self.cell_p_sim, np.nan)

    def significant(self, alpha: float = 0.05, *, adjusted: bool = True) -> np.ndarray:
        """Cells whose test rejects at level ``alpha``.

        Parameters
        ----------
        alpha : float
            Level, in (0, 1). The refinement settles the calls at the level ``self.alpha``
            given to the verb (5 % by default); at another level the calls use the same
            p-values, without that guarantee.
        adjusted : bool
            Compare ``p_adjusted`` (default) or the raw ``p_sim`` (``p_norm`` without
            permutations).
        """
        if not 0.0 < alpha < 1.0:
            raise InputError(f"alpha must be between 0 and 1 (got {alpha!r})")
        if adjusted:
            p = self.cell_p_adjusted
        elif self.permutations:
            p = self.cell_p_sim
        else:
            p = np.asarray(stats.norm.sf(np.abs(self.cell_z)))
        return self._spread(p <= alpha, False)

    def hot(self, alpha: float = 0.05) -> np.ndarray:
        """Significant cells in the upper tail of their permutation distribution."""
        return self.significant(alpha) & (self.tail > 0)

    def cold(self, alpha: float = 0.05) -> np.ndarray:
        """Significant cells in the lower tail of their permutation distribution."""
        return self.significant(alpha) & (self.tail < 0)

    def to_frame(
        self, alpha: float = 0.05, cells: Literal["tested", "significant", "all"] = "tested"
    ) -> pd.DataFrame:
        """One row per cell: territory, sector, statistic, z, p-values and the call at ``alpha``.

        ``cells`` selects the rows: the tested cells (default), only the significant ones, or
        every cell (territories x sectors rows: large on communes).
        """
        if cells == "tested":
            mask = self.tested
        elif cells == "significant":
            mask = self.significant(alpha)
        elif cells == "all":
            mask = np.ones(self.shape, dtype=bool)
        else:
            raise InputError(f"cells must be 'tested', 'significant' or 'all' (got {cells!r})")
        rows, cols = np.nonzero(mask)
        hot = self.hot(alpha)[rows, cols]
        cold = self.cold(alpha)[rows, cols]
        call = np.where(hot, "hot", np.where(cold, "cold", ""))
        frame = pd.DataFrame(
            {
                "territory": self.territories[rows],
                "sector": self.sectors[cols],
                self.name: self.statistic[rows, cols],
                "z": self.z[rows, cols],
                "p_norm": self.p_norm[rows, cols],
                "p_sim": self.p_sim[rows, cols],
                "z_sim": self.z_sim[rows, cols].astype(np.float64),
                "p_adjusted": self.p_adjusted[rows, cols],
                "draws": self.draws[rows, cols],
                "significant": self.significant(alpha)[rows, cols],
                "unsettled": self.unsettled[rows, cols],
                "call": call,
            }
        )
        return self._extra_columns(frame, rows, cols)

    def _extra_columns(
        self, frame: pd.DataFrame, rows: np.ndarray, cols: np.ndarray
    ) -> pd.DataFrame:
        return frame


@dataclass(frozen=True, eq=False)
class GetisOrd(LocalStatistic):
    """Local Getis–Ord Gi* (self included) for every cell; see :func:`getis_ord`.

    Attributes
    ----------
    expected : numpy.ndarray, shape (territories,)
        ``E[Gi*]`` under the null (esda's ``EGs``): the weight sum of the row over ``n``.
    """

    expected: np.ndarray = field(kw_only=True)

    name: ClassVar[str] = "gi"

    @property
    def gi(self) -> np.ndarray:
        """The Gi* statistic (esda's ``Gs``)."""
        return self.statistic


@dataclass(frozen=True, eq=False)
class LocalMoran(LocalStatistic):
    """Local Moran's I for every cell; see :func:`local_moran`.

    Attributes
    ----------
    expected : numpy.ndarray, shape (territories,)
        ``E[I_i]`` under total randomisation (esda's ``EI``): ``-w_i / (n - 1)``.
    """

    expected: np.ndarray = field(kw_only=True)

    name: ClassVar[str] = "Is"

    @property
    def Is(self) -> np.ndarray:  # noqa: N802 -- esda's name
        """Local Moran's I (esda's ``Is``)."""
        return self.statistic

    @property
    def quadrant(self) -> np.ndarray:
        """esda's quadrants (int8): 1 high-high, 2 low-high, 3 low-low, 4 high-low (0: undefined)."""
        return self._dense["quadrant"]

    def hot(self, alpha: float = 0.05) -> np.ndarray:
        """Significant high-high cells."""
        return self.significant(alpha) & (self.quadrant == 1)

    def cold(self, alpha: float = 0.05) -> np.ndarray:
        """Significant low-low cells."""
        return self.significant(alpha) & (self.quadrant == 3)

    def _extra_columns(
        self, frame: pd.DataFrame, rows: np.ndarray, cols: np.ndarray
    ) -> pd.DataFrame:
        labels = np.array(["", "HH", "LH", "LL", "HL"])
        frame["quadrant"] = labels[self.quadrant[rows, cols]]
        return frame


# --------------------------------------------------------------------------- public verbs


def getis_ord(
    values: Any,
    weights: SpatialWeights,
    *,
    transform: str = "B",
    permutations: int = PERMUTATIONS,
    rng: np.random.Generator | None = None,
    fdr: str = "territories",
    sectors: Sequence[str] | np.ndarray | None = None,
    method: str = "shared",
    reporter: Reporter = SILENT,
    max_permutations: int | None = None,
    alpha: float = 0.05,
    confidence: float = CONFIDENCE,
    refinement: str = "sequential",
) -> GetisOrd:
    """Local Getis–Ord Gi* (self included) of every territory x sector cell, with inference.

    Gi* of territory ``i`` is the weighted sum of the values of ``i`` and its neighbours over
    the sector total; statistic, expectation, variance and z-value are those of esda's
    ``G_Local(y, w, transform, star=True)`` (self weight 1 before the transformation).

    Parameters
    ----------
    values : array-like or scipy.sparse matrix, shape (territories, sectors) or (territories,)
        Non-negative values (counts, employment), rows aligned with ``weights.ids``.
    weights : SpatialWeights
        Binary neighbours of each territory.
    transform : {"B", "R"}
        Binary weights (default) or row-standardised, as esda applies them.
    permutations : int
        Conditional permutations of round 0, shared by every tested cell (999 by default; 0
        for analytic inference only).
    rng : numpy.random.Generator
        Source of the permutations; required when ``permutations > 0``. Same generator state,
        same results bit for bit.
    fdr : {"territories", "all"}
        Benjamini–Hochberg family: each sector across territories, or all tested cells.
    sectors : sequence of str, optional
        Column labels (default ``"0"``, ``"1"``...).
    method : {"shared", "direct"}
        ``"shared"`` (default) counts draws with sorted prefix sums shared across cells;
        ``"direct"`` recomputes every cell's draws one by one (slow; for audits). Both give the
        same counts.
    reporter : Reporter
        Progress of the sector blocks and of the refinement rounds.
    max_permutations : int, optional
        Cap of the sequential refinement (``MAX_PERMUTATIONS``, 399,999, by default, or
        ``permutations`` if larger): the calls are those of the test drawing this many
        permutations for every cell. Equal to ``permutations``: no refinement.
    alpha : float
        Level at which the refinement settles the calls (5 %).
    confidence : float
        Two-sided confidence of the bounds deciding that a call is settled (0.999).
    refinement : {"sequential", "full"}
        ``"sequential"`` (default) draws more only for the undecided cells (module notes);
        ``"full"`` gives ``max_permutations`` draws from the same stream to every tested cell
        (slow; the reference the sequential scheme reproduces).

    Returns
    -------
    GetisOrd

    Examples
    --------
    >>> import numpy as np
    >>> from grappe.detection.weights import grid
    >>> cells = grid(np.repeat(np.arange(6) * 1000.0, 6), np.tile(np.arange(6) * 1000.0, 6), 1000)
    >>> y = np.zeros(36); y[[0, 1, 6, 7]] = 10.0; y[20] = 1.0
    >>> res = getis_ord(y, cells.weights, rng=np.random.default_rng(0))
    >>> np.flatnonzero(res.hot(0.05)[:, 0]).tolist(), round(float(res.z[0, 0]), 3)
    ([0, 1, 6], 5.908)
    >>> int(res.sector_draws[0]) > 999, int(res.unsettled.sum())  # refined, all settled
    (True, 0)
    """
    tr = _check_transform(transform)
    problem = _Problem.build(
        values,
        weights,
        sectors=sectors,
        permutations=permutations,
        rng=rng,
        fdr=fdr,
        method=method,
        verb="getis_ord",
        max_permutations=max_permutations,
        alpha=alpha,
        confidence=confidence,
        refinement=refinement,
    )
    result = _run(problem, _GiFinisher(problem, tr), reporter, "Gi* : permutations")
    assert isinstance(result, GetisOrd)
    return result


def local_moran(
    values: Any,
    weights: SpatialWeights,
    *,
    transform: str = "R",
    permutations: int = PERMUTATIONS,
    rng: np.random.Generator | None = None,
    fdr: str = "territories",
    sectors: Sequence[str] | np.ndarray | None = None,
    method: str = "shared",
    reporter: Reporter = SILENT,
    max_permutations: int | None = None,
    alpha: float = 0.05,
    confidence: float = CONFIDENCE,
    refinement: str = "sequential",
) -> LocalMoran:
    """Local Moran's I of every territory x sector cell, with inference.

    Statistic, quadrants and total-randomisation moments ``EI``, ``VI`` are those of esda's
    ``Moran_Local(y, w, transformation)``; esda gives no analytic z-value, grappe's is
    ``(Is - EI) / sqrt(VI)``.

    Parameters
    ----------
    values, weights, permutations, rng, fdr, sectors, method, reporter
        As for :func:`getis_ord`.
    max_permutations, alpha, confidence, refinement
        As for :func:`getis_ord`.
    transform : {"R", "B"}
        Row-standardised weights (default, as esda) or binary.

    Returns
    -------
    LocalMoran
    """
    tr = _check_transform(transform)
    problem = _Problem.build(
        values,
        weights,
        sectors=sectors,
        permutations=permutations,
        rng=rng,
        fdr=fdr,
        method=method,
        verb="local_moran",
        max_permutations=max_permutations,
        alpha=alpha,
        confidence=confidence,
        refinement=refinement,
    )
    if problem.n < 3:
        raise InputError(f"local_moran: needs at least 3 territories (got {problem.n})")
    result = _run(problem, _MoranFinisher(problem, tr), reporter, "Moran local : permutations")
    assert isinstance(result, LocalMoran)
    return result


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


# --------------------------------------------------------------------------- problem set-up


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


def _schedule(permutations: int, cap: int) -> tuple[int, ...]:
    """Draws after each round: ``permutations``, then doubling (``2 P + 1``) up to ``cap``."""
    totals = [permutations]
    while permutations and totals[-1] < cap:
        totals.append(min(2 * totals[-1] + 1, cap))
    return tuple(totals)


def _csc_positions(m: sp.csc_array) -> tuple[np.ndarray, np.ndarray]:
    cols = np.repeat(np.arange(m.shape[1]), np.diff(m.indptr))
    return m.indices, cols


# --------------------------------------------------------------------------- permutations


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
    (:func:`grappe.detection.kernels.candidate_cells`): the draw sums of each cardinality,
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


# --------------------------------------------------------------------------- refinement


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
    low[some] = stats.beta.ppf(delta, f[some], p[some] - f[some] + 1.0)
    below = f < p
    high[below] = stats.beta.ppf(1.0 - delta, f[below] + 1.0, p[below] - f[below])
    return low, high


class _Bounds:
    """Bounds on the p-value a cell would get at the cap, from its draws so far."""

    def __init__(self, schedule: tuple[int, ...], confidence: float) -> None:
        self.totals = np.asarray(schedule, dtype=np.int64)
        self.cap = int(self.totals[-1])
        self.delta = (1.0 - confidence) / 2.0

    def at_cap(self, rounds: np.ndarray, folded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` with ``lo <= p(cap) <= hi`` and ``lo <= p_sim <= hi`` (module notes).

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
        add_lo[more] = stats.binom.ppf(self.delta, rest[more], q_lo[more])
        add_hi[more] = stats.binom.ppf(1.0 - self.delta, rest[more], q_hi[more])
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


@dataclass
class _Refiner:
    """The sequential refinement of one result (module notes), on its candidate cells."""

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


# --------------------------------------------------------------------------- statistics


@dataclass
class _Finished:
    """The statistic of candidate cells, which of them are tested, and their round-0 outcome."""

    statistic: np.ndarray
    z: np.ndarray
    tested: np.ndarray
    up: np.ndarray  # the statistic increases with the neighbour sum
    larger: np.ndarray | None = None  # draws at least as extreme as observed
    z_sim: np.ndarray | None = None


class _GiFinisher:
    """Gi* statistic, moments and permutation outcome, as esda computes them.

    The statistic and z-value of a cell depend only on its value, its neighbour sum and
    constants of its territory and its sector: one elementwise formula gives the candidate
    cells and, on demand, every cell.
    """

    lower = False  # Gi* only counts the draws at least as large as observed

    def __init__(self, problem: _Problem, transform: Transform) -> None:
        self.problem = problem
        self.transform = transform
        w = problem.weights
        n = w.n
        card = w.cardinalities.astype(np.float64)
        if transform == "B":
            self.self_weight = np.ones(n)
            self.other_weight = np.ones(n)
            row_sum = card + 1.0
        else:
            self.self_weight = 1.0 / (card + 1.0)
            self.other_weight = self.self_weight
            row_sum = np.ones(n)
        # esda: E[G*] = W_i / N and Var = W_i (N - W_i) / (N - 1) / N^2 * s^2 / ybar^2.
        self.expected = row_sum / n
        self.var_factor = row_sum * (n - row_sum) / (n - 1) * (1.0 / n**2)
        values = problem.values
        self.total = np.asarray(values.sum(axis=0), dtype=np.float64).ravel()
        self.mean = self.total / n
        squares = np.asarray(values.multiply(values).sum(axis=0), dtype=np.float64).ravel()
        self.variance = squares / n - self.mean**2
        self.valid = (self.total > 0) & (self.variance > 0)

    def _values(
        self, y: np.ndarray, lag: np.ndarray, i: np.ndarray, j: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gi* and z of the cells (territory ``i``, sector ``j``), one compiled pass."""
        return gi_values(
            y, lag, i, j, self.self_weight, self.other_weight, self.expected, self.var_factor,
            self.total, self.mean, self.variance,
        )

    def finish(self, cells: _Cells) -> _Finished:
        statistic, z = self._values(cells.y, cells.lag, cells.rows, cells.cols)
        tested = np.ones(len(cells.rows), dtype=bool)  # every candidate
        out = _Finished(statistic, z, tested, tested)
        if cells.ge is not None:
            # Gi* increases with the neighbour sum (positive weight): z_sim is z_lag.
            out.z_sim = cells.z_lag
            out.larger = cells.ge
        return out

    def dense(self) -> dict[str, np.ndarray]:
        y = self.problem.values.toarray()
        lag = np.asarray(self.problem.weights.adjacency @ y)
        n, s = y.shape
        i = np.repeat(np.arange(n), s)
        j = np.tile(np.arange(s), n)
        statistic, z = self._values(y.ravel(), lag.ravel(), i, j)
        z = z.reshape(n, s)
        z[:, ~self.valid] = np.nan
        return {"statistic": statistic.reshape(n, s), "z": z}

    def result(self, common: dict[str, Any]) -> GetisOrd:
        return GetisOrd(**common, dense=self.dense, expected=self.expected)


class _MoranFinisher:
    """Local Moran's I, moments and permutation outcome, as esda computes them.

    The statistic needs the standardised values of the neighbours (esda's spatial lag of
    ``z``): it is computed on dense blocks of sectors, then taken at the candidate cells.
    """

    lower = True  # below-mean cells count the draws at most as large as observed

    def __init__(self, problem: _Problem, transform: Transform) -> None:
        self.problem = problem
        self.transform = transform
        w = problem.weights
        self.matrix = w.row_standardised if transform == "R" else w.adjacency
        self.wi = np.asarray(self.matrix.sum(axis=1)).ravel()
        self.wi2 = np.asarray(self.matrix.multiply(self.matrix).sum(axis=1)).ravel()
        self.expected = -self.wi / (w.n - 1)
        self.valid = np.zeros(problem.n_sectors, dtype=bool)
        for j0, j1 in problem.blocks():
            self.valid[j0:j1] = problem.block(j0, j1).std(axis=0) > 0

    def _block(self, y: np.ndarray) -> dict[str, np.ndarray]:
        n = self.problem.n
        mean = y.mean(axis=0)
        sd = y.std(axis=0)
        valid = sd > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (y - mean) / sd
            zl = np.asarray(self.matrix @ z)
            den = (z * z).sum(axis=0)
            statistic = (n - 1) * z * zl / den
            m2 = den / n
            m4 = (z**4).sum(axis=0) / n
            b2 = m4 / m2**2
            wi, wi2 = self.wi[:, None], self.wi2[:, None]
            n1 = n - 1
            vi = wi2 * (n - b2) / n1
            vi = vi + (wi**2 - wi2) * (2 * b2 - n) / (n1 * (n - 2))
            vi = vi - (-wi / n1) ** 2
            zvalue = (statistic - self.expected[:, None]) / np.sqrt(vi)
        statistic[:, ~valid] = np.nan
        zvalue[:, ~valid] = np.nan
        zp, lp = z > 0, zl > 0
        quadrant = np.where(zp & lp, 1, np.where(~zp & lp, 2, np.where(~zp & ~lp, 3, 4)))
        quadrant = np.where(valid[None, :], quadrant, 0).astype(np.int8)
        return {"statistic": statistic, "z": zvalue, "quadrant": quadrant, "zs": z}

    def finish(self, cells: _Cells) -> _Finished:
        m = len(cells.rows)
        taken = {name: np.empty(m) for name in ("statistic", "z", "zs")}
        starts = np.searchsorted(cells.cols, np.arange(self.problem.n_sectors + 1))
        for j0, j1 in self.problem.blocks():
            at = slice(starts[j0], starts[j1])
            block = self._block(self.problem.block(j0, j1))
            for name, array in taken.items():
                array[at] = block[name][cells.rows[at], cells.cols[at] - j0]
        z = taken["zs"]
        tested = z != 0
        out = _Finished(taken["statistic"], taken["z"], tested, z > 0)
        if cells.ge is not None:
            assert cells.le is not None
            assert cells.z_lag is not None
            # I_i is increasing in the neighbour sum when z_i > 0, decreasing when z_i < 0.
            out.larger = np.where(z > 0, cells.ge, cells.le)
            out.z_sim = np.where(z > 0, cells.z_lag, -cells.z_lag)
        return out

    def dense(self) -> dict[str, np.ndarray]:
        block = self._block(self.problem.values.toarray())
        return {name: block[name] for name in ("statistic", "z", "quadrant")}

    def result(self, common: dict[str, Any]) -> LocalMoran:
        return LocalMoran(**common, dense=self.dense, expected=self.expected)


def _run(
    problem: _Problem, finisher: _GiFinisher | _MoranFinisher, reporter: Reporter, label: str
) -> LocalStatistic:
    p = problem.permutations
    valid = finisher.valid
    draws = None
    if p:
        assert problem.rng is not None
        draws = _Draws.make(problem.weights.cardinalities, p, problem.rng)
    with reporter.step(label, total=problem.n_sectors) as advance:
        cells = _candidates(problem, valid, draws, finisher.lower)
        out = finisher.finish(cells)
        # Gi* tests every candidate; local Moran not those exactly at the sector mean.
        keep = slice(None) if out.tested.all() else np.flatnonzero(out.tested)
        count_type = np.uint16 if problem.schedule[-1] < 2**16 else np.uint32
        if out.larger is not None:
            larger = out.larger[keep]
            lower = (p - larger) < larger  # esda's fold: fewer draws below than above
            folded = np.where(lower, p - larger, larger).astype(count_type)
            tail = np.where(lower, -1, 1).astype(np.int8)
            del larger, lower
            assert out.z_sim is not None
            z_sim = out.z_sim[keep]
        else:
            tail = np.sign(out.z[keep]).astype(np.int8)
            folded = np.zeros(len(tail), dtype=count_type)
            z_sim = np.full(len(tail), np.nan, dtype=np.float32)
        tested = _Tested(
            rows=cells.rows[keep],
            cols=cells.cols[keep],
            lag=cells.lag[keep],
            statistic=out.statistic[keep],
            z=out.z[keep],
            folded=folded,
            tail=tail,
            z_sim=z_sim,
            draw_round=np.zeros(len(folded), dtype=np.int8),
            up=out.up[keep],
        )
        del cells, out
        advance(problem.n_sectors)
    at_cap = np.zeros(0, dtype=np.int64)
    if len(problem.schedule) > 1:
        refiner = _Refiner(problem, tested, valid)
        at_cap = refiner.run(reporter, label.replace("permutations", "affinage"))
    common = {
        "territories": problem.weights.ids,
        "sectors": problem.sectors,
        "permutations": p,
        "valid_sector": valid,
        "cell_rows": tested.rows,
        "cell_cols": tested.cols,
        "cell_statistic": tested.statistic,
        "cell_z": tested.z,
        "cell_folded": tested.folded,
        "cell_tail": tested.tail,
        "cell_z_sim": tested.z_sim,
        "cell_round": tested.draw_round,
        "cell_at_cap": at_cap,
        "schedule": problem.schedule,
        "alpha": problem.alpha,
        "confidence": problem.confidence,
        "fdr": problem.fdr,
        "transform": finisher.transform,
        "weights_kind": problem.weights.kind,
    }
    return finisher.result(common)

