"""Prospects: establishments of the fabric in a cluster's territory and sectors, not yet members.

The ranking score (0 to 1) is a weighted sum of four documented components:

=================  ======  ==============================================================
component          weight  value
=================  ======  ==============================================================
``size_score``     0.35    ln(1 + central headcount of the SIRENE band) / ln(1 + 250),
                           capped at 1 (PME of 250 staff and more score 1); 0.1 when the
                           band is unknown
``sector_fit``     0.30    how precisely the cluster's scope names the establishment's
                           activity: sous-classe 1.0, classe 0.9, groupe 0.8,
                           division 0.7, section 0.6
``proximity``      0.20    1 - distance to the territory's population-weighted centroid /
                           territory radius (farthest commune centroid, at least 5 km),
                           floored at 0; the commune centroid stands in for missing x/y
``recency``        0.15    1 for establishments created in the last 3 years, falling
                           linearly to 0 at 10 years
=================  ======  ==============================================================

Only establishments open on the reference date are listed (the fabric's one rule,
:func:`grappe.fabric.open_establishments`), one row per SIRET; members are excluded by
SIREN (every establishment of a member organisation). The fabric scans its store; the
scores are computed here on the candidates it returns.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from grappe.errors import InputError
from grappe.kit import export
from grappe.kit.repository import check_page
from grappe.refdata import sizes, territories
from grappe.refdata.naf import table as naf_table
from grappe.registry import policy, refs
from grappe.registry.clusters import service as clusters
from grappe.registry.memberships import service as memberships
from grappe.registry.models import Cluster
from grappe.registry.policy import Actor
from grappe.registry.schemas import Page, Schema

WEIGHTS = {"size_score": 0.35, "sector_fit": 0.30, "proximity": 0.20, "recency": 0.15}
FIT = {"sous-classe": 1.0, "classe": 0.9, "groupe": 0.8, "division": 0.7, "section": 0.6}
MIN_RADIUS_M = 5_000.0
FULL_SIZE_HEADCOUNT = 250.0
"""Central headcount from which ``size_score`` is 1."""
UNKNOWN_SIZE_SCORE = 0.1
RECENCY_YEARS = (3.0, 10.0)
"""Age (years) until which ``recency`` is 1, and from which it is 0."""
DAYS_PER_YEAR = 365.25

COLUMNS = (
    "rank",
    "siret",
    "siren",
    "name",
    "naf",
    "naf_name",
    "commune",
    "commune_name",
    "size_band",
    "created",
    "distance_km",
    "score",
    "size_score",
    "sector_fit",
    "proximity",
    "recency",
)
#: French headers of the prospects file (people open it in a spreadsheet for a campaign).
HEADERS = {
    "rank": "rang",
    "name": "nom",
    "naf_name": "activité",
    "commune_name": "nom de la commune",
    "size_band": "tranche d'effectif",
    "created": "création",
    "distance_km": "distance (km)",
    "size_score": "score de taille",
    "sector_fit": "adéquation sectorielle",
    "proximity": "proximité",
    "recency": "récence",
}


class ProspectOut(Schema):
    """A prospect as the API answers it (the columns of :data:`COLUMNS`)."""

    rank: int
    siret: str
    siren: str
    name: str | None
    naf: str
    naf_name: str | None
    commune: str | None
    commune_name: str | None
    size_band: str | None
    created: dt.date | None
    distance_km: float | None
    score: float
    size_score: float
    sector_fit: float
    proximity: float
    recency: float


class ProspectPage(Page[ProspectOut]):
    """A page of prospects, best first."""

    @classmethod
    def of_table(cls, table: pa.Table, limit: int, offset: int) -> ProspectPage:
        """The page ``limit``/``offset`` of a ranked prospects table."""
        check_page(limit, offset)
        return cls(total=table.num_rows, items=table.slice(offset, limit).to_pylist())


def _territory(cluster: Cluster) -> tuple[list[str], float, float, float]:
    """Communes of a cluster's territory, its weighted centroid (Lambert-93) and radius (m)."""
    communes: set[str] = set()
    for t in cluster.territories:
        communes.update(refs.communes_of(t.level, t.code))
    if not communes:
        raise InputError(f"structure {cluster.id} : aucun territoire déclaré")
    table = territories.communes().select(["code", "population", "x", "y"])
    codes = np.array(table.column("code").to_pylist(), dtype=object)
    keep = np.isin(codes, np.array(sorted(communes), dtype=object))
    x = np.asarray(table.column("x").to_numpy(zero_copy_only=False), dtype=float)[keep]
    y = np.asarray(table.column("y").to_numpy(zero_copy_only=False), dtype=float)[keep]
    pop = np.asarray(table.column("population").to_numpy(zero_copy_only=False), dtype=float)[keep]
    ok = np.isfinite(x) & np.isfinite(y)
    weights = np.where(pop[ok] > 0, pop[ok], 1.0)
    cx = float(np.average(x[ok], weights=weights)) if ok.any() else 0.0
    cy = float(np.average(y[ok], weights=weights)) if ok.any() else 0.0
    radius = float(np.max(np.hypot(x[ok] - cx, y[ok] - cy))) if ok.any() else 0.0
    return sorted(communes), cx, cy, max(radius, MIN_RADIUS_M)


def prospects(
    session: Session,
    actor: Actor,
    cluster_id: int,
    *,
    store: Path | None = None,
    limit: int | None = None,
    on: dt.date | None = None,
) -> pa.Table:
    """Rank the fabric's establishments that a cluster could recruit (administrators, managers).

    Parameters
    ----------
    store
        The fabric store directory (default ``Settings.store_dir``).
    limit
        Keep the best ``limit`` rows.
    on
        Reference date for "open", recency and membership (default today).

    Returns
    -------
    pyarrow.Table
        Columns :data:`COLUMNS`, best score first (ties by SIRET).
    """
    from grappe.fabric import lookup as fabric  # the fabric package is optional at import time

    policy.require_cluster(session, actor, cluster_id, policy.Access.MANAGE, "lister les prospects")
    cluster = clusters.load_cluster(session, cluster_id)
    if not cluster.sectors:
        raise InputError(f"structure {cluster_id} : aucun secteur (codes NAF) déclaré")
    on = on or dt.date.today()
    if not fabric.holds_establishments(store):
        raise InputError(
            "tissu productif vide : importez des établissements (grappe fabric import)"
        )
    scope = refs.scope_sous_classes([s.naf for s in cluster.sectors])
    communes, cx, cy, radius = _territory(cluster)
    found = fabric.open_establishments(
        on,
        territory=fabric.Scope("commune", communes),
        sectors=fabric.Scope("sous-classe", scope),
        store=store,
    )
    members = pa.array(sorted(memberships.member_sirens(session, cluster_id, on)), pa.string())
    candidates = found.filter(pc.invert(pc.is_in(found["siren"], value_set=members)))
    return _ranked(candidates, scope, (cx, cy, radius), on, limit)


def _ranked(
    candidates: pa.Table,
    scope: dict[str, str],
    circle: tuple[float, float, float],
    on: dt.date,
    limit: int | None,
) -> pa.Table:
    """Score the candidate establishments (the components of the module notes) and rank them."""
    cx, cy, radius = circle
    bands = sizes.size_bands()
    headcount = _looked_up(candidates["size_band"], bands["code"], bands["central"])
    size_score = np.where(np.isnan(headcount), UNKNOWN_SIZE_SCORE,
                          np.minimum(1.0, np.log1p(headcount) / np.log1p(FULL_SIZE_HEADCOUNT)))
    fits = pa.array([FIT[level] for level in scope.values()], pa.float64())
    sector_fit = _looked_up(candidates["naf"], pa.array(list(scope), pa.string()), fits)
    x, y = _coordinates(candidates)
    distance = np.hypot(x - cx, y - cy)
    proximity = np.nan_to_num(np.maximum(0.0, 1.0 - distance / radius), nan=0.0)
    days = pc.days_between(candidates["created"], pa.scalar(on, pa.date32()))
    age = days.to_numpy(zero_copy_only=False).astype(float) / DAYS_PER_YEAR
    young, old = RECENCY_YEARS
    recency = np.nan_to_num(np.clip((old - age) / (old - young), 0.0, 1.0), nan=0.0)
    parts = {"size_score": size_score, "sector_fit": sector_fit, "proximity": proximity,
             "recency": recency}
    score = sum(WEIGHTS[name] * value for name, value in parts.items())
    order = np.lexsort((candidates["siret"].to_numpy(), -score))
    if limit:
        order = order[: int(limit)]
    communes = territories.communes()
    naf = naf_table()
    columns = {
        "rank": pa.array(np.arange(1, len(order) + 1, dtype=np.int32)),
        "siret": candidates["siret"].take(order),
        "siren": candidates["siren"].take(order),
        "name": candidates["name"].take(order),
        "naf": candidates["naf"].take(order),
        "naf_name": _named(candidates["naf"].take(order), naf["code"], naf["label"]),
        "commune": candidates["commune"].take(order),
        "commune_name": _named(candidates["commune"].take(order), communes["code"], communes["name"]),
        "size_band": candidates["size_band"].take(order),
        "created": candidates["created"].take(order),
        "distance_km": pa.array(np.round(distance[order] / 1000.0, 2), from_pandas=True),
        "score": pa.array(np.round(score[order], 4)),
        **{name: pa.array(np.round(value[order], 4)) for name, value in parts.items()},
    }
    return pa.table(columns).select(list(COLUMNS))


def _named(codes: pa.ChunkedArray, known: pa.ChunkedArray, names: pa.ChunkedArray) -> pa.Array:
    """The name of each code in a reference table (null where the code is unknown)."""
    return names.take(pc.index_in(codes, value_set=known))


def _looked_up(keys: pa.ChunkedArray, known: pa.Array, values: pa.Array) -> np.ndarray:
    """The value of each key in a small table (``known`` -> ``values``), NaN when absent."""
    found = values.take(pc.index_in(keys, value_set=known))
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=float)


def _coordinates(candidates: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Lambert-93 x/y of each establishment; its commune's centroid where the file has none."""
    communes = territories.communes()
    coords = []
    for axis in ("x", "y"):
        own = np.asarray(candidates[axis].to_numpy(zero_copy_only=False), dtype=float)
        centroid = _looked_up(candidates["commune"], communes["code"], communes[axis])
        coords.append(np.where(np.isnan(own), centroid, own))
    return coords[0], coords[1]


def write_prospects(table: pa.Table, path: Path, *, format: export.FileFormat | None = None) -> Path:
    """Write prospects for a campaign, ``format`` as in :func:`grappe.kit.export.write`."""
    formats = dict.fromkeys(("score", *WEIGHTS), "0.0000") | {"distance_km": "0.00"}
    return export.write(path, table, format=format, labels=HEADERS, number_formats=formats)
