"""Aggregate the fabric store to territory x sector Counts, on DuckDB or Spark with one code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from grappe.detection.aggregate.establishments import _aggregate_establishments
from grappe.detection.aggregate.sources import (
    FabricSource,
    SectorSpec,
    Source,
    StoreOrFiles,
    _analytics,
    _check_territory_level,
    _pick_source,
    _resolve_files,
    _sector_spec,
)
from grappe.detection.aggregate.survival import CohortSurvival, cohort_survival
from grappe.detection.aggregate.tables import _aggregate_tables
from grappe.detection.counts import Counts, EstablishmentCounts
from grappe.errors import InputError
from grappe.progress import SILENT, Reporter
from grappe.storage.analytics import Analytics

__all__ = [
    "CohortSurvival",
    "FabricSource",
    "SectorSpec",
    "StoreOrFiles",
    "aggregate",
    "aggregate_levels",
    "cohort_survival",
]


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
        raise InputError("aggregate_levels : indiquez au moins un niveau territorial")
    for level in levels:
        _check_territory_level(level)
    light = frozenset(establishments_only)
    if not light <= set(levels):
        raise InputError(
            f"aggregate_levels : establishments_only {sorted(light - set(levels))} absents des "
            f"niveaux {list(levels)}"
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
                last=level == levels[-1],
            )
            for level in levels
        }
        return {
            level: EstablishmentCounts.of(counts) if level in light else counts
            for level, counts in tables.items()
        }

