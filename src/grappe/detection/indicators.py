"""Location quotients, specialisation, concentration and dynamism of territory x sector cells.

Every figure is computed once, vectorised on the sparse cells of a
:class:`~grappe.detection.counts.Counts`, for both measures (establishments and estimated
employment). Employment-based figures carry a range (``*_low``, ``*_high``) that follows
from the SIRENE size bands; the rule behind each range is stated where the figure is
defined (see :class:`~grappe.detection.measures.MeasureIndicators`).

Notation used in the docstrings: ``x_ts`` is the measure in territory ``t`` and sector
``s``; ``x_.s`` is the sector total (its column sum); ``x_t.`` and ``x_..`` are the
territory total and the national total over the whole economy, every activity included:
``Counts.territory_totals()``, i.e. ``Counts.totals`` (filled by the aggregation) or, for
hand-built counts without it, the row sums. The "nation" is the set of rows of the
``Counts`` (every territory with activity). For a standard NAF level the two definitions
agree; for a sector-group level (groups covering part of the economy, possibly
overlapping) each group is measured as one more sector of the full nomenclature would be:
``LQ_tg = (x_tg / X_t) / (x_.g / X_..)``, its focus ``x_tg / X_t``, and an establishment
in two groups still counts once in ``X_t``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from grappe.detection.cells import _bincount, _Cells, _coordinates, _divide, _sum, _values, _vector
from grappe.detection.counts import Counts
from grappe.detection.flows import CellDynamics, SurvivalRates, _dynamics, _survival
from grappe.detection.measures import MEASURES, Measure, MeasureIndicators, _measure_indicators
from grappe.detection.output import OutputFormat, output_format, write_frame
from grappe.detection.validation import _check_comparable, _validate, _validate_totals
from grappe.errors import InputError

if TYPE_CHECKING:
    from grappe.detection.aggregate import CohortSurvival
    from grappe.detection.reference import Reference

Table = Literal["cells", "territories", "sectors"]
TABLES: tuple[Table, ...] = ("cells", "territories", "sectors")


@dataclass(frozen=True)
class Indicators:
    """Indicators of every territory x sector cell, territory and sector of a ``Counts``.

    Build it with :func:`indicators`. Cell matrices share the pattern :attr:`cells`;
    :meth:`to_frame` lists these cells in the same (row-major) order.

    Attributes
    ----------
    counts : Counts
        The input.
    measure : {"employment", "establishments"}
        The measure of the unsuffixed columns of the frames and of :attr:`lq`,
        :attr:`focus`... (the other measure is in the frames with a suffix).
    employment, establishments : MeasureIndicators
        The indicators of each measure. Employment indicators are ``NaN`` when the input
        has no employment (aggregated tables without headcounts).
    cells : csr_array
        The pattern: 1.0 on every cell with establishments or employment.
    sme_share : csr_array
        Share of establishments belonging to firms with fewer than 250 staff.
    dynamics : CellDynamics or None
        Creation and closure rates, net growth, when the input carries a window.
    survival : SurvivalRates or None
        Cohort survival, when given to :func:`indicators`.
    """

    counts: Counts
    measure: Measure
    employment: MeasureIndicators
    establishments: MeasureIndicators
    cells: sp.csr_array
    sme_share: sp.csr_array
    dynamics: CellDynamics | None
    survival: SurvivalRates | None = None

    @property
    def selected(self) -> MeasureIndicators:
        """The indicators of :attr:`measure`."""
        return self.employment if self.measure == "employment" else self.establishments

    @property
    def lq(self) -> sp.csr_array:
        """Location quotient of :attr:`measure` (see :class:`MeasureIndicators`)."""
        return self.selected.lq

    @property
    def lq_low(self) -> sp.csr_array:
        """Lower end of the LQ range."""
        return self.selected.lq_low

    @property
    def lq_high(self) -> sp.csr_array:
        """Upper end of the LQ range."""
        return self.selected.lq_high

    @property
    def rca(self) -> sp.csr_array:
        """Balassa RCA of :attr:`measure` (the same formula as :attr:`lq`)."""
        return self.selected.rca

    @property
    def mcp(self) -> sp.csr_array:
        """Binary ``RCA >= 1`` of :attr:`measure`."""
        return self.selected.mcp

    @property
    def focus(self) -> sp.csr_array:
        """Sector share of the territory, on :attr:`measure`."""
        return self.selected.focus

    @property
    def size(self) -> sp.csr_array:
        """Territory share of the sector, on :attr:`measure`."""
        return self.selected.size

    def cell_coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """Row and column indices of the cells, in the order of :meth:`to_frame`."""
        return _coordinates(self.cells)

    def to_frame(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per cell with establishments or employment, in long format.

        ``columns`` keeps only these columns, in this order (default: all, listed below).

        Columns: ``territory_level, territory_code, sector_level, sector, establishments,
        employment, employment_low, employment_high, sme_share, measure, lq, lq_low, lq_high,
        rca, mcp, focus, focus_low, focus_high, size, size_low, size_high`` (on
        :attr:`measure`), ``lq_<other>, focus_<other>, size_<other>`` (the other measure),
        then ``creation_rate, closure_rate, net_growth, employment_growth`` (``NaN``
        without a window) and ``survival_rate`` (``NaN`` without a cohort).
        """
        rows, cols = self.cell_coordinates()
        counts = self.counts
        main, other = self.selected, self._other
        frame: dict[str, object] = {
            "territory_level": counts.territory_level,
            "territory_code": counts.territories[rows],
            "sector_level": counts.sector_level,
            "sector": counts.sectors[cols],
            "establishments": _values(counts.establishments, rows, cols),
            "employment": _values(counts.employment, rows, cols),
            "employment_low": _values(counts.employment_low, rows, cols),
            "employment_high": _values(counts.employment_high, rows, cols),
            "sme_share": self.sme_share.data,
            "measure": self.measure,
        }
        for name in ("lq", "lq_low", "lq_high"):
            frame[name] = getattr(main, name).data
        frame["rca"] = main.rca.data
        frame["mcp"] = main.mcp.data
        for name in ("focus", "focus_low", "focus_high", "size", "size_low", "size_high"):
            frame[name] = getattr(main, name).data
        for name in ("lq", "focus", "size"):
            frame[f"{name}_{other.measure}"] = getattr(other, name).data
        nan = np.full(len(rows), np.nan)
        for name in _RATES:
            frame[name] = getattr(self.dynamics, name).data if self.dynamics else nan
        frame["survival_rate"] = self.survival.cells.data if self.survival else nan
        names = list(frame) if columns is None else list(columns)
        unknown = [name for name in names if name not in frame]
        if unknown:
            raise InputError(f"to_frame: unknown columns {unknown}; known: {', '.join(frame)}")
        # Copy each column (the frame must not alias the matrices) but skip pandas'
        # consolidation into 2-D blocks, which costs more than the copies on large inputs.
        kept: dict[str, object] = {}
        for name in names:
            value = frame[name]
            kept[name] = value.copy() if isinstance(value, np.ndarray) else value
        return pd.DataFrame(kept, copy=False)

    def territories_frame(self) -> pd.DataFrame:
        """One row per territory: totals, specialisation (Krugman, Hachman) and dynamism.

        Totals and dynamism are the territory's whole economy (``Counts.territory_totals()``),
        not the sum of its columns: they differ for sector groups.
        """
        counts = self.counts
        totals = counts.territory_totals()
        main, other = self.selected, self._other
        frame: dict[str, object] = {
            "territory_level": counts.territory_level,
            "territory_code": counts.territories,
            "establishments": np.array(totals.establishments, dtype=np.float64),
            "employment": np.array(totals.employment, dtype=np.float64),
            "employment_low": np.array(totals.employment_low, dtype=np.float64),
            "employment_high": np.array(totals.employment_high, dtype=np.float64),
            "sectors_present": np.diff(self.cells.indptr),
            "measure": self.measure,
        }
        for name in ("krugman", "hachman"):
            for suffix in ("", "_low", "_high"):
                frame[name + suffix] = getattr(main, name + suffix)
        for name in ("krugman", "hachman"):
            frame[f"{name}_{other.measure}"] = getattr(other, name)
        self._add_rates(frame, "territory_rates", len(counts.territories))
        frame["survival_rate"] = (
            self.survival.territories if self.survival else np.full(len(counts.territories), np.nan)
        )
        return pd.DataFrame(frame)

    def sectors_frame(self) -> pd.DataFrame:
        """One row per sector: totals and concentration (Herfindahl, Gini, Hoover, EG)."""
        counts = self.counts
        main, other = self.selected, self._other
        frame: dict[str, object] = {
            "sector_level": counts.sector_level,
            "sector": counts.sectors,
            "establishments": _sum(counts.establishments, 0),
            "employment": _sum(counts.employment, 0),
            "employment_low": _sum(counts.employment_low, 0),
            "employment_high": _sum(counts.employment_high, 0),
            "territories_present": np.bincount(self.cells.indices, minlength=len(counts.sectors)),
            "measure": self.measure,
        }
        for name in _SECTOR_INDICES:
            for suffix in ("", "_low", "_high"):
                frame[name + suffix] = getattr(main, name + suffix)
        frame["plant_herfindahl"] = main.plant_herfindahl
        for name in _SECTOR_INDICES:
            frame[f"{name}_{other.measure}"] = getattr(other, name)
        self._add_rates(frame, "sector_rates", len(counts.sectors))
        frame["survival_rate"] = (
            self.survival.sectors if self.survival else np.full(len(counts.sectors), np.nan)
        )
        return pd.DataFrame(frame)

    def frame(self, table: Table = "cells") -> pd.DataFrame:
        """The frame of one table: ``"cells"``, ``"territories"`` or ``"sectors"``."""
        if table == "cells":
            return self.to_frame()
        if table == "territories":
            return self.territories_frame()
        if table == "sectors":
            return self.sectors_frame()
        raise InputError(f"table={table!r} is not one of {', '.join(TABLES)}")

    def write(
        self, path: Path | str, format: OutputFormat | None = None, table: Table = "cells"
    ) -> Path:
        """Write one table to ``path`` (see :func:`write_frame` for the formats).

        Parameters
        ----------
        path : Path or str
            The output file.
        format : {"csv", "csv-excel", "xlsx", "parquet", "json"}, optional
            Defaults to the suffix of ``path``.
        table : {"cells", "territories", "sectors"}
            Which frame to write (:meth:`to_frame`, :meth:`territories_frame`,
            :meth:`sectors_frame`).

        Returns
        -------
        Path
            The written file.
        """
        path = Path(path)
        write_frame(self.frame(table), path, output_format(path, format))
        return path

    @property
    def _other(self) -> MeasureIndicators:
        return self.establishments if self.measure == "employment" else self.employment

    def _add_rates(self, frame: dict[str, object], attribute: str, length: int) -> None:
        for name in _RATES:
            if self.dynamics is None:
                frame[name] = np.full(length, np.nan)
            else:
                frame[name] = getattr(self.dynamics, attribute)[name]


_RATES = ("creation_rate", "closure_rate", "net_growth", "employment_growth")
_SECTOR_INDICES = ("herfindahl", "gini", "hoover", "eg_gamma")


def indicators(
    counts: Counts,
    measure: Measure = "employment",
    survival: CohortSurvival | None = None,
    reference: Reference | None = None,
) -> Indicators:
    """Compute every indicator of a territory x sector ``Counts``.

    Parameters
    ----------
    counts : Counts
        Establishments and employment by territory and sector (see
        :func:`grappe.detection.aggregate.aggregate`). Territory and national totals are
        read from ``counts.totals`` (the whole economy), or are the row sums without it.
    measure : {"employment", "establishments"}
        The measure of the unsuffixed outputs (:attr:`Indicators.lq`, ``lq`` column...).
        Both measures are always computed.
    survival : CohortSurvival, optional
        Cohort survival of the same levels (:func:`grappe.detection.aggregate.cohort_survival`),
        reported as ``survival_rate``.
    reference : Reference, optional
        Sector and whole-economy totals of another store
        (:func:`grappe.detection.reference.reference_totals`): the location quotients and
        sizes compare with it instead of the input's own totals (see
        :mod:`grappe.detection.reference`).

    Returns
    -------
    Indicators
        The result object; see :class:`MeasureIndicators` for the formulas and sources.

    Raises
    ------
    InputError
        ``measure`` is unknown; a matrix has a negative or non-finite value, or
        ``employment_low <= employment <= employment_high`` fails (the message names the
        cell); ``Counts.totals`` has such a value, or a territory total below one of its
        cells (the message names the territory); the input has no establishment; fewer
        than two territories have activity, or a single sector has all of it (every
        comparison is then undefined or trivial); ``measure`` is employment and the input
        has none.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from grappe.detection.counts import Counts
    >>> m = sp.csr_array(np.array([[3.0, 1.0], [1.0, 3.0]]))
    >>> c = Counts("ze", "division", np.array(["A", "B"]), np.array(["10", "20"]),
    ...            m, m, m, m, m, m * 0)
    >>> ind = indicators(c, measure="establishments")
    >>> ind.lq.toarray().round(2).tolist()
    [[1.5, 0.5], [0.5, 1.5]]
    """
    return _compute(counts, measure, survival, reference)


def _compute(counts: Counts, measure: str, survival: CohortSurvival | None = None,
             reference: Reference | None = None) -> Indicators:
    if measure not in MEASURES:
        raise InputError(f"measure={measure!r} is not one of {', '.join(MEASURES)}")
    _validate(counts)
    totals = counts.territory_totals()
    _validate_totals(counts, totals)
    cells = _pattern(counts)
    rows, cols = _coordinates(cells)
    n_t, n_s = len(counts.territories), len(counts.sectors)

    establishments = _values(counts.establishments, rows, cols)
    emp = _values(counts.employment, rows, cols)
    emp_low = _values(counts.employment_low, rows, cols)
    emp_high = _values(counts.employment_high, rows, cols)

    _check_comparable(counts, totals, cols, establishments)
    if measure == "employment" and not emp.any():
        raise InputError(
            "les données n'ont pas d'effectifs (table agrégée sans effectifs ?) : "
            "utilisez measure='establishments' (--measure establishments)"
        )

    geometry = _Cells(rows, cols, n_t, n_s, cells)
    emp_sq_sum = _sum(counts.employment_sq, 0)
    plant_h_emp = (
        _divide(emp_sq_sum, _bincount(cols, emp, n_s) ** 2)
        if counts.from_establishments
        else np.full(n_s, np.nan)
    )
    plant_h_est = _divide(np.ones(n_s), _bincount(cols, establishments, n_s))
    by_measure = {
        "employment": _measure_indicators(
            "employment",
            geometry,
            a=emp,
            a_low=emp_low,
            a_high=emp_high,
            row=_vector(totals.employment),
            row_low=_vector(totals.employment_low),
            row_high=_vector(totals.employment_high),
            plant_herfindahl=plant_h_emp,
            reference=reference.aligned(counts.sectors, "employment") if reference else None,
        ),
        "establishments": _measure_indicators(
            "establishments",
            geometry,
            a=establishments,
            a_low=establishments,
            a_high=establishments,
            row=_vector(totals.establishments),
            row_low=_vector(totals.establishments),
            row_high=_vector(totals.establishments),
            plant_herfindahl=plant_h_est,
            reference=reference.aligned(counts.sectors, "establishments") if reference else None,
        ),
    }
    sme = _values(counts.sme_establishments, rows, cols)
    return Indicators(
        counts=counts,
        measure=measure,
        employment=by_measure["employment"],
        establishments=by_measure["establishments"],
        cells=geometry.matrix(np.ones(len(rows))),
        sme_share=geometry.matrix(_divide(sme, establishments)),
        dynamics=_dynamics(counts, totals, geometry),
        survival=_survival(counts, geometry, survival) if survival is not None else None,
    )


def _pattern(counts: Counts) -> sp.csr_array:
    union = (
        abs(sp.csr_array(counts.establishments))
        + abs(sp.csr_array(counts.employment))
        + abs(sp.csr_array(counts.employment_high))
    )
    pattern = sp.csr_array(union, dtype=np.float64)
    pattern.eliminate_zeros()
    pattern.sum_duplicates()
    pattern.sort_indices()
    pattern.data[:] = 1.0
    return pattern

