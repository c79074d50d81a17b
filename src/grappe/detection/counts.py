"""The aggregated territory x sector matrices that every indicator reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from grappe.errors import InputError

TERRITORY_LEVELS = ("commune", "epci", "ze", "departement", "region")
SECTOR_LEVELS = ("section", "division", "groupe", "classe", "sous-classe")


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

    def __post_init__(self) -> None:
        shape = (len(self.territories), len(self.sectors))
        for name in (
            "establishments",
            "employment",
            "employment_low",
            "employment_high",
            "sme_establishments",
            "employment_sq",
        ):
            matrix = getattr(self, name)
            if matrix.shape != shape:
                raise InputError(f"Counts.{name} has shape {matrix.shape}, expected {shape}")
        if shape[0] == 0 or shape[1] == 0:
            raise InputError(
                f"no data: {shape[0]} territories x {shape[1]} sectors "
                "(is the fabric store empty, or the filter too narrow?)"
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
