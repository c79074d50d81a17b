"""Counts from establishment rows (SIRENE stock or history periods), at several levels in one pass."""

from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import ibis
import ibis.expr.types as ir
import numpy as np
import scipy.sparse as sp

from grappe.detection.aggregate.assembly import _HUNDREDTHS, Weight, _Assembly, _Bands
from grappe.detection.aggregate.codes import _OUTSIDE, _require_level_filled, _sector_map, _territory_map
from grappe.detection.aggregate.sources import FloatArray, IntArray, _column, _release
from grappe.detection.counts import Counts, Dynamics, EstablishmentCounts, TotalFlows, Totals
from grappe.detection.sector_groups import SectorGroup
from grappe.errors import InputError
from grappe.fabric.query import open_at
from grappe.progress import Reporter
from grappe.storage.analytics import Analytics


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
        flags = {"f_at": open_at(rows, at)}
        if with_dynamics:
            flags |= {
                "f_start": open_at(rows, start),
                "f_end": open_at(rows, end),
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
            f"aucun établissement actif le {at.isoformat()} au niveau {territory_level} x "
            f"{sector_name} (date antérieure aux données, ou communes hors du niveau ?)"
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
        raise InputError(
            "les lignes d'établissements n'ont aucune date de création : indiquez la date (--at)"
        )
    return max(dates)


def _window(window: tuple[dt.date, dt.date] | None, at: dt.date) -> tuple[dt.date, dt.date]:
    if window is None:
        return _years_before(at, 1), at
    start, end = window
    if not start < end:
        raise InputError(f"window=({start.isoformat()}, {end.isoformat()}) : le début doit précéder la fin")
    return start, end


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)

