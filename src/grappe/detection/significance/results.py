"""Result objects of the local statistics: per-cell arrays, p-values, calls and refinement reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from grappe.detection.significance.fdr import benjamini_hochberg
from grappe.detection.significance.refinement import _clopper_pearson
from grappe.detection.significance.tails import normal_sf
from grappe.errors import InputError


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
        Territory (row) and sector (column) of each tested cell (see the package notes for
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
        """Cells given a permutation test (see the package notes for who is not)."""
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
        p = self.cell_p_sim if self.permutations else normal_sf(np.abs(self.cell_z))
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
        need (see the package notes)."""
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
        straddles the Benjamini–Hochberg threshold they need (see the package notes)."""
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
        return normal_sf(np.abs(self.z))

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
            given to the verb (``ALPHA`` by default); at another level the calls use the same
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
            p = normal_sf(np.abs(self.cell_z))
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

