"""Routes of cluster organisations: the public directory, profiles, labels, funding, governance."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from grappe.api.cache import GenerationCache
from grappe.api.deps import ERRORS, Id, Limit, Offset, Work, checked_text
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import (
    BodyIn,
    BodyOut,
    ClusterCreate,
    ClusterOut,
    ClusterPage,
    ClusterUpdate,
    DirectoryPage,
    FundingIn,
    FundingOut,
    LabelIn,
    LabelOut,
)

router = APIRouter()


@router.get("/directory", response_model=DirectoryPage, tags=["annuaire"], responses=ERRORS)
def directory(
    *,
    request: Request,
    work: Work,
    label: Annotated[str | None, Query(max_length=200)] = None,
    region: Annotated[str | None, Query(max_length=3)] = None,
    sector: Annotated[str | None, Query(max_length=10)] = None,
    size: Literal["petit", "moyen", "grand"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    """Annuaire public des structures, filtré par label, région, secteur NAF et taille."""
    label = checked_text(label, "label", 200)
    region, sector = checked_text(region, "region"), checked_text(sector, "sector")
    # The page depends on the filters and on the day (labels are held over periods); it is
    # valid until the next write anywhere in the registry (see grappe.registry.generation).
    today = dt.date.today()
    key = (label, region, sector, size, limit, offset, today)
    cache: GenerationCache[bytes] = request.app.state.directory
    with work as (db, actor):
        body = cache.get(key, work.generation)
        if body is None:
            page = clusters.directory(
                db,
                actor,
                label=label,
                region=region,
                sector=sector,
                size=size,
                on=today,
                limit=limit,
                offset=offset,
            )
            body = page.model_dump_json().encode()
            cache.put(key, work.generation, body)
    return Response(body, media_type="application/json")


@router.get("/clusters", response_model=ClusterPage, tags=["structures"], responses=ERRORS)
def list_clusters(work: Work, limit: Limit = 100, offset: Offset = 0) -> ClusterPage:
    """Structures dont l'utilisateur peut lire les données privées."""
    with work as (db, actor):
        return clusters.list_clusters(db, actor, limit=limit, offset=offset)


@router.post("/clusters", response_model=ClusterOut, status_code=201, tags=["structures"], responses=ERRORS)
def create_cluster(work: Work, body: ClusterCreate) -> ClusterOut:
    """Créer une structure (administrateur)."""
    with work as (db, actor):
        return clusters.create_cluster(db, actor, body)


@router.get("/clusters/{cluster_id}", response_model=ClusterOut, tags=["structures"], responses=ERRORS)
def get_cluster(work: Work, cluster_id: Id) -> ClusterOut:
    """Fiche complète d'une structure."""
    with work as (db, actor):
        return clusters.get_cluster(db, actor, cluster_id)


@router.patch("/clusters/{cluster_id}", response_model=ClusterOut, tags=["structures"], responses=ERRORS)
def update_cluster(work: Work, cluster_id: Id, body: ClusterUpdate) -> ClusterOut:
    """Modifier une structure (verrouillage optimiste : `version` lue ; 409 si périmée)."""
    with work as (db, actor):
        return clusters.update_cluster(db, actor, cluster_id, body)


@router.post(
    "/clusters/{cluster_id}/labels",
    response_model=LabelOut,
    status_code=201,
    tags=["structures"],
    responses=ERRORS,
)
def add_label(work: Work, cluster_id: Id, body: LabelIn) -> LabelOut:
    """Ajouter une période de label."""
    with work as (db, actor):
        return clusters.add_label(db, actor, cluster_id, body)


@router.put(
    "/clusters/{cluster_id}/fundings",
    response_model=FundingOut,
    tags=["structures"],
    responses=ERRORS,
)
def set_funding(work: Work, cluster_id: Id, body: FundingIn) -> FundingOut:
    """Déclarer le financement d'une année par source (et financeur)."""
    with work as (db, actor):
        return clusters.set_funding(db, actor, cluster_id, body)


@router.put(
    "/clusters/{cluster_id}/governance",
    response_model=BodyOut,
    tags=["structures"],
    responses=ERRORS,
)
def set_body(work: Work, cluster_id: Id, body: BodyIn) -> BodyOut:
    """Fixer une instance de gouvernance (conseil, bureau) et ses titulaires."""
    with work as (db, actor):
        return clusters.set_body(db, actor, cluster_id, body)
