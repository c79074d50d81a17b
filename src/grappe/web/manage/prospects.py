"""The manager's prospects: fabric establishments its cluster could recruit, as a table, a map and a file.

The ranking is the registry's (:mod:`grappe.registry.prospects`, scored and documented there);
this page pages it, filters it by commune (kept in the URL), places it on the map (one circle
per commune) and exports the current view.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from grappe.kit import export
from grappe.registry import prospects as ranking
from grappe.registry.clusters.schemas import ClusterOut
from grappe.web import maps
from grappe.web.forms import page_number
from grappe.web.i18n import DEFAULT, Formatter
from grappe.web.manage.prologue import managed
from grappe.web.render import gettext, language_of
from grappe.web.unit import Visitor, as_page, show, unit

if TYPE_CHECKING:
    import pyarrow as pa

router = APIRouter(include_in_schema=False)

#: Prospects per page of the table.
PAGE_SIZE = 25
#: A commune's circle is filled when it holds one of the best ``TOP`` prospects.
TOP = 10
EXPORT_FORMATS: dict[str, export.FileFormat] = {"csv": "csv-excel", "xlsx": "xlsx"}


def _ranked(request: Request, cluster_id: int) -> tuple[Visitor, ClusterOut, pa.Table, str]:
    """The signed-in manager, its cluster, the ranked prospects of the URL's commune, the commune."""
    import pyarrow.compute as pc

    commune = request.query_params.get("commune", "").strip()
    with unit(request) as (session, visitor):
        cluster = managed(request, session, visitor, cluster_id)
        table = ranking.prospects(session, visitor.actor, cluster_id)
    if commune:
        table = table.filter(pc.equal(table["commune"], commune))
    return visitor, cluster, table, commune


def band_labels(language: str) -> dict[str, str]:
    """Each SIRENE headcount band code (``41``) as people read it (``500 à 999 salariés``):
    the reference table's French label, or its bounds written in the page's language."""
    from grappe.refdata import sizes

    fmt = Formatter(language)
    labels = {}
    for band in sizes.size_bands().to_pylist():
        values = {"low": fmt.number(band["low"]), "high": fmt.number(band["high"])}
        if language == DEFAULT:
            label = band["label"]
        elif not band["known"]:
            label = gettext(language, "effectif inconnu ou sans salarié")
        elif band["high"] == 0:
            label = gettext(language, "0 salarié")
        elif band["high"] == sizes.OPEN_BAND_HIGH:
            label = gettext(language, "%(low)s salariés et plus") % values
        else:
            label = gettext(language, "%(low)s à %(high)s salariés") % values
        labels[band["code"]] = label
    return labels


@router.get("/gestion/{cluster_id:int}/prospects", response_class=HTMLResponse)
@as_page
def prospects(request: Request, cluster_id: int) -> Response:
    """The ranked prospects: a map of their communes and a page of the table; commune and page in the URL."""
    visitor, cluster, table, commune = _ranked(request, cluster_id)
    number = page_number(request.query_params.get("page"))
    pages = max(1, math.ceil(table.num_rows / PAGE_SIZE))
    rows = table.slice((number - 1) * PAGE_SIZE, PAGE_SIZE).to_pylist()
    query = urlencode({"commune": commune}) if commune else ""
    base = f"/gestion/{cluster_id}/prospects"
    context = {
        "cluster": cluster,
        "rows": rows,
        "bands": band_labels(language_of(request)),
        "total": table.num_rows,
        "commune": commune,
        "page_number": number,
        "pages": pages,
        "query": f"?{query}" if query else "",
        "map": maps.context(f"{base}/carte.geojson"),
    }
    return show(request, visitor, "manage/prospects.html", context)


@router.get("/gestion/{cluster_id:int}/prospects/carte.geojson")
@as_page
def prospects_map(request: Request, cluster_id: int) -> Response:
    """One point per commune of the prospects: their number, filled when one is among the best."""
    _, _, table, _ = _ranked(request, cluster_id)
    language = language_of(request)
    fmt = Formatter(language)
    tooltip = gettext(language, "%(name)s (%(code)s) : %(count)s prospect(s)")
    by_commune: dict[str, dict[str, Any]] = {}
    for row in table.select(["rank", "commune", "commune_name"]).to_pylist():
        if row["commune"] is None:
            continue
        place = by_commune.setdefault(
            row["commune"], {"name": row["commune_name"], "count": 0, "best": row["rank"]}
        )
        place["count"] += 1
        place["best"] = min(place["best"], row["rank"])
    features = []
    for code, place in by_commune.items():
        located = maps.centroids("commune").get(code)
        if located is None:
            continue
        label = tooltip % {"name": place["name"] or code, "code": code, "count": fmt.number(place["count"])}
        features.append(
            maps.feature(
                *located,
                mass=float(place["count"]),
                strong=place["best"] <= TOP,
                label=label,
                href=f"/gestion/{cluster_id}/prospects?{urlencode({'commune': code})}",
            )
        )
    return maps.geojson(features, private=True)


@router.get("/gestion/{cluster_id:int}/prospects.{suffix}")
@as_page
def export_prospects(request: Request, cluster_id: int, suffix: Literal["csv", "xlsx"]) -> Response:
    """The current view of the prospects (the URL's commune, every page) as CSV or XLSX."""
    _, _, table, _ = _ranked(request, cluster_id)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / f"prospects.{suffix}"
        path = ranking.write_prospects(table, target, format=EXPORT_FORMATS[suffix])
        content = path.read_bytes()
    return Response(
        content,
        media_type=export.MEDIA_TYPES[EXPORT_FORMATS[suffix]],
        headers={
            "content-disposition": f'attachment; filename="prospects-{cluster_id}.{suffix}"',
            "cache-control": "no-store",
        },
    )
