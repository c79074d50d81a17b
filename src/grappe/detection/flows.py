"""Dynamism of territory x sector cells: creation, closure and growth rates, cohort survival."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from grappe.detection.cells import FloatArray, _Cells, _divide, _sum, _values, _vector
from grappe.detection.counts import Counts, Totals
from grappe.detection.validation import _check_finite_nonnegative
from grappe.errors import InputError

if TYPE_CHECKING:
    from grappe.detection.aggregate import CohortSurvival


@dataclass(frozen=True)
class CellDynamics:
    """Establishment dynamism between the two dates of :class:`~grappe.detection.counts.Dynamics`.

    Each attribute is a rate ``numerator / stock_start`` (``NaN`` where ``stock_start`` is
    0), on the cells (csr_array on :attr:`Indicators.cells`), per territory and per sector
    (ndarray, the ratio of the sums).

    Attributes
    ----------
    start, end : str
        The window.
    creation_rate : csr_array
        ``created / stock_start``.
    closure_rate : csr_array
        ``closed / stock_start``.
    net_growth : csr_array
        ``(stock_end - stock_start) / stock_start``.
    employment_growth : csr_array
        ``(employment_end - employment_start) / employment_start`` (central values).
    territory_rates, sector_rates : dict[str, ndarray]
        The same four rates on territory and sector totals.

    From aggregated tables (``Counts.from_establishments`` false) creations and closures are
    unknown: their rates are ``NaN``; net growth compares the two stocks.
    """

    start: str
    end: str
    creation_rate: sp.csr_array
    closure_rate: sp.csr_array
    net_growth: sp.csr_array
    employment_growth: sp.csr_array
    territory_rates: dict[str, FloatArray]
    sector_rates: dict[str, FloatArray]


@dataclass(frozen=True)
class SurvivalRates:
    """Cohort survival: share of the establishments created in one year still active later.

    Read from :func:`grappe.detection.aggregate.cohort_survival` and aligned on the cells,
    territories and sectors of the ``Counts`` (``NaN`` where the cohort had no creation).

    Attributes
    ----------
    cohort_year, horizon_years : int
        The cohort and the horizon.
    cells : csr_array
        ``surviving / created`` on :attr:`Indicators.cells`.
    territories, sectors : ndarray
        The same ratio on territory and sector totals.
    """

    cohort_year: int
    horizon_years: int
    cells: sp.csr_array
    territories: FloatArray
    sectors: FloatArray


def _survival(counts: Counts, cells: _Cells, cohort: CohortSurvival) -> SurvivalRates:
    """Align a cohort's created / surviving counts on the cells of ``counts``."""
    for name in ("territory_level", "sector_level"):
        if getattr(cohort, name) != getattr(counts, name):
            raise InputError(
                f"survival: {name} {getattr(cohort, name)!r} differs from the counts' "
                f"{getattr(counts, name)!r}"
            )
    created = sp.coo_array(cohort.created)
    surviving = _values(cohort.surviving, created.row, created.col)
    rows, t_found = _positions(counts.territories, np.asarray(cohort.territories)[created.row])
    cols, s_found = _positions(counts.sectors, np.asarray(cohort.sectors)[created.col])
    # creations in a territory or sector absent from the snapshot have no cell to land in
    keep = t_found & s_found
    shape = (cells.n_t, cells.n_s)
    born = sp.csr_array((created.data[keep], (rows[keep], cols[keep])), shape=shape)
    alive = sp.csr_array((surviving[keep], (rows[keep], cols[keep])), shape=shape)
    return SurvivalRates(
        cohort_year=cohort.cohort_year,
        horizon_years=cohort.horizon_years,
        cells=cells.matrix(
            _divide(_values(alive, cells.rows, cells.cols), _values(born, cells.rows, cells.cols))
        ),
        territories=_divide(_sum(alive, 1), _sum(born, 1)),
        sectors=_divide(_sum(alive, 0), _sum(born, 0)),
    )


def _positions(reference: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each code in ``reference`` (sorted or not) and whether it is there."""
    reference = np.asarray(reference).astype(str)
    codes = np.asarray(codes).astype(str)
    if len(reference) == 0:
        return np.zeros(len(codes), dtype=np.int64), np.zeros(len(codes), dtype=bool)
    order = np.argsort(reference)
    at = np.minimum(np.searchsorted(reference[order], codes), len(reference) - 1)
    index = order[at]
    return index, reference[index] == codes


def _dynamics(counts: Counts, totals: Totals, cells: _Cells) -> CellDynamics | None:
    window = counts.dynamics
    if window is None:
        return None
    shape = (cells.n_t, cells.n_s)
    names = ("stock_start", "stock_end", "created", "closed", "employment_start", "employment_end")
    matrices = {}
    for name in names:
        matrix = getattr(window, name)
        if matrix.shape != shape:
            raise InputError(f"Dynamics.{name} has shape {matrix.shape}, expected {shape}")
        _check_finite_nonnegative(counts, f"Dynamics.{name}", matrix)
        matrices[name] = sp.csr_array(matrix, dtype=np.float64)

    def rates(values: dict[str, FloatArray]) -> dict[str, FloatArray]:
        start = values["stock_start"]
        return {
            "creation_rate": _divide(values["created"], start),
            "closure_rate": _divide(values["closed"], start),
            "net_growth": _divide(values["stock_end"] - start, start),
            "employment_growth": _divide(
                values["employment_end"] - values["employment_start"], values["employment_start"]
            ),
        }

    on_cells = rates({k: _values(m, cells.rows, cells.cols) for k, m in matrices.items()})
    # A territory's dynamism is its whole economy's (an establishment in two overlapping
    # groups is created once); counts without totals fall back on the row sums.
    flows = totals.flows
    if flows is None:
        territory_rates = rates({k: _sum(m, 1) for k, m in matrices.items()})
    else:
        territory_rates = rates({k: _vector(getattr(flows, k)) for k in matrices})
    sector_rates = rates({k: _sum(m, 0) for k, m in matrices.items()})
    if not counts.from_establishments:
        # Aggregated tables compare two stocks: creations and closures are unknown (stored
        # as zero), so their rates are undefined rather than zero.
        for values in (on_cells, territory_rates, sector_rates):
            for name in ("creation_rate", "closure_rate"):
                values[name] = np.full(values[name].shape, np.nan)
    return CellDynamics(
        start=window.start,
        end=window.end,
        creation_rate=cells.matrix(on_cells["creation_rate"]),
        closure_rate=cells.matrix(on_cells["closure_rate"]),
        net_growth=cells.matrix(on_cells["net_growth"]),
        employment_growth=cells.matrix(on_cells["employment_growth"]),
        territory_rates=territory_rates,
        sector_rates=sector_rates,
    )

