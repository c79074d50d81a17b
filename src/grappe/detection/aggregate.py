"""Aggregate the fabric store to territory x sector Counts, on DuckDB or Spark with one code."""

from __future__ import annotations

import datetime as dt
import functools
import operator
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal, Protocol, runtime_checkable

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp

from grappe.detection.counts import (
    SECTOR_LEVELS,
    TERRITORY_LEVELS,
    Counts,
    Dynamics,
    EstablishmentCounts,
    TotalFlows,
    Totals,
)
from grappe.detection.kernels import cell_numbers, cell_sums
from grappe.detection.sector_groups import CLUSTER_LEVEL, SectorGroup, cluster_groups
from grappe.detection.sector_groups import load as load_sector_groups
from grappe.detection.segments import positions
from grappe.errors import FileFormatError, InputError
from grappe.progress import SILENT, Reporter
from grappe.storage.analytics import Analytics, connect

__all__ = [
    "CohortSurvival",
    "FabricSource",
    "active_at",
    "aggregate",
    "aggregate_levels",
    "cohort_survival",
]

Source = Literal["auto", "establishments", "aggregates"]
SectorSpec = str | Path | Sequence[SectorGroup]

# How a stored territory level rolls up to a requested one (besides identity).
_ROLL_UPS = {
    ("commune", "epci"),
    ("commune", "ze"),
    ("commune", "departement"),
    ("commune", "region"),
    ("departement", "region"),
}
# Employment is summed in integer hundredths: exact, so DuckDB and Spark give the same bits
# whatever the order of their additions (DOUBLE sums depend on it). Band values are
# half-units and their squares quarter-units, so hundredths lose nothing.
_HUNDREDTHS = 100
# Sector id of the NAF codes that no sector group lists: they have no column but belong to
# the territory's whole economy (see _sector_map).
_OUTSIDE = -1
_ESTABLISHMENT_MARK = "siret"
_AGGREGATE_MARK = "territory_level"

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
# A weighting by size band: the band id of each engine row and the integer weight of each id.
Weight = tuple[npt.NDArray[np.integer], IntArray] | None
_NO_BANDS = (np.zeros(0, dtype=np.int16), np.zeros(0, dtype=np.int64))


@runtime_checkable
class FabricSource(Protocol):
    """What the aggregation reads from a fabric store (``grappe.fabric.store.FabricStore``)."""

    def establishment_files(self) -> list[Path]:
        """Parquet files of establishment rows."""
        ...

    def aggregate_files(self) -> list[Path]:
        """Parquet files of aggregated counts (URSSAF, generic tables)."""
        ...


StoreOrFiles = FabricSource | Path | str | Sequence[Path | str]


@dataclass(frozen=True)
class CohortSurvival:
    """Survival of the establishments created in one year, by territory x sector cell.

    Attributes
    ----------
    territory_level, sector_level : str
        Levels of rows and columns.
    cohort_year, horizon_years : int
        Establishments created in ``cohort_year``, observed ``horizon_years`` after their
        own creation date.
    territories, sectors : numpy.ndarray of str
        Sorted codes of rows and columns (cells with at least one creation).
    created : csr_array
        Establishments of the cohort, in the cell of their first active period.
    surviving : csr_array
        Those still active ``horizon_years`` after their creation date.
    """

    territory_level: str
    sector_level: str
    cohort_year: int
    horizon_years: int
    territories: np.ndarray
    sectors: np.ndarray
    created: sp.csr_array
    surviving: sp.csr_array

    @property
    def rate(self) -> sp.csr_array:
        """Survival share on the cells of ``created`` (an explicit 0 means none survived)."""
        created = self.created.tocoo()
        surviving = self.surviving.tocsr()
        alive = np.asarray(surviving[created.row, created.col]).ravel()
        return sp.csr_array((alive / created.data, (created.row, created.col)), shape=created.shape)

    @property
    def overall_rate(self) -> float:
        """Survival share of the whole cohort (all cells)."""
        return float(self.surviving.sum() / self.created.sum())


# ---------------------------------------------------------------------------------------------
# Public verbs
# ---------------------------------------------------------------------------------------------


def active_at(table: ir.Table, when: dt.date | ir.DateValue) -> ir.BooleanValue:
    """The predicate "establishment row open at date ``when``" as an Ibis expression.

    The same rule as :func:`grappe.fabric.query.open_at` (the fabric store's definition),
    which also accepts a date column, e.g. each row's own anniversary:

    - a stock row (``valid_from`` and ``valid_to`` NULL: the establishment's whole life) is
      open when created on or before ``when`` (or with no creation date) and either still
      active at the snapshot or closed after ``when``; a closed row with no closing date
      is never open;
    - a period row (SIRENE history) is open when its state is active and its period covers
      ``when``: ``valid_from <= when <= valid_to`` (SIRENE period ends are inclusive; NULL
      ``valid_to`` is open-ended).

    Parameters
    ----------
    table : ibis.Table
        Establishment rows of the fabric store schema.
    when : datetime.date or ibis date expression
        The date, or a date column.
    """
    day = ibis.literal(when, type="date") if isinstance(when, dt.date) else when
    stock = table.valid_from.isnull() & table.valid_to.isnull()
    closed_after = table.closed.notnull() & (table.closed > day)
    stock_open = (table.created.isnull() | (table.created <= day)) & (
        (table.active.fill_null(False) & table.closed.isnull()) | closed_after
    )
    period_open = (
        table.active.fill_null(False)
        & (table.valid_from <= day)
        & (table.valid_to.isnull() | (table.valid_to >= day))
    )
    return ibis.ifelse(stock, stock_open, period_open.fill_null(False))


def aggregate(
    store_or_files: StoreOrFiles,
    territory_level: str,
    sector_level: SectorSpec,
    at: dt.date | None = None,
    engine: str | Analytics | None = None,
    reporter: Reporter = SILENT,
    window: tuple[dt.date, dt.date] | None = None,
    source: Source = "auto",
    year: int | None = None,
    dynamics: bool = True,
) -> Counts:
    """Count the fabric by territory x sector, with estimated employment and dynamics.

    Parameters
    ----------
    store_or_files : FabricStore, Path or sequence of Path
        A fabric store (or its directory), or Parquet files of the store schemas
        (establishment rows or aggregated counts, told apart by their columns).
    territory_level : {"commune", "epci", "ze", "departement", "region"}
        Rows of the result. Communes roll up through ``territories.commune_levels()``;
        ``ze``: the packaged zones d'emploi 2020, or a vintage imported with
        ``grappe refdata import-ze``.
    sector_level : {"section", "division", "groupe", "classe", "sous-classe", "clusters"},
        sector-group file (Path) or list of SectorGroup
        Columns of the result. Sector groups may overlap: an establishment counts in every
        group that lists its code (at any NAF level). ``clusters``: the cluster categories
        of ``grappe.refdata.clusters`` (traded sous-classes only).
    at : datetime.date, optional
        Snapshot date for establishment rows (default: the latest creation or period start
        in the data, i.e. the date of the snapshot). For aggregated tables it picks the year
        when ``year`` is not given.
    engine : {"duckdb", "spark"} or Analytics, optional
        Default ``Settings.engine``. An open :class:`~grappe.storage.analytics.Analytics` is
        used as is and left open.
    reporter : Reporter
        Progress of the engine steps.
    window : (start, end) dates, optional
        Dynamics window (default: one year ending at ``at``). Creations and closures count
        when their date is in ``(start, end]``.
    source : {"auto", "establishments", "aggregates"}
        ``auto`` takes establishment rows when the store has any, else aggregated tables.
    year : int, optional
        Year of aggregated tables (default: the year of ``at``, else the latest). For
        establishment rows, ``year`` alone means ``at`` = 31 December of that year.
    dynamics : bool
        Fill ``Counts.dynamics`` (default). False skips the flows: about half the engine
        work at fine levels (commune x sous-classe), for callers that need stocks only.

    Returns
    -------
    Counts
        With ``dynamics`` filled (unless ``dynamics=False``) and ``totals`` always filled.
        Rows are the territories with at least one establishment at the snapshot, whatever
        its activity (with sector groups, a territory with none of their activity has an
        empty row); columns are the sectors or groups with at least one establishment.
        Dynamics are reported on the same cells.

    Notes
    -----
    Employment of an establishment is read from its SIRENE size band (central value, and
    the band's bounds for ``employment_low`` / ``employment_high``; see
    ``grappe.refdata.sizes``). Establishments with no size band (NULL or ``NN``: no
    employee information) count as establishments with zero employment, and as SMEs.
    ``sme_establishments`` counts bands whose firm category by headcount is TPE or PME
    (fewer than 250 staff); ``employer_establishments`` counts bands of at least one
    employee (every band but ``NN`` and ``00``). Establishments whose commune has no
    territory at the requested level (e.g. a commune outside every EPCI) are left out of
    the rows. Each stored row counts: a store holding two snapshots of the same
    establishments counts them twice.

    ``Counts.totals`` holds each territory's whole economy, counted in the same join and
    group-by as the cells: every establishment whose NAF code the level can place, once,
    whatever the number of groups that list it (none included). For a NAF level it equals
    the row sums. Its flows (``totals.flows``) may exceed the row sums of the flow
    matrices: a sector with creations or closures but no establishment at the snapshot
    has no column, yet its flows are the territory's.

    A creation of a history establishment (SIRENE periods) counts in the cell of its first
    active period, a closure in the cell of its last one. Sums are exact (integers, and
    DECIMAL employment), so DuckDB and Spark return identical matrices.

    From aggregated tables (``from_establishments`` is False): employment is the stored
    headcount (low = central = high; zero when the table has none); SME counts and the
    plant Herfindahl term ``employment_sq`` are unknown and left at zero; dynamics compare
    two years (stocks and employment), and creations/closures, unknown, are zero.

    Raises
    ------
    InputError
        Unknown level, zones d'emploi not imported, a sector level finer than the stored
        NAF codes, a territory level that the stored one cannot roll up to, an empty store.
    """
    counts = aggregate_levels(
        store_or_files,
        (territory_level,),
        sector_level,
        at=at,
        engine=engine,
        reporter=reporter,
        window=window,
        source=source,
        year=year,
        dynamics=dynamics,
    )[territory_level]
    assert isinstance(counts, Counts)
    return counts


def aggregate_levels(
    store_or_files: StoreOrFiles,
    territory_levels: Sequence[str],
    sector_level: SectorSpec,
    at: dt.date | None = None,
    engine: str | Analytics | None = None,
    reporter: Reporter = SILENT,
    window: tuple[dt.date, dt.date] | None = None,
    source: Source = "auto",
    year: int | None = None,
    dynamics: bool = True,
    establishments_only: Sequence[str] = (),
) -> dict[str, Counts | EstablishmentCounts]:
    """:func:`aggregate` at several territory levels, establishment rows counted once.

    With establishment rows and more than one level, the engine counts by commune and the
    other levels are sums of those counts (every engine row, flows of communes without stock
    at the snapshot included, goes to its commune's territory): the same matrices as one
    :func:`aggregate` per level, for one pass over the store. Aggregated tables are counted
    level by level. The arguments are those of :func:`aggregate`, and:

    establishments_only : sequence of str
        Levels (among ``territory_levels``) for which only the active establishments are
        needed: they come as :class:`EstablishmentCounts` (the support of a test).

    Returns
    -------
    dict
        The :class:`Counts` (or :class:`EstablishmentCounts`) of each level, keyed by level.
    """
    levels = tuple(dict.fromkeys(territory_levels))
    if not levels:
        raise InputError("aggregate_levels: give at least one territory level")
    for level in levels:
        _check_territory_level(level)
    light = frozenset(establishments_only)
    if not light <= set(levels):
        raise InputError(
            f"aggregate_levels: establishments_only {sorted(light - set(levels))} not among "
            f"the levels {list(levels)}"
        )
    sector_name, sector_groups = _sector_spec(sector_level)
    establishment_files, aggregate_files = _resolve_files(store_or_files)
    kind = _pick_source(source, establishment_files, aggregate_files, store_or_files)
    with _analytics(engine) as analytics:
        if kind == "establishments":
            return _aggregate_establishments(
                analytics,
                establishment_files,
                levels,
                sector_name,
                sector_groups,
                at if at is not None or year is None else dt.date(year, 12, 31),
                window,
                reporter,
                with_dynamics=dynamics,
                establishments_only=light,
            )
        tables = {
            level: _aggregate_tables(
                analytics,
                aggregate_files,
                level,
                sector_name,
                sector_groups,
                year if year is not None else (at.year if at is not None else None),
                window,
                reporter,
                with_dynamics=dynamics,
            )
            for level in levels
        }
        return {
            level: EstablishmentCounts.of(counts) if level in light else counts
            for level, counts in tables.items()
        }


def cohort_survival(
    store: StoreOrFiles,
    territory_level: str,
    sector_level: SectorSpec,
    cohort_year: int,
    horizon_years: int,
    engine: str | Analytics | None = None,
    reporter: Reporter = SILENT,
) -> CohortSurvival:
    """Share of the establishments created in ``cohort_year`` still active N years later.

    Each establishment is observed at its own anniversary (creation date + ``horizon_years``;
    29 February rolls to 28 February) and counted in the cell of its first active period.

    Parameters
    ----------
    store : FabricStore, Path or sequence of Path
        Establishment rows (aggregated tables carry no creations).
    territory_level, sector_level
        As in :func:`aggregate`.
    cohort_year : int
        Creation year of the cohort.
    horizon_years : int
        Years after creation (>= 1).
    engine, reporter
        As in :func:`aggregate`.

    Raises
    ------
    InputError
        The data end before the last anniversary of the cohort, the cohort is empty, or
        the store holds no establishment rows.
    """
    _check_territory_level(territory_level)
    if horizon_years < 1:
        raise InputError(f"horizon_years={horizon_years}: expected a number of years >= 1")
    sector_name, sector_groups = _sector_spec(sector_level)
    establishment_files, _ = _resolve_files(store)
    if not establishment_files:
        raise InputError("cohort survival needs establishment rows (SIRENE); the store has none")
    with _analytics(engine) as analytics:
        rows = analytics.read_parquet(establishment_files, "establishments")
        last = _snapshot_date(analytics, rows)
        needed = dt.date(cohort_year + horizon_years, 12, 31)
        if last < needed:
            raise InputError(
                f"the fabric ends on {last.isoformat()}; the survival of the {cohort_year} "
                f"cohort at {horizon_years} years needs data up to {needed.isoformat()}"
            )
        territory_codes, territory_map = _territory_map(analytics, territory_level)
        sector_codes, sector_map = _sector_map(analytics, sector_name, sector_groups)
        with reporter.step(f"Survie de la cohorte {cohort_year} ({analytics.engine})"):
            first = _first_periods(rows, dt.date(cohort_year - 1, 12, 31), dt.date(cohort_year, 12, 31))
            alive = rows.filter(
                (rows.created > dt.date(cohort_year - 1, 12, 31))
                & (rows.created <= dt.date(cohort_year, 12, 31))
                & active_at(rows, rows.created + ibis.interval(years=horizon_years))
            )
            alive = alive.select(alive.source, alive.siret, survived=ibis.literal(1, type="int64")).distinct()
            joined = first.left_join(alive, ["source", "siret"])
            cells = _to_cells(joined, territory_map, sector_map)
            result = analytics.to_arrow(
                cells.group_by("tid", "sid").aggregate(
                    n=cells.count(), survived=cells.survived.fill_null(0).sum().cast("int64")
                )
            )
    _release(analytics)
    tid = _column(result, "tid")
    sid = _column(result, "sid")
    created = _column(result, "n")
    survived = _column(result, "survived")
    if not created.any():
        raise InputError(f"no establishment created in {cohort_year} in the fabric")
    index = _Index.build(tid, sid, created > 0)
    layout = _Layout.build(*index.locate(tid, sid), index.shape)
    return CohortSurvival(
        territory_level=territory_level,
        sector_level=sector_name,
        cohort_year=cohort_year,
        horizon_years=horizon_years,
        territories=territory_codes[index.territories],
        sectors=sector_codes[index.sectors],
        created=layout.matrix(created),
        surviving=layout.matrix(survived),
    )


# ---------------------------------------------------------------------------------------------
# Establishment rows
# ---------------------------------------------------------------------------------------------


def _aggregate_establishments(
    analytics: Analytics,
    files: list[Path],
    territory_levels: tuple[str, ...],
    sector_name: str,
    sector_groups: list[SectorGroup] | None,
    at: dt.date | None,
    window: tuple[dt.date, dt.date] | None,
    reporter: Reporter,
    with_dynamics: bool = True,
    establishments_only: frozenset[str] = frozenset(),
) -> dict[str, Counts | EstablishmentCounts]:
    rows = analytics.read_parquet(files, "establishments")
    if at is None:
        at = _snapshot_date(analytics, rows)
    start, end = _window(window, at)
    # One level: the engine counts at that level; several: by commune, then rolled up.
    engine_level = territory_levels[0] if len(territory_levels) == 1 else "commune"
    territory_codes, territory_map = _territory_map(analytics, engine_level)
    sector_codes, sector_map = _sector_map(analytics, sector_name, sector_groups, with_totals=True)
    bands = _Bands.load()
    band_map = analytics.from_arrow(bands.table, "size_bands")

    description = f"Agrégation des établissements au {at.isoformat()}"
    if with_dynamics:
        description += f", flux du {start.isoformat()} au {end.isoformat()}"
    with reporter.step(f"{description} ({analytics.engine})"):
        stock_row = rows.valid_from.isnull() & rows.valid_to.isnull()
        flags = {"f_at": active_at(rows, at)}
        if with_dynamics:
            flags |= {
                "f_start": active_at(rows, start),
                "f_end": active_at(rows, end),
                # Flows of stock rows (one row per establishment) come out of the same
                # pass; history rows need their first / last period, picked apart below.
                "f_created": stock_row & (rows.created > start) & (rows.created <= end),
                "f_closed": stock_row & (rows.closed > start) & (rows.closed <= end),
            }
        flagged = rows.mutate(**flags)
        any_flag = functools.reduce(operator.or_, [flagged[name] for name in flags])
        flagged = flagged.filter(any_flag)
        flagged = flagged.mutate(band=flagged.size_band.fill_null(bands.unknown))
        # Count by commune, NAF code and band (the heavy pass, on the codes as stored), then
        # give the count rows their cells and their band's number: the weighting by band and
        # the sums by cell are done once the rows are out (_BandRows), where the cells are
        # laid out anyway; a second grouping in the engine would cost as much as the first.
        flag_of = {"a": "f_at", "s": "f_start", "e": "f_end", "c": "f_created", "k": "f_closed"}
        counts = {
            alias: flagged.count(where=flagged[name].fill_null(False)).cast("int32")
            for alias, name in flag_of.items()
            if name in flags
        }
        by_band = _to_cells(
            flagged.group_by("commune", "naf", "band").aggregate(**counts), territory_map, sector_map
        ).left_join(band_map, "band")
        stocks = by_band.select(
            "tid", "sid", "whole", band_id=by_band.band_id.fill_null(bands.unknown_id), **{
                alias: by_band[alias] for alias in counts
            }
        )
        parts = [stocks]
        if with_dynamics:
            history = rows.filter(rows.valid_from.notnull() | rows.valid_to.notnull())
            for column, flows in (
                ("c", _first_periods(history, start, end)),
                ("k", _last_periods(history, start, end)),
            ):
                flow_cells = _to_cells(flows, territory_map, sector_map)
                counted = flow_cells.group_by("tid", "sid", "whole").aggregate(
                    **{column: flow_cells.count().cast("int32")}
                )
                parts.append(
                    counted.select(
                        *[
                            counted[name] if name in counted.columns else ibis.literal(0, type=typ).name(name)
                            for name, typ in stocks.schema().items()
                        ]
                    )
                )
        # One union, so one engine job: Spark pays its fixed cost per job, not per table.
        result = analytics.to_arrow(ibis.union(*parts, distinct=False))
    _release(analytics)
    # Each engine column once as numpy, shared by the levels.
    band_rows = _BandRows(
        {name: _column(result, name) for name in result.column_names}, bands
    )
    del result
    tid = band_rows.columns["tid"]
    out: dict[str, Counts | EstablishmentCounts] = {}
    for level in territory_levels:
        codes, level_tid = (
            (territory_codes, tid)
            if level == engine_level
            else _rolled_up(territory_codes, tid, level)
        )
        out[level] = _establishment_counts(
            band_rows, level_tid, codes, level, sector_name, sector_codes, at, start, end,
            with_dynamics, level in establishments_only,
        )
    return out


def _rolled_up(communes: np.ndarray, tid: IntArray, level: str) -> tuple[np.ndarray, IntArray]:
    """Codes of ``level`` and the territory of each commune id (-1 outside the level)."""
    from grappe.refdata import territories

    levels = territories.commune_levels()
    _require_level_filled(levels, level)
    # The level's codes as _territory_map numbers them: every territory of the level.
    codes = np.unique(np.asarray(levels.column(level).drop_null().to_pylist(), dtype=str))
    parent = territories.parents(communes, level)
    parent_tid = np.where(parent != "", np.searchsorted(codes, parent), -1)
    return codes, parent_tid[tid]


@dataclass(frozen=True)
class _BandRows:
    """The engine's count rows (a cell, a band, the counts of each flag) and the figures of
    the Counts they sum to: each figure a flag count, weighted by a value of the row's band
    (in hundredths) or not."""

    columns: dict[str, IntArray]  # tid, sid, whole, band_id, and the flag counts a, s, e, c, k
    bands: _Bands

    # Figure -> (flag count, band value or None).
    FIGURES: ClassVar[dict[str, tuple[str, str | None]]] = {
        "n_at": ("a", None),
        "sme_at": ("a", "sme"),
        "low_at": ("a", "low"),
        "central_at": ("a", "central"),
        "high_at": ("a", "high"),
        "sq_at": ("a", "sq"),
        "employer_at": ("a", "employer"),
        "n_start": ("s", None),
        "n_end": ("e", None),
        "n_created": ("c", None),
        "n_closed": ("k", None),
        "central_start": ("s", "central"),
        "central_end": ("e", "central"),
    }

    def __getitem__(self, name: str) -> tuple[IntArray, Weight]:
        """The figure ``name`` of every row: its flag counts and, for a figure weighted by
        band, the rows' bands and the band weights (see :meth:`_Layout.matrix`)."""
        flag, value = self.FIGURES[name]
        counts = self.columns[flag]
        if value is None:
            return counts, None
        return counts, (self.columns["band_id"], self.bands.values[value])


def _establishment_counts(
    columns: _BandRows,
    tid: IntArray,
    territory_codes: np.ndarray,
    territory_level: str,
    sector_name: str,
    sector_codes: np.ndarray,
    at: dt.date,
    start: dt.date,
    end: dt.date,
    with_dynamics: bool,
    establishments_only: bool = False,
) -> Counts | EstablishmentCounts:
    """The Counts of one level from the engine rows, ``tid`` the rows' territory (-1: none);
    only the establishments with ``establishments_only``."""
    sid = columns.columns["sid"]
    n_at, _ = columns["n_at"]
    inside = tid >= 0
    if not n_at[(sid != _OUTSIDE) & inside].any():
        raise InputError(
            f"no establishment active on {at.isoformat()} at level {territory_level} x "
            f"{sector_name} (is the date before the data, or are the communes outside the level?)"
        )
    # Rows outside the level (tid -1) are kept out by the index: no territory has id -1.
    assembly = _Assembly.build(tid, sid, columns.columns["whole"] > 0, (n_at > 0) & inside)

    def scale(name: str) -> int:
        return 1 if name.startswith(("n_", "sme_", "employer_")) else _HUNDREDTHS

    def matrix(name: str) -> sp.csr_array:
        values, weight = columns[name]
        return assembly.matrix(values, scale(name), weight)

    def vector(name: str) -> FloatArray:
        values, weight = columns[name]
        return assembly.vector(values, scale(name), weight)

    index = assembly.index
    if establishments_only:
        return EstablishmentCounts(
            territory_level,
            sector_name,
            territory_codes[index.territories],
            sector_codes[index.sectors],
            matrix("n_at"),
        )
    dynamics = None
    flows = None
    if with_dynamics:
        dynamics = Dynamics(
            start=start.isoformat(),
            end=end.isoformat(),
            stock_start=matrix("n_start"),
            stock_end=matrix("n_end"),
            created=matrix("n_created"),
            closed=matrix("n_closed"),
            employment_start=matrix("central_start"),
            employment_end=matrix("central_end"),
        )
        flows = TotalFlows(
            stock_start=vector("n_start"),
            stock_end=vector("n_end"),
            created=vector("n_created"),
            closed=vector("n_closed"),
            employment_start=vector("central_start"),
            employment_end=vector("central_end"),
        )
    return Counts(
        territory_level=territory_level,
        sector_level=sector_name,
        territories=territory_codes[index.territories],
        sectors=sector_codes[index.sectors],
        establishments=matrix("n_at"),
        employment=matrix("central_at"),
        employment_low=matrix("low_at"),
        employment_high=matrix("high_at"),
        sme_establishments=matrix("sme_at"),
        employment_sq=matrix("sq_at"),
        employer_establishments=matrix("employer_at"),
        from_establishments=True,
        dynamics=dynamics,
        totals=Totals(
            establishments=vector("n_at"),
            employment=vector("central_at"),
            employment_low=vector("low_at"),
            employment_high=vector("high_at"),
            sme_establishments=vector("sme_at"),
            flows=flows,
        ),
    )


def _first_periods(rows: ir.Table, start: dt.date, end: dt.date) -> ir.Table:
    """Establishments created within (start, end], each in its first active period."""
    candidates = rows.filter(
        (rows.created > start)
        & (rows.created <= end)
        & ibis.ifelse(
            rows.valid_from.notnull(),
            rows.active.fill_null(False) & (rows.valid_from <= end),
            ibis.literal(True),
        )
    )
    window = ibis.window(group_by=[candidates.source, candidates.siret], order_by=[candidates.valid_from])
    ranked = candidates.mutate(rank=ibis.row_number().over(window))
    return ranked.filter(ranked["rank"] == 0).drop("rank")


def _last_periods(rows: ir.Table, start: dt.date, end: dt.date) -> ir.Table:
    """Establishments closed within (start, end], each in its last active period."""
    candidates = rows.filter(
        (rows.closed > start)
        & (rows.closed <= end)
        & ibis.ifelse(
            rows.valid_from.notnull(),
            rows.active.fill_null(False) & (rows.valid_from < rows.closed),
            ibis.literal(True),
        )
    )
    window = ibis.window(
        group_by=[candidates.source, candidates.siret],
        order_by=[ibis.desc(candidates.valid_from)],
    )
    ranked = candidates.mutate(rank=ibis.row_number().over(window))
    return ranked.filter(ranked["rank"] == 0).drop("rank")


def _to_cells(rows: ir.Table, territory_map: ir.Table, sector_map: ir.Table) -> ir.Table:
    """Attach the territory id ``tid``, sector id ``sid`` (a row per matching group) and the
    ``whole`` flag of the row that counts in the territory's total (see :func:`_sector_map`)."""
    return rows.join(territory_map, "commune").join(sector_map, "naf")


def _snapshot_date(analytics: Analytics, rows: ir.Table) -> dt.date:
    """The latest creation or period start of the data: the date of the snapshot."""
    latest = analytics.to_arrow(
        rows.aggregate(created=rows.created.max(), valid_from=rows.valid_from.max())
    ).to_pylist()[0]
    dates = [d for d in latest.values() if d is not None]
    if not dates:
        raise InputError("the establishment rows have no creation date: give the date `at`")
    return max(dates)


def _window(window: tuple[dt.date, dt.date] | None, at: dt.date) -> tuple[dt.date, dt.date]:
    if window is None:
        return _years_before(at, 1), at
    start, end = window
    if not start < end:
        raise InputError(f"window=({start.isoformat()}, {end.isoformat()}): the start must be before the end")
    return start, end


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# ---------------------------------------------------------------------------------------------
# Aggregated tables (URSSAF, generic)
# ---------------------------------------------------------------------------------------------


def _aggregate_tables(
    analytics: Analytics,
    files: list[Path],
    territory_level: str,
    sector_name: str,
    sector_groups: list[SectorGroup] | None,
    year: int | None,
    window: tuple[dt.date, dt.date] | None,
    reporter: Reporter,
    with_dynamics: bool = True,
) -> Counts:
    from grappe.refdata import naf

    table = analytics.read_parquet(files, "aggregates")
    years = sorted(int(y) for y in _column_list(analytics.to_arrow(table.select("year").distinct()), "year"))
    if not years:
        raise InputError("the aggregated tables of the store are empty")
    if year is None:
        year = years[-1]
    if year not in years:
        raise InputError(f"year {year}: not in the aggregated tables (years: {_span(years)})")
    if window is None or not with_dynamics:
        start_year: int | None = year - 1 if year - 1 in years and with_dynamics else None
        end_year = year
    else:
        if not window[0] < window[1]:
            raise InputError(
                f"window=({window[0].isoformat()}, {window[1].isoformat()}): the start must be before the end"
            )
        start_year, end_year = window[0].year, window[1].year
        missing = [y for y in (start_year, end_year) if y not in years]
        if missing or start_year == end_year:
            raise InputError(
                f"window {window[0].isoformat()} .. {window[1].isoformat()}: aggregated tables "
                f"compare two different years present in the data ({_span(years)})"
            )
    wanted = sorted({year, end_year} | ({start_year} if start_year is not None else set()))
    picked = table.filter(table.year.isin(wanted))

    # Check the stored levels first, on a tiny distinct table, to name them in errors.
    levels_table = pa.table({"naf": naf.table().column("code"), "naf_level": naf.table().column("level")})
    naf_levels = analytics.from_arrow(levels_table, "naf_levels")
    stored = picked.left_join(naf_levels, "naf")
    pairs = analytics.to_arrow(stored.select("territory_level", "naf_level").distinct()).to_pylist()
    stored_territory = sorted({p["territory_level"] for p in pairs})
    stored_naf = sorted({p["naf_level"] for p in pairs if p["naf_level"]}, key=SECTOR_LEVELS.index)
    if len(stored_territory) > 1:
        raise InputError(
            f"aggregated tables at several territory levels ({', '.join(stored_territory)}) "
            f"for {year}: they would be counted twice; keep one level per store"
        )
    level_from = stored_territory[0]
    if level_from != territory_level and (level_from, territory_level) not in _ROLL_UPS:
        raise InputError(
            f"aggregated tables stored at level {level_from!r} cannot give level "
            f"{territory_level!r} (only commune -> any level, and departement -> region)"
        )
    finest_needed = _finest_needed(sector_name, sector_groups)
    coarse = [lv for lv in stored_naf if SECTOR_LEVELS.index(lv) < SECTOR_LEVELS.index(finest_needed)]
    if coarse:
        raise InputError(
            f"sector level {finest_needed!r} is finer than the NAF level {coarse[0]!r} "
            "of the aggregated tables: choose a coarser sector level"
        )

    sector_codes, sector_map = _sector_map(analytics, sector_name, sector_groups, with_totals=True)
    with reporter.step(f"Agrégation des tableaux agrégés {year} ({analytics.engine})"):
        if level_from == territory_level:
            territory = picked.mutate(territory=picked.territory_code)
        else:
            mapping = _level_pairs(level_from, territory_level)
            territory_map = analytics.from_arrow(mapping, "territory_pairs")
            territory = picked.join(territory_map, picked.territory_code == territory_map.code_from).drop(
                "code_from"
            )
        cells = territory.join(sector_map, "naf")
        # Headcounts in integer hundredths: exact sums, the same on every engine.
        employees = (cells.employees.fill_null(0.0) * _HUNDREDTHS).round().cast("int64")
        establishments = cells.establishments.cast("int64")

        def in_year(value: ir.NumericValue, which: int | None) -> ir.NumericValue:
            # Without a start year the start columns are computed but never read.
            chosen = which if which is not None else year
            return ibis.ifelse(cells.year == chosen, value, 0)

        result = analytics.to_arrow(
            cells.group_by("territory", "sid", "whole").aggregate(
                n_at=in_year(establishments, year).sum().cast("int64"),
                e_at=in_year(employees, year).sum().cast("int64"),
                n_start=in_year(establishments, start_year).sum().cast("int64"),
                e_start=in_year(employees, start_year).sum().cast("int64"),
                n_end=in_year(establishments, end_year).sum().cast("int64"),
                e_end=in_year(employees, end_year).sum().cast("int64"),
            )
        )
    _release(analytics)
    territory_values = np.asarray(result.column("territory").to_pylist(), dtype=object)
    territories, tid = np.unique(territory_values.astype(str), return_inverse=True)
    sid = _column(result, "sid")
    n_at = _column(result, "n_at")
    if not n_at[sid != _OUTSIDE].any():
        raise InputError(
            f"no establishment in the aggregated tables for {year} at level {territory_level} x {sector_name}"
        )
    assembly = _Assembly.build(tid.astype(np.int64), sid, _column(result, "whole") > 0, n_at > 0)
    index = assembly.index
    shape = index.shape

    def scale(name: str) -> int:
        return _HUNDREDTHS if name.startswith("e_") else 1

    def cell_sum(name: str) -> sp.csr_array:
        return assembly.matrix(_column(result, name), scale(name))

    def vector(name: str) -> FloatArray:
        return assembly.vector(_column(result, name), scale(name))

    employment = cell_sum("e_at")
    total_employment = vector("e_at")
    zeros = sp.csr_array(shape, dtype=np.float64)
    dynamics = None
    flows = None
    if start_year is not None:
        flows = TotalFlows(
            stock_start=vector("n_start"),
            stock_end=vector("n_end"),
            created=np.zeros(shape[0]),
            closed=np.zeros(shape[0]),
            employment_start=vector("e_start"),
            employment_end=vector("e_end"),
        )
        dynamics = Dynamics(
            start=dt.date(start_year, 12, 31).isoformat(),
            end=dt.date(end_year, 12, 31).isoformat(),
            stock_start=cell_sum("n_start"),
            stock_end=cell_sum("n_end"),
            created=zeros.copy(),
            closed=zeros.copy(),
            employment_start=cell_sum("e_start"),
            employment_end=cell_sum("e_end"),
        )
    return Counts(
        territory_level=territory_level,
        sector_level=sector_name,
        territories=territories[index.territories],
        sectors=sector_codes[index.sectors],
        establishments=cell_sum("n_at"),
        employment=employment,
        employment_low=employment.copy(),
        employment_high=employment.copy(),
        sme_establishments=zeros.copy(),
        employment_sq=zeros.copy(),
        from_establishments=False,
        dynamics=dynamics,
        totals=Totals(
            establishments=vector("n_at"),
            employment=total_employment,
            employment_low=total_employment.copy(),
            employment_high=total_employment.copy(),
            sme_establishments=np.zeros(shape[0]),
            flows=flows,
        ),
    )


def _level_pairs(level_from: str, level_to: str) -> pa.Table:
    """Distinct (code_from, territory) pairs rolling one territory level up to another."""
    from grappe.refdata import territories

    levels = territories.commune_levels()
    _require_level_filled(levels, level_to)
    pairs = pa.table({"code_from": levels.column(level_from), "territory": levels.column(level_to)})
    pairs = pairs.filter(
        pa.compute.and_(
            pa.compute.is_valid(pairs.column("code_from")),
            pa.compute.is_valid(pairs.column("territory")),
        )
    )
    return pairs.group_by(["code_from", "territory"]).aggregate([])


def _span(years: list[int]) -> str:
    return f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])


# ---------------------------------------------------------------------------------------------
# Mappings to territory and sector ids
# ---------------------------------------------------------------------------------------------


def _territory_map(analytics: Analytics, level: str) -> tuple[np.ndarray, ir.Table]:
    """Sorted territory codes and the engine table ``commune -> tid`` (int32)."""
    from grappe.refdata import territories

    levels = territories.commune_levels()
    _require_level_filled(levels, level)
    communes = np.asarray(levels.column("commune").to_pylist(), dtype=object)
    targets = levels.column(level).to_pylist()
    has = np.fromiter((t is not None for t in targets), dtype=bool, count=len(targets))
    codes, tid = np.unique(np.asarray(targets, dtype=object)[has].astype(str), return_inverse=True)
    mapping = pa.table(
        {
            "commune": pa.array(communes[has].astype(str).tolist(), pa.string()),
            "tid": pa.array(tid.astype(np.int32)),
        }
    )
    return codes, analytics.from_arrow(mapping, f"territory_{level}")


def _require_level_filled(levels: pa.Table, level: str) -> None:
    if level == "ze" and levels.column("ze").null_count == levels.num_rows:
        raise InputError(
            "territory level 'ze': the zones d'emploi are not imported; run "
            "`grappe refdata import-ze FILE.xlsx` with INSEE's composition table"
        )


def _sector_map(
    analytics: Analytics,
    sector_name: str,
    groups: list[SectorGroup] | None,
    with_totals: bool = False,
) -> tuple[np.ndarray, ir.Table]:
    """Sorted sector codes and the engine table ``naf -> sid, whole``, any NAF level in.

    ``sid`` (int32) is the column of the code; a code in several sector groups has a row
    per group. ``whole`` (boolean) is true on exactly one row of each code of the economy:
    summing the rows where it is true counts every establishment once, in its territory's
    whole economy, in the same join and group-by as the cells. The economy is the codes the
    level can place: for a NAF level, the codes at that level or finer (each has one row,
    so the totals are the row sums); for sector groups, every NAF code. With
    ``with_totals``, the codes that no group lists get a row of their own, ``sid`` =
    :data:`_OUTSIDE`, which has no column but counts in the totals.
    """
    from grappe.refdata import naf

    table = naf.table()
    codes = table.column("code").to_pylist()
    parents = dict(zip(codes, table.column("parent").to_pylist(), strict=True))
    code_level = dict(zip(codes, table.column("level").to_pylist(), strict=True))

    def lineage(code: str) -> Iterator[str]:
        current: str | None = code
        while current is not None:
            yield current
            current = parents.get(current)

    pairs: list[tuple[str, str]]
    if groups is None:
        pairs = [
            (code, ancestor)
            for code in codes
            for ancestor in lineage(code)
            if code_level[ancestor] == sector_name
        ]
    else:
        members: dict[str, set[str]] = {}
        for group in groups:
            for member in group.naf:
                members.setdefault(member, set()).add(group.code)
        pairs = sorted(
            {(code, g) for code in codes for ancestor in lineage(code) for g in members.get(ancestor, ())}
        )
    if not pairs:
        raise InputError(f"sector level {sector_name!r}: no NAF code maps to it")
    naf_codes = [p[0] for p in pairs]
    sector_codes, sid = np.unique(np.asarray([p[1] for p in pairs], dtype=str), return_inverse=True)
    sid = sid.astype(np.int32)
    # pairs are sorted by code, so the first row of each code is where its total counts
    whole = [i == 0 or naf_codes[i - 1] != code for i, code in enumerate(naf_codes)]
    if with_totals and groups is not None:
        outside = sorted(set(codes) - set(naf_codes))
        naf_codes = naf_codes + outside
        sid = np.concatenate([sid, np.full(len(outside), _OUTSIDE, dtype=np.int32)])
        whole = whole + [True] * len(outside)
    mapping = pa.table(
        {
            "naf": pa.array(naf_codes, pa.string()),
            "sid": pa.array(sid),
            "whole": pa.array(whole, pa.bool_()),
        }
    )
    return sector_codes, analytics.from_arrow(mapping, "sectors")


def _finest_needed(sector_name: str, groups: list[SectorGroup] | None) -> str:
    if groups is None:
        return sector_name
    from grappe.refdata import naf

    return max((naf.level(c) for g in groups for c in g.naf), key=SECTOR_LEVELS.index)


@dataclass(frozen=True)
class _Bands:
    """Size bands: the engine table ``band -> band_id`` and the values of each band id
    (``low, central, high, sq`` in hundredths; ``sme``; ``employer``, 1 for a band of at
    least one employee), with one more id, :attr:`unknown_id`, for a code outside the table
    (values 0, ``sme`` of the unknown band).
    """

    table: pa.Table
    unknown: str
    values: dict[str, IntArray]

    @property
    def unknown_id(self) -> int:
        return len(self.values["sme"]) - 1

    @classmethod
    def load(cls) -> _Bands:
        from grappe.refdata import sizes

        bands = sizes.size_bands()
        codes = bands.column("code").to_pylist()
        unknown = "NN"
        if unknown not in codes:
            raise InputError("size bands: the reference table has no 'NN' band")
        columns = {
            name: np.asarray(bands[name].to_numpy(zero_copy_only=False), dtype=np.float64)
            for name in ("low", "central", "high")
        }
        columns["sq"] = columns["central"] ** 2
        values = {
            name: np.append(np.round(column * _HUNDREDTHS).astype(np.int64), 0)
            for name, column in columns.items()
        }
        # Firm category by headcount alone: TPE and PME are the SMEs (< 250 staff).
        sme = [int(sizes.category_of_band(code) in {"TPE", "PME"}) for code in codes]
        values["sme"] = np.asarray([*sme, sme[codes.index(unknown)]], dtype=np.int64)
        # Employer establishments: a band of at least one employee (not NN, not 00).
        lows = bands.column("low").to_pylist()
        values["employer"] = np.asarray([*(int(low >= 1) for low in lows), 0], dtype=np.int64)
        table = pa.table(
            {"band": pa.array(codes, pa.string()), "band_id": pa.array(np.arange(len(codes), dtype=np.int16))}
        )
        return cls(table=table, unknown=unknown, values=values)


@dataclass(frozen=True)
class _Index:
    """Rows and columns kept in the result: territories and sectors present at the snapshot."""

    territories: IntArray
    sectors: IntArray

    @classmethod
    def build(cls, tid: IntArray, sid: IntArray, present: npt.NDArray[np.bool_]) -> _Index:
        # Rows: every territory with activity, in a column or only outside the sector
        # groups (which may cover part of the economy); columns: the sectors.
        # Engine ids are small non-negative integers once outside ones are left out.
        sector = present & (sid != _OUTSIDE)
        return cls(
            territories=np.flatnonzero(np.bincount(tid[present])),
            sectors=np.flatnonzero(np.bincount(sid[sector])),
        )

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.territories), len(self.sectors)

    def locate(self, tid: IntArray, sid: IntArray) -> tuple[IntArray, IntArray]:
        """Row and column of each (tid, sid), the row -1 for an entry left out (a territory
        or a sector not kept)."""
        rows = positions(self.territories, tid)
        cols = positions(self.sectors, sid)
        rows[cols < 0] = -1
        return rows, cols


@dataclass(frozen=True)
class _Assembly:
    """Where each result row of the engine goes: a cell of the matrices (a sector's rows)
    and an entry of the territory totals (the ``whole`` rows)."""

    index: _Index
    layout: _Layout
    territory_rows: IntArray  # the total each row counts in (-1: none)

    @classmethod
    def build(
        cls,
        tid: IntArray,
        sid: IntArray,
        whole: npt.NDArray[np.bool_],
        present: npt.NDArray[np.bool_],
    ) -> _Assembly:
        index = _Index.build(tid, sid, present)
        rows, cols = index.locate(tid, sid)
        # Whole-economy rows of territories without stock at the date (flows only) have no
        # row to land in, like the cells of such territories.
        territory_rows = positions(index.territories, tid)
        territory_rows[~whole] = -1
        return cls(index, _Layout.build(rows, cols, index.shape), territory_rows)

    def matrix(self, values: IntArray, scale: int = 1, weight: Weight = None) -> sp.csr_array:
        """The cells of an engine column (integers), divided by ``scale``; ``weight``: see
        :meth:`_Layout.matrix`."""
        return self.layout.matrix(values, scale, weight)

    def vector(self, values: IntArray, scale: int = 1, weight: Weight = None) -> FloatArray:
        """The territory totals of an engine column (integers), divided by ``scale``."""
        sums = cell_sums(self.territory_rows, values, len(self.index.territories), *_bands(weight))
        return sums / scale if scale != 1 else sums


@dataclass(frozen=True)
class _Layout:
    """The sparsity pattern of (row, col) entries, sorted once and shared by every matrix."""

    shape: tuple[int, int]
    inverse: IntArray  # the cell of each entry (-1: left out)
    indices: npt.NDArray[np.integer]
    indptr: npt.NDArray[np.integer]

    @classmethod
    def build(cls, rows: IntArray, cols: IntArray, shape: tuple[int, int]) -> _Layout:
        """The layout of entries at (``rows``, ``cols``), those of a negative row left out."""
        n_cols = max(shape[1], 1)
        cells, inverse = cell_numbers(rows, cols, shape[0], n_cols)
        indptr = np.searchsorted(cells // n_cols, np.arange(shape[0] + 1))
        # 32-bit indices when they fit, as scipy would choose: half the index memory.
        index_type = np.int32 if len(cells) < 2**31 and n_cols < 2**31 else np.int64
        return cls(shape, inverse, (cells % n_cols).astype(index_type), indptr.astype(index_type))

    def matrix(self, values: IntArray, scale: int = 1, weight: Weight = None) -> sp.csr_array:
        """Integer values of the entries summed cell by cell (exactly), divided by ``scale``,
        as csr_array; with ``weight`` (the band of each entry, the integer weight of each
        band) each value is first multiplied by its band's weight."""
        # Float sums of integers are exact below 2**53, far above any count or hundredths here.
        sums = cell_sums(self.inverse, values, len(self.indices), *_bands(weight))
        data = sums / scale if scale != 1 else sums
        # Copies: eliminate_zeros edits the index arrays in place, and they are shared.
        matrix = sp.csr_array((data, self.indices.copy(), self.indptr.copy()), shape=self.shape)
        matrix.eliminate_zeros()
        return matrix


def _bands(weight: Weight) -> tuple[npt.NDArray[np.integer], IntArray]:
    """The ``band, weight`` arguments of :func:`~grappe.detection.kernels.cell_sums`."""
    return _NO_BANDS if weight is None else weight


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def _check_territory_level(level: str) -> None:
    if level not in TERRITORY_LEVELS:
        raise InputError(f"territory level {level!r}: expected one of {', '.join(TERRITORY_LEVELS)}")


def _sector_spec(spec: SectorSpec) -> tuple[str, list[SectorGroup] | None]:
    """The sector level's name and, for sector groups, the groups.

    ``"clusters"`` is the level of the packaged cluster categories: groups of traded
    sous-classes (``grappe.refdata.clusters``); the local sous-classes are in no group and
    count in the territories' totals only.
    """
    if spec == CLUSTER_LEVEL:
        return CLUSTER_LEVEL, cluster_groups()
    if isinstance(spec, str) and not spec.lower().endswith(".toml"):
        if spec not in SECTOR_LEVELS:
            raise InputError(
                f"sector level {spec!r}: expected one of {', '.join(SECTOR_LEVELS)}, "
                f"{CLUSTER_LEVEL} or a sector-group file (.toml)"
            )
        return spec, None
    if isinstance(spec, str | Path):
        path = Path(spec)
        return path.stem, load_sector_groups(path)
    groups = list(spec)
    if not groups or not all(isinstance(g, SectorGroup) for g in groups):
        raise InputError("sector groups: expected a non-empty list of SectorGroup")
    codes = [g.code for g in groups]
    if len(set(codes)) != len(codes):
        raise InputError(f"sector groups: duplicate group codes in {codes}")
    return "groups", groups


def _resolve_files(store_or_files: StoreOrFiles) -> tuple[list[Path], list[Path]]:
    """Establishment files and aggregate files of a store, a store directory or file list."""
    if isinstance(store_or_files, FabricSource):
        return list(store_or_files.establishment_files()), list(store_or_files.aggregate_files())
    if isinstance(store_or_files, str | Path) and Path(store_or_files).is_dir():
        from grappe.fabric.store import FabricStore

        store = FabricStore.open(Path(store_or_files))
        return list(store.establishment_files()), list(store.aggregate_files())
    files = (
        [Path(store_or_files)]
        if isinstance(store_or_files, str | Path)
        else [Path(f) for f in store_or_files]
    )
    establishments: list[Path] = []
    aggregates: list[Path] = []
    for path in files:
        try:
            names = set(pq.read_schema(path).names)
        except (OSError, pa.ArrowInvalid) as exc:
            raise FileFormatError(f"{path}: not a readable Parquet file ({exc})") from exc
        if _ESTABLISHMENT_MARK in names:
            establishments.append(path)
        elif _AGGREGATE_MARK in names:
            aggregates.append(path)
        else:
            raise FileFormatError(
                f"{path}: expected the fabric store columns (siret, naf, commune, ... or "
                f"territory_level, territory_code, naf, year, ...); found: {', '.join(sorted(names))}"
            )
    return establishments, aggregates


def _pick_source(
    source: Source, establishments: list[Path], aggregates: list[Path], where: object
) -> Literal["establishments", "aggregates"]:
    if source not in ("auto", "establishments", "aggregates"):
        raise InputError(f"source {source!r}: expected auto, establishments or aggregates")
    if source == "establishments" or (source == "auto" and establishments):
        if not establishments:
            raise InputError(f"no establishment rows in {_describe(where)}")
        return "establishments"
    if not aggregates:
        raise InputError(
            f"no data in {_describe(where)}: import establishments or aggregated tables first "
            "(grappe fabric import)"
        )
    return "aggregates"


def _describe(where: object) -> str:
    path = getattr(where, "path", None)
    if path is not None:
        return f"the fabric store {path}"
    if isinstance(where, str | Path):
        return str(where)
    return "the given files"


_OWNED: weakref.WeakSet[Analytics] = weakref.WeakSet()


@contextmanager
def _analytics(engine: str | Analytics | None) -> Iterator[Analytics]:
    if isinstance(engine, Analytics):
        yield engine
        return
    analytics = connect(engine)
    _OWNED.add(analytics)
    try:
        yield analytics
    finally:
        analytics.close()


def _release(analytics: Analytics) -> None:
    """Close a connection opened here once its last result is in: DuckDB then frees its
    buffers before the NumPy assembly (an engine given by the caller stays open)."""
    if analytics in _OWNED:
        analytics.close()


def _column(table: pa.Table, name: str) -> IntArray:
    """An integer (or boolean) engine column as numpy, in its own type (no copy if it can)."""
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def _column_list(table: pa.Table, name: str) -> list[int]:
    return [int(v) for v in table.column(name).to_pylist() if v is not None]
