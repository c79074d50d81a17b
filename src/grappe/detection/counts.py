"""The aggregated territory x sector matrices that every indicator reads."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

# Re-exported: the levels live in a light module so that the CLI's help does not load NumPy.
from grappe.detection.levels import SECTOR_LEVELS, TERRITORY_LEVELS  # noqa: F401
from grappe.errors import InputError

FloatVector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Counts:
    """Counts of one fabric snapshot crossed by territory (rows) and sector (columns).

    All matrices are ``scipy.sparse.csr_array`` of shape (len(territories), len(sectors))
    and dtype float64. Employment is estimated from SIRENE size bands: ``employment`` uses
    the central value of each band, ``employment_low`` / ``employment_high`` its bounds, so
    every indicator can carry a range. From aggregated tables (URSSAF, generic) the three are
    equal when headcounts are given, and all zero when they are not.

    Attributes
    ----------
    territory_level, sector_level : str
        Levels of rows and columns (sector_level may be the name of a sector-group file).
    territories, sectors : numpy.ndarray of str
        Sorted codes of rows and columns.
    establishments : csr_array
        Number of active establishments.
    employment, employment_low, employment_high : csr_array
        Estimated salaried employment (central, lower and upper bound).
    sme_establishments : csr_array
        Establishments of firms with fewer than 250 staff (TPE and PME), by size band.
    employment_sq : csr_array
        Sum over establishments of the squared central employment: the plant Herfindahl of a
        sector is ``employment_sq[:, j].sum() / employment[:, j].sum() ** 2``. Zero for
        aggregated tables, where plant sizes are unknown.
    employer_establishments : csr_array, optional
        Establishments with at least one employee by their size band (every band but
        ``NN`` and ``00``), counted from establishment rows. ``None`` from aggregated tables:
        URSSAF's establishments are employer establishments already, and a generic table
        does not say.
    from_establishments : bool
        True when counted from establishment rows, False from aggregated tables.
    dynamics : Dynamics, optional
        Flows of the same cells between two dates.
    totals : Totals, optional
        Each territory's whole economy, over every activity and not only the columns: the
        denominators of location quotients, focus and specialisation. A sector-group level
        may cover part of the economy only, and overlapping groups count an establishment
        in several columns, so row sums are not territory totals there. ``None`` means the
        columns partition the economy: :meth:`territory_totals` then returns the row sums.
        :func:`grappe.detection.aggregate.aggregate` always fills it (for a standard NAF
        level it equals the row sums). The rows are every territory with activity, so the
        national total is the sum of ``totals`` over the rows.
    """

    territory_level: str
    sector_level: str
    territories: np.ndarray
    sectors: np.ndarray
    establishments: sp.csr_array
    employment: sp.csr_array
    employment_low: sp.csr_array
    employment_high: sp.csr_array
    sme_establishments: sp.csr_array
    employment_sq: sp.csr_array
    from_establishments: bool = True
    dynamics: Dynamics | None = field(default=None)
    totals: Totals | None = field(default=None)
    employer_establishments: sp.csr_array | None = field(default=None)

    def __post_init__(self) -> None:
        shape = (len(self.territories), len(self.sectors))
        for name in (
            "establishments",
            "employment",
            "employment_low",
            "employment_high",
            "sme_establishments",
            "employment_sq",
            "employer_establishments",
        ):
            matrix = getattr(self, name)
            if matrix is not None and matrix.shape != shape:
                raise InputError(f"Counts.{name} has shape {matrix.shape}, expected {shape}")
        if shape[0] == 0 or shape[1] == 0:
            raise InputError(
                f"aucune donnée : {shape[0]} territoires x {shape[1]} secteurs "
                "(magasin du tissu vide, ou filtre trop étroit ?)"
            )
        if self.totals is not None:
            self.totals.check_length(shape[0])

    def territory_totals(self) -> Totals:
        """Each territory's totals over the whole economy: :attr:`totals`, else the row sums.

        Without :attr:`totals` the columns are taken to partition the economy (a standard
        NAF level), so a territory's total is the sum of its row, and its flows (when
        :attr:`dynamics` is set) the row sums of the flow matrices.
        """
        if self.totals is not None:
            return self.totals
        flows = None
        if self.dynamics is not None:
            flows = TotalFlows(
                **{name: _row_sums(getattr(self.dynamics, name)) for name in TotalFlows.names()}
            )
        return Totals(
            **{name: _row_sums(getattr(self, name)) for name in Totals.names()},
            flows=flows,
        )


@dataclass(frozen=True)
class EstablishmentCounts:
    """Active establishments of territory x sector cells, without the rest of :class:`Counts`:
    what a significance test reads (:func:`grappe.detection.aggregate.aggregate_levels` with
    ``establishments_only``).

    Attributes
    ----------
    territory_level, sector_level : str
        Levels of rows and columns.
    territories, sectors : numpy.ndarray of str
        Sorted codes of rows and columns.
    establishments : csr_array
        Number of active establishments.
    """

    territory_level: str
    sector_level: str
    territories: np.ndarray
    sectors: np.ndarray
    establishments: sp.csr_array

    @classmethod
    def of(cls, counts: Counts) -> EstablishmentCounts:
        """The establishment counts of ``counts``."""
        return cls(
            counts.territory_level,
            counts.sector_level,
            counts.territories,
            counts.sectors,
            counts.establishments,
        )


@dataclass(frozen=True)
class Dynamics:
    """Establishment flows of the same territory x sector cells between two dates.

    Attributes
    ----------
    start, end : str
        ISO dates of the window.
    stock_start, stock_end : csr_array
        Active establishments at ``start`` and at ``end``.
    created, closed : csr_array
        Establishments created, and closed, within the window.
    employment_start, employment_end : csr_array
        Central estimated employment at both dates.
    """

    start: str
    end: str
    stock_start: sp.csr_array
    stock_end: sp.csr_array
    created: sp.csr_array
    closed: sp.csr_array
    employment_start: sp.csr_array
    employment_end: sp.csr_array


@dataclass(frozen=True)
class Totals:
    """Each territory's totals over the whole economy (every activity), by row of a Counts.

    Vectors of float64 aligned with ``Counts.territories``. A sector group is measured
    against them "as if it were one more sector of the full nomenclature": its location
    quotient is ``(x_tg / X_t) / (X_.g / X_..)`` with ``X_t`` the entry of the territory
    here and ``X_..`` the sum over the rows.

    Attributes
    ----------
    establishments : ndarray
        Active establishments of the territory, whatever their activity.
    employment, employment_low, employment_high : ndarray
        Estimated salaried employment (central value, lower and upper bound). The bounds
        are those of the whole territory: every establishment at the bottom (top) of its
        size band.
    sme_establishments : ndarray
        Establishments of firms with fewer than 250 staff.
    flows : TotalFlows, optional
        The territory's flows over the window of ``Counts.dynamics``.
    """

    establishments: FloatVector
    employment: FloatVector
    employment_low: FloatVector
    employment_high: FloatVector
    sme_establishments: FloatVector
    flows: TotalFlows | None = None

    @staticmethod
    def names() -> tuple[str, ...]:
        """The names of the vectors (every attribute but :attr:`flows`)."""
        return tuple(f.name for f in fields(Totals) if f.name != "flows")

    def check_length(self, n_territories: int) -> None:
        """Raise InputError unless every vector has one entry per territory."""
        vectors = [(f"Totals.{n}", getattr(self, n)) for n in self.names()]
        if self.flows is not None:
            vectors += [(f"TotalFlows.{n}", getattr(self.flows, n)) for n in TotalFlows.names()]
        for name, vector in vectors:
            if np.shape(vector) != (n_territories,):
                raise InputError(
                    f"Counts.totals: {name} has shape {np.shape(vector)}, "
                    f"expected ({n_territories},) (one entry per territory)"
                )


@dataclass(frozen=True)
class TotalFlows:
    """Each territory's flows over the whole economy, on the window of ``Counts.dynamics``.

    The same quantities as :class:`Dynamics`, as vectors aligned with ``Counts.territories``.
    """

    stock_start: FloatVector
    stock_end: FloatVector
    created: FloatVector
    closed: FloatVector
    employment_start: FloatVector
    employment_end: FloatVector

    @staticmethod
    def names() -> tuple[str, ...]:
        """The names of the vectors."""
        return tuple(f.name for f in fields(TotalFlows))


def _row_sums(matrix: sp.sparray) -> FloatVector:
    return np.asarray(sp.csr_array(matrix, dtype=np.float64).sum(axis=1), dtype=np.float64).ravel()
