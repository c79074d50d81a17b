"""Registry pages: parse the query -> registry service -> page."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from grappe.errors import InputError
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import DirectoryPage
from grappe.registry.models import LabelKind
from grappe.web import maps
from grappe.web.forms import page_number
from grappe.web.i18n import Formatter
from grappe.web.render import gettext, language_of
from grappe.web.unit import as_page, show, unit

router = APIRouter(include_in_schema=False)

#: Cluster organisations per directory page.
PAGE_SIZE = 20
#: The directory's filters, as named in the URL (those of the API's /directory).
FILTERS = ("label", "region", "sector", "size")


@router.get("/annuaire", response_class=HTMLResponse)
@as_page
def directory(request: Request) -> Response:
    """The directory: filters, sorting and pagination kept in the URL, rendered on the server."""
    query = request.query_params
    filters = {name: query.get(name, "").strip() for name in FILTERS}
    sort = query.get("sort", "name") or "name"
    error = None
    with unit(request) as (session, visitor):
        try:
            number = page_number(query.get("page"))
            result = clusters.directory(
                session,
                visitor.actor,
                label=filters["label"] or None,
                region=filters["region"] or None,
                sector=filters["sector"] or None,
                size=filters["size"] or None,
                sort=sort,
                limit=PAGE_SIZE,
                offset=(number - 1) * PAGE_SIZE,
            )
        except InputError as exc:
            error, number, result = str(exc), 1, DirectoryPage(total=0, items=[])
    pages = max(1, math.ceil(result.total / PAGE_SIZE))
    view = urlencode({name: value for name, value in filters.items() if value})
    context = {
        "map": maps.context("/annuaire/carte.geojson" + (f"?{view}" if view else "")),
        "filters": filters,
        "sort": sort,
        "result": result,
        "page_number": number,
        "pages": pages,
        "error": error,
        "regions": clusters.region_names(),
        "label_kinds": [kind.value for kind in LabelKind],
        "sizes": list(clusters.SIZE_CLASSES.items()),
    }
    return show(request, visitor, "registry/directory.html", context, status_code=422 if error else 200)


@router.get("/structures/{cluster_id:int}", response_class=HTMLResponse)
@as_page
def cluster_profile(request: Request, cluster_id: int) -> Response:
    """A cluster organisation's public profile."""
    with unit(request) as (session, visitor):
        profile = clusters.cluster_profile(session, visitor.actor, cluster_id)
    return show(request, visitor, "registry/cluster.html", {"cluster": profile})


@router.get("/annuaire/carte.geojson")
@as_page
def directory_map(request: Request) -> Response:
    """The directory's map: one point per cluster organisation the URL's filters keep, at the
    centre of its territories; its area grows with its members."""
    query = request.query_params
    label, region, sector, size = (query.get(name, "").strip() or None for name in FILTERS)
    with unit(request) as (session, visitor):
        places = clusters.directory_places(
            session, visitor.actor, label=label, region=region, sector=sector, size=size
        )
    language = language_of(request)
    fmt = Formatter(language)
    tooltip = gettext(language, "%(name)s : %(members)s adhérent(s)")
    features = []
    for place in places:
        located = maps.centre((t.level.value, t.code) for t in place.territories)
        if located is None:
            continue  # a territory without located communes has no place on the map
        name = f"{place.name} ({place.acronym})" if place.acronym else place.name
        features.append(
            maps.feature(
                *located,
                mass=float(max(place.member_count, 1)),
                strong=False,
                label=tooltip % {"name": name, "members": fmt.number(place.member_count)},
                href=f"/structures/{place.id}",
            )
        )
    return maps.geojson(features, private=False)
