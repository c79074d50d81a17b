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

Only open establishments (``active`` and no ``valid_to``) are listed, one row per SIRET
(the latest when several files hold it); members are excluded by SIREN (every
establishment of a member organisation). The scan runs in DuckDB over the store's Parquet
files with the commune and NAF filters written as literal lists so they reach the scan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from grappe.errors import InputError
from grappe.kit import export
from grappe.refdata import sizes, territories
from grappe.registry import fabric_link, policy, refs
from grappe.registry.clusters import service as clusters
from grappe.registry.models import Cluster, Membership, Organisation
from grappe.registry.policy import Actor

WEIGHTS = {"size_score": 0.35, "sector_fit": 0.30, "proximity": 0.20, "recency": 0.15}
FIT = {"sous-classe": 1.0, "classe": 0.9, "groupe": 0.8, "division": 0.7, "section": 0.6}
MIN_RADIUS_M = 5_000.0

COLUMNS = (
    "rang",
    "siret",
    "siren",
    "nom",
    "naf",
    "commune",
    "tranche_effectif",
    "creation",
    "distance_km",
    "score",
    "size_score",
    "sector_fit",
    "proximity",
    "recency",
)


def _quote(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


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
    files: Sequence[Path] | None = None,
    store: Path | None = None,
    limit: int | None = None,
    on: dt.date | None = None,
) -> pa.Table:
    """Rank the fabric's establishments that a cluster could recruit (administrators, managers).

    Parameters
    ----------
    files
        Establishment Parquet files (default: those of the fabric store ``store``, itself
        defaulting to ``Settings.store_dir``).
    limit
        Keep the best ``limit`` rows.
    on
        Reference date for recency and membership (default today).

    Returns
    -------
    pyarrow.Table
        Columns :data:`COLUMNS`, best score first (ties by SIRET).
    """
    policy.require_cluster(session, actor, cluster_id, policy.Access.MANAGE, "lister les prospects")
    cluster = clusters.load_cluster(session, cluster_id)
    if not cluster.sectors:
        raise InputError(f"structure {cluster_id} : aucun secteur (codes NAF) déclaré")
    on = on or dt.date.today()
    files = list(files) if files is not None else fabric_link.establishment_files(store)
    if not files:
        raise InputError(
            "tissu productif vide : importez des établissements (grappe fabric import)"
        )
    scope = refs.scope_sous_classes([s.naf for s in cluster.sectors])
    communes, cx, cy, radius = _territory(cluster)
    member_sirens = sorted(
        s
        for s in session.scalars(
            select(Organisation.siren)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(
                Membership.cluster_id == cluster_id,
                Membership.joined <= on,
                or_(Membership.left_on.is_(None), Membership.left_on > on),
            )
        )
        if s
    )
    bands = sizes.size_bands().select(["code", "central"])
    centroids = (
        territories.communes().select(["code", "x", "y"]).rename_columns(["commune", "cx", "cy"])
    )
    fit = pa.table({"naf": list(scope), "fit": [FIT[v] for v in scope.values()]})
    with fabric_link.scanning() as con:
        con.register("bands", bands)
        con.register("fits", fit)
        con.register("members", pa.table({"siren": pa.array(member_sirens, pa.string())}))
        con.register("commune_xy", centroids)
        source = f"read_parquet([{_quote([str(f) for f in files])}], union_by_name = true)"
        w = WEIGHTS
        sql = f"""
        WITH candidates AS (
            SELECT siret, siren, name, naf, commune, size_band, created, x, y
            FROM {source}
            WHERE commune IN ({_quote(communes)}) AND naf IN ({_quote(sorted(scope))})
              AND active AND valid_to IS NULL
            QUALIFY row_number() OVER (PARTITION BY siret ORDER BY valid_from DESC NULLS LAST) = 1
        ), scored AS (
            SELECT c.*,
                CASE WHEN b.central IS NULL THEN 0.1  -- least() would skip the NULL
                     ELSE least(1.0, ln(1 + b.central) / ln(251.0)) END AS size_score,
                f.fit AS sector_fit,
                sqrt(power(coalesce(c.x, xy.cx) - {cx}, 2) + power(coalesce(c.y, xy.cy) - {cy}, 2))
                    AS distance_m,
                CASE WHEN c.created IS NULL THEN 0.0
                     ELSE greatest(0.0, least(1.0,
                        (10.0 - date_diff('day', c.created, DATE '{on.isoformat()}') / 365.25)
                        / 7.0)) END AS recency
            FROM candidates c
            JOIN fits f USING (naf)
            LEFT JOIN bands b ON b.code = c.size_band
            LEFT JOIN commune_xy xy ON xy.commune = c.commune
            WHERE c.siren NOT IN (SELECT siren FROM members)
        ), ranked AS (
            SELECT *, coalesce(greatest(0.0, 1.0 - distance_m / {radius}), 0.0) AS proximity
            FROM scored
        )
        SELECT
            CAST(row_number() OVER (ORDER BY s DESC, siret) AS INTEGER) AS rang,
            siret, siren, name AS nom, naf, commune, size_band AS tranche_effectif,
            created AS creation, round(distance_m / 1000.0, 2) AS distance_km,
            round(s, 4) AS score, round(size_score, 4) AS size_score,
            round(sector_fit, 4) AS sector_fit, round(proximity, 4) AS proximity,
            round(recency, 4) AS recency
        FROM (
            SELECT *, {w["size_score"]} * size_score + {w["sector_fit"]} * sector_fit
                + {w["proximity"]} * proximity + {w["recency"]} * recency AS s
            FROM ranked
        )
        ORDER BY rang
        {f"LIMIT {int(limit)}" if limit else ""}
        """
        return con.sql(sql).to_arrow_table()


def write_prospects(table: pa.Table, path: Path) -> Path:
    """Write prospects to CSV (French spreadsheet dialect) or XLSX, by suffix, for a campaign."""
    formats = dict.fromkeys(("score", *WEIGHTS), "0.0000") | {"distance_km": "0.00"}
    return export.write(path, table, dialect=export.EXCEL_FR, number_formats=formats)
