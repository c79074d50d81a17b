"""A funder user's pages: the clusters it funds, their key figures and funding mix, as charts and tables.

The registry's policy decides what a funder reads: the clusters it funds (a label it grants or a
funding line from it) and their private figures; any other cluster is refused, or "introuvable"
when it is not public.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import ClusterOut
from grappe.registry.fees import figures
from grappe.web.forms import signed_in
from grappe.web.manage import chart
from grappe.web.unit import as_page, show, unit

router = APIRouter(include_in_schema=False)


def funding_mix(cluster: ClusterOut) -> tuple[int | None, dict[str, Decimal], Decimal]:
    """The latest year with funding, its amounts by source and their total."""
    if not cluster.fundings:
        return None, {}, Decimal(0)
    year = max(line.year for line in cluster.fundings)
    by_source: dict[str, Decimal] = defaultdict(Decimal)
    for line in cluster.fundings:
        if line.year == year:
            by_source[line.source.value] += line.amount_eur
    return year, dict(sorted(by_source.items())), sum(by_source.values(), Decimal(0))


@router.get("/financeur", response_class=HTMLResponse)
@as_page
def home(request: Request) -> Response:
    """The funded clusters with their key figures, and their members as a chart."""
    with unit(request) as (session, visitor):
        signed_in(request, visitor)
        funded = clusters.funded_clusters(session, visitor.actor)
        rows: list[dict[str, Any]] = []
        for summary in funded:
            key = figures.key_figures(session, visitor.actor, summary.id)
            year, mix, total = funding_mix(clusters.get_cluster(session, visitor.actor, summary.id))
            rows.append({"cluster": summary, "figures": key, "year": year, "mix": mix, "total": total})
    context = {
        "rows": rows,
        "chart": chart.bars([(row["cluster"].acronym or row["cluster"].name[:12], row["figures"].members)
                             for row in rows]),
    }
    return show(request, visitor, "funder/home.html", context)


@router.get("/financeur/structures/{cluster_id:int}", response_class=HTMLResponse)
@as_page
def cluster_figures(request: Request, cluster_id: int) -> Response:
    """One funded cluster: key figures, members over the years as a chart, every funding line."""
    with unit(request) as (session, visitor):
        signed_in(request, visitor)
        cluster = clusters.get_cluster(session, visitor.actor, cluster_id)
        key = figures.key_figures(session, visitor.actor, cluster_id)
    year, mix, total = funding_mix(cluster)
    context = {
        "cluster": cluster,
        "figures": key,
        "year": year,
        "mix": mix,
        "total": total,
        "fundings": sorted(cluster.fundings, key=lambda f: (-f.year, f.source.value, f.funder or "")),
        "chart": chart.bars([(str(f.year), f.members_at_end) for f in key.flows]),
    }
    return show(request, visitor, "funder/cluster.html", context)
