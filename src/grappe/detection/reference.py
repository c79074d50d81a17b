"""A reference economy for location quotients and sector shares: the totals of another store.

A regional extract compared with itself says how the region's territories differ from the
region; compared with the national file it says how they differ from France, which is what
a cluster study publishes. With a reference, the location quotient of sector ``s`` in
territory ``i`` is ``(x_is / x_i) / (R_s / R)`` and the size (share of the sector) is
``x_is / R_s``, where ``R_s`` is the sector's total in the reference store and ``R`` the
reference's whole economy; the territory's own totals ``x_i`` still come from the analysed
store. The reference's totals are taken at their central estimate: the ranges of LQ and size
carry the size-band uncertainty of the analysed cells and territories only. The other
indicators (focus, territory and sector indices, the Gi* test) stay within the analysed store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from grappe.detection.aggregate import SectorSpec, StoreOrFiles
    from grappe.detection.counts import Counts
    from grappe.storage.analytics import Analytics

__all__ = ["OWN_REFERENCE", "Reference", "reference_at_snapshot", "reference_totals", "store_name"]

FloatArray = npt.NDArray[np.float64]
#: How outputs name the reference when there is none: the analysed store itself.
OWN_REFERENCE = "magasin analysé"


@dataclass(frozen=True)
class Reference:
    """Sector totals and whole-economy totals of a reference store, per measure.

    Attributes
    ----------
    name : str
        How outputs name the reference (the store's path, as given).
    sectors : numpy.ndarray of str
        Sorted sector codes.
    sector_totals : dict
        ``measure -> totals`` aligned with ``sectors`` (``employment``, ``establishments``).
    totals : dict
        ``measure -> whole-economy total`` of the reference (every activity).
    """

    name: str
    sectors: np.ndarray
    sector_totals: dict[str, FloatArray]
    totals: dict[str, float]

    def aligned(self, sectors: np.ndarray, measure: str) -> tuple[FloatArray, float]:
        """The reference totals of ``sectors`` (0 for a sector it lacks) and its whole total."""
        wanted = np.asarray(sectors).astype(str)
        position = np.minimum(np.searchsorted(self.sectors, wanted), max(len(self.sectors) - 1, 0))
        found = (self.sectors[position] == wanted) if len(self.sectors) else np.zeros(
            len(wanted), dtype=bool)
        values = np.where(found, self.sector_totals[measure][position], 0.0)
        return values.astype(np.float64), self.totals[measure]


def reference_totals(
    store: StoreOrFiles,
    level: str,
    sectors: SectorSpec,
    at: dt.date | None = None,
    engine: str | Analytics | None = None,
) -> Reference:
    """Count a reference store's sectors and whole economy.

    Parameters
    ----------
    store : FabricStore, Path or sequence of Path
        The reference (e.g. the national file's store).
    level : str
        The territory level of the analysis: the reference covers the territories that this
        level places (a store is then its own reference exactly).
    sectors : NAF level, "clusters", sector-group file or list of SectorGroup
        The sector level of the analysis.
    at : datetime.date, optional
        Snapshot date (default: the reference's latest date).
    engine : {"duckdb", "spark"} or Analytics, optional
        Engine of the aggregation.
    """
    from grappe.detection.aggregate import aggregate

    counts = aggregate(store, level, sectors, at=at, engine=engine, dynamics=False)
    whole = counts.territory_totals()
    return Reference(
        name=store_name(store),
        sectors=np.asarray(counts.sectors).astype(str),
        sector_totals={
            "employment": np.asarray(counts.employment.sum(axis=0), dtype=np.float64),
            "establishments": np.asarray(counts.establishments.sum(axis=0), dtype=np.float64),
        },
        totals={"employment": float(np.sum(whole.employment)),
                "establishments": float(np.sum(whole.establishments))},
    )


def reference_at_snapshot(
    store: StoreOrFiles,
    counts: Counts,
    level: str,
    sectors: SectorSpec,
    at: dt.date | None = None,
    engine: str | Analytics | None = None,
) -> Reference:
    """The reference's totals at the snapshot of the analysed ``counts``.

    Both then describe the same day: ``at`` when given, else the analysed store's latest date.
    """
    snapshot = at if at is not None or counts.dynamics is None else dt.date.fromisoformat(
        counts.dynamics.end)
    return reference_totals(store, level, sectors, at=snapshot, engine=engine)


def store_name(store: object) -> str:
    """How outputs name a store: its path as given (the files' paths for loose Parquet files)."""
    path = getattr(store, "path", store)
    if isinstance(path, Sequence) and not isinstance(path, str):
        return ", ".join(str(Path(p)) for p in path)
    return str(Path(path)) if isinstance(path, str | Path) else str(path)
