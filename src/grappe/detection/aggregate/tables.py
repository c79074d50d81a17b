"""Counts from aggregated tables (URSSAF, generic territory x NAF x year tables)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from grappe.detection.aggregate.assembly import _HUNDREDTHS, _Assembly
from grappe.detection.aggregate.codes import _OUTSIDE, _finest_needed, _require_level_filled, _sector_map
from grappe.detection.aggregate.sources import FloatArray, _column, _column_list, _release
from grappe.detection.counts import SECTOR_LEVELS, Counts, Dynamics, TotalFlows, Totals
from grappe.detection.sector_groups import SectorGroup
from grappe.errors import InputError
from grappe.progress import Reporter
from grappe.storage.analytics import Analytics

# How a stored territory level rolls up to a requested one (besides identity).
_ROLL_UPS = {
    ("commune", "epci"),
    ("commune", "ze"),
    ("commune", "departement"),
    ("commune", "region"),
    ("departement", "region"),
}



class RollUpError(InputError):
    """Aggregated tables stored at one territory level cannot give the requested ``level``."""

    def __init__(self, level: str, message: str) -> None:
        super().__init__(message)
        self.level = level

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
    last: bool = True,
) -> Counts:
    """The counts of one territory level from the aggregated tables.

    ``last``: no other level is read on ``analytics`` after this one, so a connection opened by
    the aggregation is released as soon as this level's engine result is in. Several levels read
    one after another on one connection pass ``last=False`` for all but the final one.
    """
    from grappe.refdata import naf

    table = analytics.read_parquet(files, "aggregates")
    years = sorted(int(y) for y in _column_list(analytics.to_arrow(table.select("year").distinct()), "year"))
    if not years:
        raise InputError("les tables agrégées du magasin sont vides")
    if year is None:
        year = years[-1]
    if year not in years:
        raise InputError(f"année {year} : absente des tables agrégées (années : {_span(years)})")
    if window is None or not with_dynamics:
        start_year: int | None = year - 1 if year - 1 in years and with_dynamics else None
        end_year = year
    else:
        if not window[0] < window[1]:
            raise InputError(
                f"window=({window[0].isoformat()}, {window[1].isoformat()}) : le début doit précéder la fin"
            )
        start_year, end_year = window[0].year, window[1].year
        missing = [y for y in (start_year, end_year) if y not in years]
        if missing or start_year == end_year:
            raise InputError(
                f"fenêtre {window[0].isoformat()} .. {window[1].isoformat()} : les tables agrégées "
                f"comparent deux années différentes présentes dans les données ({_span(years)})"
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
            f"tables agrégées à plusieurs niveaux territoriaux ({', '.join(stored_territory)}) "
            f"pour {year} : elles seraient comptées deux fois ; gardez un seul niveau par magasin"
        )
    level_from = stored_territory[0]
    if level_from != territory_level and (level_from, territory_level) not in _ROLL_UPS:
        raise RollUpError(
            territory_level,
            f"des tables agrégées au niveau {level_from!r} ne donnent pas le niveau "
            f"{territory_level!r} (seulement commune -> tout niveau, et departement -> region)"
        )
    finest_needed = _finest_needed(sector_name, sector_groups)
    coarse = [lv for lv in stored_naf if SECTOR_LEVELS.index(lv) < SECTOR_LEVELS.index(finest_needed)]
    if coarse:
        raise InputError(
            f"le niveau sectoriel {finest_needed!r} est plus fin que le niveau NAF {coarse[0]!r} "
            "des tables agrégées : choisissez un niveau sectoriel moins fin"
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
    if last:
        _release(analytics)
    territory_values = np.asarray(result.column("territory").to_pylist(), dtype=object)
    territories, tid = np.unique(territory_values.astype(str), return_inverse=True)
    sid = _column(result, "sid")
    n_at = _column(result, "n_at")
    if not n_at[sid != _OUTSIDE].any():
        raise InputError(
            f"aucun établissement dans les tables agrégées de {year} au niveau {territory_level} "
            f"x {sector_name}"
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

