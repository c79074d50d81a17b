"""Survival of a creation cohort by territory x sector cell."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import numpy as np
import scipy.sparse as sp

from grappe.detection.aggregate.assembly import _Index, _Layout
from grappe.detection.aggregate.codes import _sector_map, _territory_map
from grappe.detection.aggregate.establishments import _first_periods, _snapshot_date, _to_cells
from grappe.detection.aggregate.sources import (
    SectorSpec,
    StoreOrFiles,
    _analytics,
    _check_territory_level,
    _column,
    _release,
    _resolve_files,
    _sector_spec,
)
from grappe.errors import InputError
from grappe.fabric.query import open_at
from grappe.progress import SILENT, Reporter
from grappe.storage.analytics import Analytics


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
        raise InputError(f"horizon_years={horizon_years} : un nombre d'années >= 1 est attendu")
    sector_name, sector_groups = _sector_spec(sector_level)
    establishment_files, _ = _resolve_files(store)
    if not establishment_files:
        raise InputError(
            "la survie d'une cohorte demande des lignes d'établissements (SIRENE) ; "
            "le magasin n'en a aucune"
        )
    with _analytics(engine) as analytics:
        rows = analytics.read_parquet(establishment_files, "establishments")
        last = _snapshot_date(analytics, rows)
        needed = dt.date(cohort_year + horizon_years, 12, 31)
        if last < needed:
            raise InputError(
                f"le tissu s'arrête au {last.isoformat()} ; la survie de la cohorte {cohort_year} "
                f"à {horizon_years} ans demande des données jusqu'au {needed.isoformat()}"
            )
        territory_codes, territory_map = _territory_map(analytics, territory_level)
        sector_codes, sector_map = _sector_map(analytics, sector_name, sector_groups)
        with reporter.step(f"Survie de la cohorte {cohort_year} ({analytics.engine})"):
            first = _first_periods(rows, dt.date(cohort_year - 1, 12, 31), dt.date(cohort_year, 12, 31))
            alive = rows.filter(
                (rows.created > dt.date(cohort_year - 1, 12, 31))
                & (rows.created <= dt.date(cohort_year, 12, 31))
                & open_at(rows, rows.created + ibis.interval(years=horizon_years))
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
        raise InputError(f"aucun établissement créé en {cohort_year} dans le tissu")
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

