"""Checks of the Counts given to the indicators: finite, non-negative, ordered ranges, comparable totals."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from grappe.detection.cells import FloatArray, _values, _vector
from grappe.detection.counts import Counts, TotalFlows, Totals
from grappe.errors import InputError


def _validate(counts: Counts) -> None:
    for name in (
        "establishments",
        "employment",
        "employment_low",
        "employment_high",
        "sme_establishments",
        "employment_sq",
    ):
        _check_finite_nonnegative(counts, f"Counts.{name}", getattr(counts, name))
    _check_order(counts, "employment_low", "employment")
    _check_order(counts, "employment", "employment_high")
    _check_order(counts, "sme_establishments", "establishments")
    if not sp.csr_array(counts.establishments).count_nonzero():
        raise InputError(
            f"aucun établissement dans les {len(counts.territories)} territoires x "
            f"{len(counts.sectors)} secteurs des données : aucun indicateur n'est défini"
        )


def _validate_totals(counts: Counts, totals: Totals) -> None:
    """Whole-economy totals: finite, non-negative, ordered, and at least each of their cells."""
    vectors = {name: _vector(getattr(totals, name)) for name in Totals.names()}
    if totals.flows is not None:
        vectors |= {f"flows.{n}": _vector(getattr(totals.flows, n)) for n in TotalFlows.names()}
    for name, vector in vectors.items():
        bad = ~np.isfinite(vector) | (vector < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"Counts.totals.{name}: value {float(vector[i])!r} in territory "
                f"{str(counts.territories[i])!r} is not a finite non-negative number"
            )
    pairs = [
        ("employment_low", "employment"),
        ("employment", "employment_high"),
        ("sme_establishments", "establishments"),
    ]
    for smaller, larger in pairs:
        _check_vector_order(
            counts, f"Counts.totals.{smaller}", vectors[smaller], f"Counts.totals.{larger}", vectors[larger]
        )
    # A cell is part of its territory's economy: no cell can exceed the territory's total.
    for name in Totals.names():
        cell_max = _row_max(getattr(counts, name))
        _check_vector_order(
            counts, f"a cell of Counts.{name}", cell_max, f"Counts.totals.{name}", vectors[name]
        )


def _check_vector_order(
    counts: Counts, smaller_name: str, smaller: FloatArray, larger_name: str, larger: FloatArray
) -> None:
    # the same relative tolerance as _check_order, for sums made in another order
    bad = smaller - larger > 1e-9 * np.maximum(np.abs(larger), 1.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{smaller_name} > {larger_name} in territory {str(counts.territories[i])!r}: "
            f"{float(smaller[i])!r} > {float(larger[i])!r} ({int(bad.sum())} such territory(ies))"
        )


def _row_max(matrix: sp.sparray) -> FloatArray:
    csr = sp.csr_array(matrix, dtype=np.float64)
    if csr.shape[1] == 0:
        return np.zeros(csr.shape[0])
    return np.asarray(csr.max(axis=1).toarray(), dtype=np.float64).ravel()


def _check_finite_nonnegative(counts: Counts, name: str, matrix: sp.sparray) -> None:
    coo = sp.coo_array(matrix)
    bad = ~np.isfinite(coo.data) | (coo.data < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{name}: value {coo.data[i]!r} in territory {counts.territories[coo.row[i]]!r}, "
            f"sector {counts.sectors[coo.col[i]]!r} is not a finite non-negative number "
            f"({int(bad.sum())} such cell(s))"
        )


def _check_order(counts: Counts, smaller: str, larger: str) -> None:
    # a - b > 0 somewhere means smaller > larger there; a relative tolerance absorbs sums of
    # band values computed in another order by the engine.
    low, high = getattr(counts, smaller), getattr(counts, larger)
    diff = sp.coo_array(sp.csr_array(low) - sp.csr_array(high))
    scale = np.maximum(np.abs(_values(sp.csr_array(high), diff.row, diff.col)), 1.0)
    bad = diff.data > 1e-9 * scale
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        t, s = diff.row[i], diff.col[i]
        raise InputError(
            f"Counts.{smaller} > Counts.{larger} in territory {counts.territories[t]!r}, "
            f"sector {counts.sectors[s]!r}: {low[t, s]!r} > {high[t, s]!r} "
            f"({int(bad.sum())} such cell(s))"
        )


def _check_comparable(
    counts: Counts, totals: Totals, cols: np.ndarray, establishments: FloatArray
) -> None:
    territories = np.flatnonzero(_vector(totals.establishments) > 0)
    if len(territories) < 2:
        raise InputError(
            "quotients de localisation, spécialisation et concentration comparent des territoires : "
            f"il faut au moins 2 territoires ayant des établissements, trouvé(s) : {len(territories)} "
            f"({', '.join(map(str, counts.territories[territories]))} au niveau "
            f"{counts.territory_level!r})"
        )
    present = establishments > 0
    sectors = np.unique(cols[present])
    # One sector is enough when the economy holds other activity (a sector-group file
    # naming one value chain); when it is the whole economy every LQ is 1.
    national = float(_vector(totals.establishments).sum())
    rest = national - float(establishments[present].sum())
    if len(sectors) < 2 and rest <= 1e-9 * national:
        raise InputError(
            "les quotients de localisation comparent un secteur à toute l'économie : il faut au "
            f"moins 2 secteurs ayant des établissements, trouvé(s) : {len(sectors)} "
            f"({', '.join(map(str, counts.sectors[sectors]))} au niveau {counts.sector_level!r}),"
            " ou une activité hors de ces secteurs"
        )

