"""Location quotients, specialisation, concentration and dynamism of territory x sector cells.

Every figure is computed once, vectorised on the sparse cells of a
:class:`~grappe.detection.counts.Counts`, for both measures (establishments and estimated
employment). Employment-based figures carry a range (``*_low``, ``*_high``) that follows
from the SIRENE size bands; the rule behind each range is stated where the figure is
defined (see :class:`MeasureIndicators`).

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

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from grappe.detection.counts import Counts, TotalFlows, Totals
from grappe.detection.segments import order_within
from grappe.errors import InputError
from grappe.kit import export

if TYPE_CHECKING:
    from grappe.detection.aggregate import CohortSurvival
    from grappe.detection.reference import Reference

Measure = Literal["employment", "establishments"]
MEASURES: tuple[Measure, ...] = ("employment", "establishments")
OutputFormat = Literal["csv", "csv-excel", "xlsx", "parquet", "json"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("csv", "csv-excel", "xlsx", "parquet", "json")
#: Formats named only with --format (their files end in .csv): never inferred from a suffix.
_NOT_SUFFIXES = ("csv-excel",)
#: What to do when an XLSX file would pass Excel's limit (the caller may name its own way).
XLSX_HINT = "écrivez un CSV (--format csv)"
Table = Literal["cells", "territories", "sectors"]
TABLES: tuple[Table, ...] = ("cells", "territories", "sectors")

FloatArray = np.ndarray
_F = TypeVar("_F", bound=str)


@dataclass(frozen=True)
class MeasureIndicators:
    """The indicators of one measure (establishments or employment), computed once.

    Cell attributes are ``scipy.sparse.csr_array`` of shape (territories, sectors) that
    share one sparsity pattern, :attr:`Indicators.cells`: every cell with establishments
    or employment. Values outside the pattern are not stored (the measure is zero there, so
    LQ, focus and size are 0). Explicit zeros inside the pattern are kept. ``NaN`` marks a
    figure that is undefined (a territory or a sector whose total is zero).

    Ranges. For employment the true cell values are unknown within the box
    ``employment_low <= x <= employment_high`` (cell by cell: each cell is a sum of
    establishments whose size bands are independent). ``*_low`` / ``*_high`` are:

    * cells (``lq``, ``focus``, ``size``): the exact range of the figure over the box
      (the infimum and supremum; attained whenever the totals involved are positive).
      ``focus = a / (a + r)`` rises with the cell ``a`` and falls with the rest of its row
      ``r``, so its bounds are reached at opposite corners; ``size`` likewise with the rest
      of the column. ``LQ = a (a + r + c + o) / ((a + r)(a + c))`` (``c`` the rest of the
      column, ``o`` every other cell) falls with ``r`` and ``c`` and rises with ``o``; in
      ``a`` it rises then falls (``dLQ/da`` has the sign of ``-o a^2 + 2 r c a + r c (o + r +
      c)``), so its minimum is at an end of ``[a_low, a_high]`` and its maximum at the
      positive root of that parabola clipped to ``[a_low, a_high]``. Here ``r = x_t. - a``
      is the rest of the territory's whole economy and ``o = x_.. - x_t. - c``: ``a``,
      ``r``, ``c`` and ``o`` sum disjoint sets of establishments (the cell's own, the
      territory's others whatever their activity, the sector's elsewhere, the rest), so
      they move independently within their bands and the territory total moves with the
      cell. Their bands come from ``Counts.totals`` (``employment_low`` / ``_high``).
    * territory and sector indices (``krugman``, ``hachman``, ``herfindahl``, ``gini``,
      ``hoover``, ``eg_gamma``): a sensitivity range, the minimum and maximum of the index
      evaluated on the ``employment_low``, ``employment`` and ``employment_high``
      matrices, i.e. "every establishment at the bottom (or the top) of its band". It is
      not a guaranteed bound: these indices are not monotone in the cells, and a sound
      enclosure by interval arithmetic on the shares is too wide to inform (typically
      most of the index's domain with SIRENE bands). ``eg_gamma`` keeps the central plant
      Herfindahl in the three evaluations.

    For establishments the counts are exact and ``*_low == *_high ==`` the value.

    Attributes
    ----------
    measure : {"employment", "establishments"}
        The measure these indicators are computed on.
    lq, lq_low, lq_high : csr_array
        Location quotient ``LQ_ts = (x_ts / x_t.) / (x_.s / x_..)`` (Florence 1939; Isard
        1960, *Methods of Regional Analysis*) and its range. It equals Balassa's (1965)
        revealed comparative advantage, see :attr:`rca`.
    mcp : csr_array
        Binary specialisation ``M_ts = 1 if RCA_ts >= 1 else 0`` (Hidalgo & Hausmann 2009;
        ``mcp`` in py-ecomplexity), as float64 (``NaN`` where RCA is undefined).
    focus, focus_low, focus_high : csr_array
        Focus, the sector's share of the territory: ``x_ts / x_t.`` (European Cluster
        Observatory, Ketels & Protsiv 2014).
    size, size_low, size_high : csr_array
        Size, the territory's share of the sector nationally: ``x_ts / x_.s``.
    krugman, krugman_low, krugman_high : ndarray, shape (territories,)
        Krugman (1991, *Geography and Trade*) dissimilarity index of each territory's sector
        mix from the national mix: ``K_t = sum_s |x_ts / x_t. - x_.s / x_..|``, in [0, 2).
        The sum runs over the columns: for sector groups it is the part of the index due to
        the groups (the rest of the economy is not split into sectors).
    hachman, hachman_low, hachman_high : ndarray, shape (territories,)
        Hachman index ``HI_t = 1 / sum_s LQ_ts (x_ts / x_t.)`` (Hachman 1995; Mack, Grubesic
        & Kessler 2007), in (0, 1] over a full NAF level: 1 when the territory mirrors the
        nation. Summed over the columns only, as Krugman: for groups covering part of the
        economy it may exceed 1, and it is undefined (``NaN``) in a territory with none of
        their activity.
    herfindahl, herfindahl_low, herfindahl_high : ndarray, shape (sectors,)
        Herfindahl index of the sector across territories: ``sum_t (x_ts / x_.s)^2``, in
        [1 / T, 1] with ``T`` the number of territories.
    gini, gini_low, gini_high : ndarray, shape (sectors,)
        Locational Gini (Krugman 1991; Audretsch & Feldman 1996): territories are sorted by
        ``LQ_ts`` ascending, the Lorenz curve joins the cumulative shares of total activity
        ``x_t. / x_..`` (abscissa) and of the sector ``x_ts / x_.s`` (ordinate), and the
        Gini is twice the area between the diagonal and that curve, in [0, 1).
    hoover, hoover_low, hoover_high : ndarray, shape (sectors,)
        Hoover (1936) coefficient of localisation
        ``0.5 * sum_t |x_ts / x_.s - x_t. / x_..|``, in [0, 1).
    eg_gamma, eg_gamma_low, eg_gamma_high : ndarray, shape (sectors,)
        Ellison & Glaeser (1997, *JPE* 105(5)) agglomeration index
        ``gamma = (G - (1 - sum_t w_t^2) H) / ((1 - sum_t w_t^2)(1 - H))`` with
        ``G = sum_t (x_ts / x_.s - w_t)^2``, ``w_t = x_t. / x_..`` and the plant Herfindahl
        ``H`` below. ``NaN`` where ``H`` is unknown or equals 1 (a single plant). The
        weights ``w_t`` of the Lorenz curve (Gini), of Hoover and of EG are the whole
        economy's shares.
    plant_herfindahl : ndarray, shape (sectors,)
        The plant Herfindahl ``H = sum_plants (e_j / x_.s)^2``. For employment it is read from
        ``Counts.employment_sq`` (central band values); it is unknown (``NaN``) for
        aggregated inputs (``Counts.from_establishments`` false), which makes ``eg_gamma``
        ``NaN`` there. For establishments every plant weighs 1, so ``H = 1 / x_.s``: the
        index then measures the clustering of plant locations and is defined for aggregated
        inputs too.
    """

    measure: Measure
    lq: sp.csr_array
    lq_low: sp.csr_array
    lq_high: sp.csr_array
    mcp: sp.csr_array
    focus: sp.csr_array
    focus_low: sp.csr_array
    focus_high: sp.csr_array
    size: sp.csr_array
    size_low: sp.csr_array
    size_high: sp.csr_array
    krugman: FloatArray
    krugman_low: FloatArray
    krugman_high: FloatArray
    hachman: FloatArray
    hachman_low: FloatArray
    hachman_high: FloatArray
    herfindahl: FloatArray
    herfindahl_low: FloatArray
    herfindahl_high: FloatArray
    gini: FloatArray
    gini_low: FloatArray
    gini_high: FloatArray
    hoover: FloatArray
    hoover_low: FloatArray
    hoover_high: FloatArray
    eg_gamma: FloatArray
    eg_gamma_low: FloatArray
    eg_gamma_high: FloatArray
    plant_herfindahl: FloatArray

    @property
    def rca(self) -> sp.csr_array:
        """Balassa's (1965) revealed comparative advantage, py-ecomplexity's ``rca``.

        ``RCA_ts = (x_ts / x_t.) / (x_.s / x_..)``: the same formula as :attr:`lq`, kept as a
        named output for users of the economic-complexity literature.
        """
        return self.lq


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


def output_format(path: Path | None, format: str | None) -> OutputFormat:
    """The output format: ``format`` when given, else the suffix of ``path`` (else CSV).

    Raises
    ------
    InputError
        The format (or the suffix) is not one of :data:`OUTPUT_FORMATS`.
    """
    return file_format(path, format, OUTPUT_FORMATS)


def file_format(path: Path | None, format: str | None, known: tuple[_F, ...]) -> _F:
    """``format`` when given, else the suffix of ``path`` (else CSV), among ``known``."""
    if format is None:
        suffix = path.suffix.lower().lstrip(".") if path is not None else ""
        if not suffix:
            suffix = "csv"
        if suffix in _NOT_SUFFIXES or suffix not in known:
            raise InputError(
                f"{path}: cannot infer the output format from suffix {suffix!r}; "
                f"use one of {', '.join(known)}"
            )
        format = suffix
    for name in known:
        if format == name:
            return name
    raise InputError(f"format={format!r} is not one of {', '.join(known)}")


def write_frame(
    frame: pd.DataFrame,
    target: Path | IO[str],
    format: OutputFormat,
    *,
    xlsx_hint: str = XLSX_HINT,
) -> None:
    """Write a frame as CSV, French Excel CSV, XLSX, Parquet or JSON records.

    CSV (``csv``) is the dialect for programs of :mod:`grappe.kit.export` (``,``, UTF-8,
    English column names, full precision, ``true``/``false``); ``csv-excel`` its French
    Excel variant (``;``, decimal comma, BOM, French headers, ``oui``/``non``); ``xlsx`` a
    sheet with the French headers of :mod:`grappe.detection.labels`, their number formats
    and a frozen header row. Text cells are safe against formula injection; JSON writes
    ``NaN`` as ``null``. ``target`` is a path, or for CSV and JSON an open text stream (e.g.
    ``sys.stdout``). CSV and JSON files are written by DuckDB (:mod:`grappe.kit.export`).

    Raises
    ------
    InputError
        Parquet or XLSX without a file; an XLSX sheet would pass Excel's 1,048,576 rows (the
        message says what to do: ``xlsx_hint``).
    """
    from grappe.detection import labels

    if format in ("parquet", "xlsx"):
        if not isinstance(target, Path):
            raise InputError(f"--format {format} : indiquez un fichier avec --out")
        _write_file(frame, target, format, xlsx_hint)
        return
    if format == "csv":
        export.write_csv(target, frame, dialect=export.PROGRAMS)
        return
    if format == "csv-excel":
        export.write_csv(target, frame, labels=labels.labels(frame.columns),
                         dialect=export.EXCEL_FR)
        return
    if format == "json":
        export.write_json(target, frame)
        return
    raise InputError(f"format={format!r} is not one of {', '.join(OUTPUT_FORMATS)}")


def _write_file(frame: pd.DataFrame, target: Path, format: str, xlsx_hint: str) -> None:
    """The formats that need a file: Parquet and XLSX."""
    from grappe.detection import labels

    if format == "parquet":
        frame.to_parquet(target, index=False)
        return
    if len(frame) >= export.XLSX_MAX_ROWS:
        rows, limit = (f"{n:,}".replace(",", " ") for n in (len(frame), export.XLSX_MAX_ROWS - 1))
        raise InputError(f"{rows} lignes : une feuille XLSX en contient au plus {limit} sous "
                         f"l'en-tête ; {xlsx_hint}")
    export.write_xlsx(target, frame, labels=labels.labels(frame.columns),
                      number_formats=labels.number_formats(frame.columns))


def json_default(value: object) -> object:
    """JSON for NumPy scalars: integers and booleans as such, NaN as null."""
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, np.floating):
        number = float(value)
        return None if math.isnan(number) else number
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# --------------------------------------------------------------------------------------------
# implementation


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
            "the input has no employment (aggregated table without headcounts?): "
            "use measure='establishments'"
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


@dataclass(frozen=True)
class _Cells:
    """Coordinates of the pattern cells, to build matrices and sums on it."""

    rows: np.ndarray
    cols: np.ndarray
    n_t: int
    n_s: int
    pattern: sp.csr_array

    def matrix(self, values: FloatArray) -> sp.csr_array:
        # Built from the pattern's own index arrays so that explicit zeros (a present cell
        # with zero employment) and NaN stay stored, aligned with to_frame().
        return sp.csr_array(
            (np.asarray(values, dtype=np.float64), self.pattern.indices, self.pattern.indptr),
            shape=(self.n_t, self.n_s),
        )

    def row_sum(self, values: FloatArray) -> FloatArray:
        return _bincount(self.rows, values, self.n_t)

    def col_sum(self, values: FloatArray) -> FloatArray:
        return _bincount(self.cols, values, self.n_s)


def _measure_indicators(
    measure: Measure,
    cells: _Cells,
    *,
    a: FloatArray,
    a_low: FloatArray,
    a_high: FloatArray,
    row: FloatArray,
    row_low: FloatArray,
    row_high: FloatArray,
    plant_herfindahl: FloatArray,
    reference: tuple[FloatArray, float] | None = None,
) -> MeasureIndicators:
    """The indicators of one measure: cell values ``a`` (and their band), territory totals
    ``row`` over the whole economy (and their band); LQ and size against the sector totals
    and whole total of ``reference`` when given."""
    rows, cols = cells.rows, cells.cols
    col, total = reference if reference is not None else (cells.col_sum(a), row.sum())
    lq = _divide(a * total, row[rows] * col[cols])
    focus = _divide(a, row[rows])
    size = _divide(a, col[cols])
    central = _aggregates(cells, a, row, plant_herfindahl)

    if measure == "establishments":
        lq_range, focus_range, size_range = (lq, lq), (focus, focus), (size, size)
        ranges = {name: (value, value) for name, value in central.items()}
    else:
        cell_ranges = _cell_ranges(cells, a_low, a_high, row_low, row_high)
        if reference is not None:
            # The reference's totals are fixed: LQ is the focus over the reference's share.
            (f_low, f_high), share = cell_ranges[1], _divide(col[cols], np.full(len(cols), total))
            cell_ranges = ((_divide(f_low, share), _divide(f_high, share)), cell_ranges[1],
                           (_divide(a_low, col[cols]), _divide(a_high, col[cols])))
        # The exact ranges contain the central value in exact arithmetic; the guard only
        # absorbs rounding differences between the two formulas.
        lq_range = _around(lq, *cell_ranges[0])
        focus_range = _around(focus, *cell_ranges[1])
        size_range = _around(size, *cell_ranges[2])
        at_low = _aggregates(cells, a_low, row_low, plant_herfindahl)
        at_high = _aggregates(cells, a_high, row_high, plant_herfindahl)
        ranges = {
            name: _scenario(value, at_low[name], at_high[name]) for name, value in central.items()
        }

    with np.errstate(invalid="ignore"):
        mcp = np.where(np.isnan(lq), np.nan, (lq >= 1.0).astype(np.float64))
    fields: dict[str, object] = {"measure": measure, "mcp": cells.matrix(mcp)}
    for name, value, (low, high) in (
        ("lq", lq, lq_range),
        ("focus", focus, focus_range),
        ("size", size, size_range),
    ):
        fields[name] = cells.matrix(value)
        fields[f"{name}_low"] = cells.matrix(low)
        fields[f"{name}_high"] = cells.matrix(high)
    for name, value in central.items():
        fields[name] = value
        fields[f"{name}_low"], fields[f"{name}_high"] = ranges[name]
    fields["plant_herfindahl"] = plant_herfindahl
    return MeasureIndicators(**fields)  # type: ignore[arg-type]


def _aggregates(
    cells: _Cells, a: FloatArray, row: FloatArray, plant_herfindahl: FloatArray
) -> dict[str, FloatArray]:
    """Territory and sector indices from the cell values ``a`` and territory totals ``row``."""
    rows, cols = cells.rows, cells.cols
    col = cells.col_sum(a)
    total = row.sum()
    lq = _divide(a * total, row[rows] * col[cols])
    focus = _divide(a, row[rows])
    size = _divide(a, col[cols])
    weight = _divide(row, np.full(cells.n_t, total))
    share = _divide(col, np.full(cells.n_s, total))
    krugman, hachman = _specialisation(cells, focus, share, lq, row)
    herfindahl, hoover = _concentration(cells, size, weight, col)
    return {
        "krugman": krugman,
        "hachman": hachman,
        "herfindahl": herfindahl,
        "gini": _gini(cells, a, row),
        "hoover": hoover,
        "eg_gamma": _eg_gamma(cells, size, weight, plant_herfindahl),
    }


def _specialisation(
    cells: _Cells, focus: FloatArray, share: FloatArray, lq: FloatArray, row: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Krugman and Hachman indices of every territory (sparse sums over present cells)."""
    cols = cells.cols
    # sum over all sectors of |f - p| = sum_s p_s + sum over present cells of (|f - p| - p),
    # because f = 0 outside the pattern.
    dissimilarity = np.abs(focus - share[cols]) - share[cols]
    krugman = np.nansum(share) + cells.row_sum(dissimilarity)
    # a present cell with a zero value adds 0, even when its sector total is 0 (LQ 0/0)
    hachman = _divide(np.ones(cells.n_t), cells.row_sum(np.where(focus > 0, lq * focus, 0.0)))
    undefined = ~(row > 0)
    krugman[undefined] = np.nan
    hachman[undefined] = np.nan
    return krugman, hachman


def _concentration(
    cells: _Cells, size: FloatArray, weight: FloatArray, col: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Herfindahl and Hoover indices of every sector."""
    rows = cells.rows
    herfindahl = cells.col_sum(size**2)
    gap = np.abs(size - weight[rows]) - weight[rows]
    hoover = 0.5 * (np.nansum(weight) + cells.col_sum(gap))
    undefined = ~(col > 0)
    herfindahl[undefined] = np.nan
    hoover[undefined] = np.nan
    return herfindahl, hoover


def _gini(cells: _Cells, a: FloatArray, row: FloatArray) -> FloatArray:
    """Locational Gini of every sector, sorting only the present cells.

    Territories absent from the sector have LQ 0: they come first on the Lorenz curve and
    add abscissa without ordinate, so they contribute nothing to the trapezoid sum
    ``sum_k dX_k (Y_k + Y_{k-1})`` and need not be listed.
    """
    gini = np.full(cells.n_s, np.nan)
    col = cells.col_sum(a)
    total = float(row.sum())
    if total <= 0:
        return gini
    lq = _divide(a * total, row[cells.rows] * col[cells.cols])
    # Cells of a territory with zero total have an undefined LQ but also zero weight and
    # zero sector share (a = 0): sorting them anywhere leaves the area unchanged.
    order = order_within(cells.cols, np.where(np.isnan(lq), 0.0, lq))
    cols = cells.cols[order]
    dx = row[cells.rows[order]] / total
    # A sector with a zero total has no Lorenz curve (its Gini stays NaN); its cells get
    # dy = 0 so that the running sum shared by all sectors stays finite for the next ones.
    dy = _divide(a[order], col[cols])
    dy[np.isnan(dy)] = 0.0
    cum_y = np.cumsum(dy)
    starts = np.searchsorted(cols, np.arange(cells.n_s))
    base = np.concatenate([[0.0], cum_y])[starts]
    y = cum_y - base[cols]
    area = _bincount(cols, dx * (2.0 * y - dy), cells.n_s)
    defined = col > 0
    gini[defined] = 1.0 - area[defined]
    return np.clip(gini, 0.0, 1.0)


def _eg_gamma(
    cells: _Cells, size: FloatArray, weight: FloatArray, plant_herfindahl: FloatArray
) -> FloatArray:
    """Ellison-Glaeser gamma of every sector."""
    rows = cells.rows
    sum_w2 = float(np.nansum(weight**2))
    # G = sum_t (s_t - w_t)^2 = sum_t w_t^2 + sum over present cells of (s^2 - 2 s w)
    g = sum_w2 + cells.col_sum(size**2 - 2.0 * size * weight[rows])
    h = plant_herfindahl
    denominator = (1.0 - sum_w2) * (1.0 - h)
    with np.errstate(invalid="ignore", divide="ignore"):
        gamma = (g - (1.0 - sum_w2) * h) / denominator
    undefined = ~(denominator > 1e-15) | np.isnan(g)
    gamma[undefined] = np.nan
    return gamma


def _cell_ranges(
    cells: _Cells,
    a_low: FloatArray,
    a_high: FloatArray,
    row_low: FloatArray,
    row_high: FloatArray,
) -> tuple[tuple[FloatArray, FloatArray], ...]:
    """Exact ranges of LQ, focus and size over the box ``[employment_low, employment_high]``.

    ``row_low`` / ``row_high`` are the territories' whole-economy totals at both ends of the
    box; each includes the cell's own bound, so the rest of the territory is their
    difference with the cell.
    """
    rows, cols = cells.rows, cells.cols
    col_low, col_high = cells.col_sum(a_low), cells.col_sum(a_high)
    total_low, total_high = row_low.sum(), row_high.sum()
    # rest of the territory, of the column, and every other establishment, at both ends of
    # the box (clipped at 0 against rounding: each is a sum of non-negative bands)
    r_low = np.maximum(row_low[rows] - a_low, 0.0)
    r_high = np.maximum(row_high[rows] - a_high, 0.0)
    c_low = np.maximum(col_low[cols] - a_low, 0.0)
    c_high = np.maximum(col_high[cols] - a_high, 0.0)
    o_low = np.maximum(total_low - row_low[rows] - col_low[cols] + a_low, 0.0)
    o_high = np.maximum(total_high - row_high[rows] - col_high[cols] + a_high, 0.0)

    lq_low = np.fmin(
        _lq_limit(a_low, r_high, c_high, o_low), _lq_limit(a_high, r_high, c_high, o_low)
    )
    lq_high = _lq_limit(_lq_argmax(a_low, a_high, r_low, c_low, o_high), r_low, c_low, o_high)
    focus = _share_range(a_low, a_high, r_low, r_high)
    size = _share_range(a_low, a_high, c_low, c_high)
    # no point of the box has a positive territory (or sector) total: nothing is defined
    undefined = (row_high[rows] <= 0) | (col_high[cols] <= 0)
    for values in (lq_low, lq_high, *focus, *size):
        values[undefined] = np.nan
    return (lq_low, lq_high), focus, size


def _scenario(
    central: FloatArray, at_low: FloatArray, at_high: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Min and max over the three scenarios (NaN scenarios ignored)."""
    stacked = np.vstack([central, at_low, at_high])
    defined = ~np.isnan(stacked).all(axis=0)
    low = np.full(central.shape, np.nan)
    high = np.full(central.shape, np.nan)
    low[defined] = np.nanmin(stacked[:, defined], axis=0)
    high[defined] = np.nanmax(stacked[:, defined], axis=0)
    return low, high


def _around(
    central: FloatArray, low: FloatArray, high: FloatArray
) -> tuple[FloatArray, FloatArray]:
    return np.fmin(low, central), np.fmax(high, central)


def _lq_limit(a: FloatArray, r: FloatArray, c: FloatArray, o: FloatArray) -> FloatArray:
    """``LQ = a (a + r + c + o) / ((a + r)(a + c))``, by its limit ``a -> 0+`` where 0/0.

    The limit is the supremum or infimum of LQ near ``a = 0`` inside the box, so using it
    keeps the bounds sound.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        value = a * (a + r + c + o) / ((a + r) * (a + c))
        zero_r = (a == 0) & (r == 0) & (c > 0)
        zero_c = (a == 0) & (c == 0) & (r > 0)
        value = np.where(zero_r, (c + o) / c, value)
        value = np.where(zero_c, (r + o) / r, value)
        both = (a == 0) & (r == 0) & (c == 0)
        return np.where(both & (o > 0), np.inf, value)


def _lq_argmax(
    a_low: FloatArray, a_high: FloatArray, r: FloatArray, c: FloatArray, o: FloatArray
) -> FloatArray:
    """The cell value in ``[a_low, a_high]`` where LQ (fixed r, c, o) is largest."""
    rc = r * c
    with np.errstate(divide="ignore", invalid="ignore"):
        root = (rc + np.sqrt(rc * rc + o * rc * (o + r + c))) / o
    # With o = 0, LQ never decreases in a.
    root = np.where(o > 0, root, np.inf)
    return np.clip(root, a_low, a_high)


def _share_range(
    part_low: FloatArray, part_high: FloatArray, rest_low: FloatArray, rest_high: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Exact range of ``part / (part + rest)`` over the box (rises with part, falls with rest)."""
    rest_low = np.maximum(rest_low, 0.0)
    rest_high = np.maximum(rest_high, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = part_low / (part_low + rest_high)
        high = part_high / (part_high + rest_low)
    # 0/0 at a corner: at the low corner the rest is always 0, so the share is 1 wherever
    # defined; at the high corner the part is always 0, so the share is 0.
    low = np.where((part_low + rest_high) == 0, 1.0, low)
    high = np.where((part_high + rest_low) == 0, 0.0, high)
    undefined = (part_high + rest_high) <= 0
    low[undefined] = np.nan
    high[undefined] = np.nan
    return low, high


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


# --------------------------------------------------------------------------------------------
# validation and small helpers


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
            f"no establishment in the {len(counts.territories)} territories x "
            f"{len(counts.sectors)} sectors of the input: every indicator is undefined"
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


def _vector(values: FloatArray) -> FloatArray:
    return np.asarray(values, dtype=np.float64).ravel()


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
            "location quotients, specialisation and concentration compare territories: "
            f"need at least 2 territories with establishments, got {len(territories)} "
            f"({', '.join(map(str, counts.territories[territories]))} at level "
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
            "location quotients compare a sector with the whole economy: need at least 2 "
            f"sectors with establishments, got {len(sectors)} "
            f"({', '.join(map(str, counts.sectors[sectors]))} at level {counts.sector_level!r}),"
            " or activity outside them"
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


def _coordinates(pattern: sp.csr_array) -> tuple[np.ndarray, np.ndarray]:
    rows = np.repeat(np.arange(pattern.shape[0]), np.diff(pattern.indptr))
    return rows, pattern.indices.astype(np.int64)


def _values(matrix: sp.sparray, rows: np.ndarray, cols: np.ndarray) -> FloatArray:
    """Values of a sparse matrix at the given cells (zeros where not stored)."""
    if len(rows) == 0:
        return np.zeros(0)
    csr = sp.csr_array(matrix, dtype=np.float64)
    return np.asarray(csr[rows, cols], dtype=np.float64).ravel()


def _sum(matrix: sp.sparray, axis: int) -> FloatArray:
    return np.asarray(sp.csr_array(matrix, dtype=np.float64).sum(axis=axis)).ravel()


def _bincount(index: np.ndarray, weights: FloatArray, length: int) -> FloatArray:
    return np.bincount(index, weights=weights, minlength=length).astype(np.float64)


def _divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """Element-wise ratio, NaN where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out
