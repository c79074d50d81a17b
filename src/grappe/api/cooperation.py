"""Cooperation endpoints: links, collaborative projects and business between organisations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from grappe.api.deps import ERRORS, Id, Limit, Offset, Work, cluster_page
from grappe.cooperation import service
from grappe.cooperation.models import BusinessDeal, ProjectStatus
from grappe.cooperation.schemas import (
    BusinessVolume,
    CooperationFigures,
    DealIn,
    DealOut,
    DealPage,
    LinkAnswer,
    LinkEnd,
    LinkIn,
    LinkOut,
    LinkPage,
    NetworkPage,
    PartnerIn,
    ProjectIn,
    ProjectOut,
    ProjectPage,
    StatusIn,
)
from grappe.registry import bounds

router = APIRouter()

DealYear = Annotated[int | None, Query(), bounds.Year(bounds.ACCOUNTING, BusinessDeal.year)]
TAGS: list[str | Any] = ["coopération"]


@router.get("/clusters/{cluster_id}/cooperation/links", response_model=LinkPage, tags=TAGS, responses=ERRORS)
def list_links(*, work: Work, cluster_id: Id, limit: Limit = 100, offset: Offset = 0) -> LinkPage:
    """Liens de coopération d'une structure (un adhérent : les siens)."""
    return cluster_page(work, service.list_links, cluster_id, limit, offset)


@router.post(
    "/clusters/{cluster_id}/cooperation/links",
    response_model=LinkOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def declare_link(*, work: Work, cluster_id: Id, body: LinkIn) -> LinkOut:
    """Déclarer un lien (confirmé d'office par le gestionnaire, à confirmer s'il vient d'un adhérent)."""
    with work as (db, actor):
        return service.declare_link(db, actor, cluster_id, body)


@router.post("/cooperation/links/{link_id}/answer", response_model=LinkOut, tags=TAGS, responses=ERRORS)
def answer_link(*, work: Work, link_id: Id, body: LinkAnswer) -> LinkOut:
    """Confirmer ou refuser un lien déclaré par l'autre partie."""
    with work as (db, actor):
        return service.answer_link(db, actor, link_id, body)


@router.post("/cooperation/links/{link_id}/end", response_model=LinkOut, tags=TAGS, responses=ERRORS)
def end_link(*, work: Work, link_id: Id, body: LinkEnd) -> LinkOut:
    """Mettre fin à un lien à une date (défaut : aujourd'hui) : les gestionnaires de sa structure."""
    with work as (db, actor):
        return service.end_link(db, actor, link_id, body)


@router.get("/cooperation/projects", response_model=ProjectPage, tags=TAGS, responses=ERRORS)
def list_projects(
    *,
    work: Work,
    cluster_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    status: ProjectStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ProjectPage:
    """Projets collaboratifs lisibles (données ouvertes comprises), d'une structure au besoin."""
    with work as (db, actor):
        return service.list_projects(
            db, actor, cluster_id=cluster_id, status=status, limit=limit, offset=offset
        )


@router.post(
    "/clusters/{cluster_id}/cooperation/projects",
    response_model=ProjectOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def create_project(*, work: Work, cluster_id: Id, body: ProjectIn) -> ProjectOut:
    """Créer un projet collaboratif dans les dossiers d'une structure."""
    with work as (db, actor):
        return service.create_project(db, actor, cluster_id, body)


@router.get("/cooperation/projects/{project_id}", response_model=ProjectOut, tags=TAGS, responses=ERRORS)
def get_project(*, work: Work, project_id: Id) -> ProjectOut:
    """Un projet : partenaires, financements, étapes, résultats."""
    with work as (db, actor):
        return service.get_project(db, actor, project_id)


@router.post(
    "/cooperation/projects/{project_id}/status", response_model=ProjectOut, tags=TAGS, responses=ERRORS
)
def change_status(*, work: Work, project_id: Id, body: StatusIn) -> ProjectOut:
    """Faire avancer un projet dans son parcours (étape datée)."""
    with work as (db, actor):
        return service.change_status(db, actor, project_id, body)


@router.post(
    "/cooperation/projects/{project_id}/partners",
    response_model=ProjectOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def add_partner(*, work: Work, project_id: Id, body: PartnerIn) -> ProjectOut:
    """Ajouter un partenaire (organisation, ou partenaire non renseigné) à un projet."""
    with work as (db, actor):
        return service.add_partner(db, actor, project_id, body)


@router.delete(
    "/cooperation/projects/{project_id}/partners/{partner_id}",
    response_model=ProjectOut,
    tags=TAGS,
    responses=ERRORS,
)
def remove_partner(*, work: Work, project_id: Id, partner_id: Id) -> ProjectOut:
    """Retirer un partenaire d'un projet (les gestionnaires du projet) ; le projet tel qu'il reste."""
    with work as (db, actor):
        return service.remove_partner(db, actor, project_id, partner_id)


@router.get("/clusters/{cluster_id}/cooperation/deals", response_model=DealPage, tags=TAGS, responses=ERRORS)
def list_deals(
    *, work: Work, cluster_id: Id, year: DealYear = None, limit: Limit = 100, offset: Offset = 0
) -> DealPage:
    """Affaires entre organisations d'une structure (un adhérent : les siennes)."""
    return cluster_page(work, service.list_deals, cluster_id, limit, offset, year=year)


@router.post(
    "/clusters/{cluster_id}/cooperation/deals",
    response_model=DealOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def declare_deal(*, work: Work, cluster_id: Id, body: DealIn) -> DealOut:
    """Déclarer une affaire entre deux organisations."""
    with work as (db, actor):
        return service.declare_deal(db, actor, cluster_id, body)


@router.get(
    "/clusters/{cluster_id}/cooperation/business",
    response_model=BusinessVolume,
    tags=TAGS,
    responses=ERRORS,
)
def business_volume(*, work: Work, cluster_id: Id) -> BusinessVolume:
    """Volume annuel d'affaires et sa répartition (gestionnaires, financeurs)."""
    with work as (db, actor):
        return service.business_volume(db, actor, cluster_id)


@router.get(
    "/clusters/{cluster_id}/cooperation/figures",
    response_model=CooperationFigures,
    tags=TAGS,
    responses=ERRORS,
)
def cooperation_figures(*, work: Work, cluster_id: Id) -> CooperationFigures:
    """Chiffres de coopération : projets par statut, liens, affaires (gestionnaires, financeurs)."""
    with work as (db, actor):
        return service.cooperation_figures(db, actor, cluster_id)


Layers = Annotated[
    str | None,
    Query(
        max_length=60,
        description="Couches séparées par des virgules : projects, links, events, business "
        "(défaut : toutes).",
    ),
]
Start = Annotated[dt.date | None, Query(alias="from", description="Début de la période (AAAA-MM-JJ).")]
End = Annotated[dt.date | None, Query(alias="to", description="Fin de la période, incluse.")]
CompareTo = Annotated[
    int | None,
    Query(
        description="Année de comparaison : l'évolution du réseau depuis cette année civile "
        "(la période from/to est alors obligatoire)."
    ),
    bounds.Year(bounds.ACCOUNTING),
]
Order = Annotated[
    str,
    Query(
        max_length=30,
        description="Mesure de tri, décroissante : degree, weighted_degree, betweenness, "
        "eigenvector, coreness, community ; organisation : par nom.",
    ),
]
NetworkFormat = Literal["graphml", "gexf", "png", "svg"]


def _layers(text: str | None) -> list[str]:
    from grappe.cooperation.network import LAYERS

    if text is None:
        return list(LAYERS)
    return [part.strip() for part in text.split(",") if part.strip()]


@router.get(
    "/clusters/{cluster_id}/cooperation/network", response_model=NetworkPage, tags=TAGS, responses=ERRORS
)
def network_measures(
    *,
    work: Work,
    cluster_id: Id,
    layers: Layers = None,
    start: Start = None,
    end: End = None,
    compare_to: CompareTo = None,
    order: Order = "degree",
    limit: Limit = 100,
    offset: Offset = 0,
) -> NetworkPage:
    """Mesures du réseau de coopération d'une structure par organisation, son résumé (densité,
    composantes, cœur, dépendance) et, avec ``compare_to``, son évolution (gestionnaires)."""
    with work as (db, actor):
        return service.network_page(
            db,
            actor,
            cluster_id=cluster_id,
            layers=_layers(layers),
            start=start,
            end=end,
            compare_to=compare_to,
            order=order,
            limit=limit,
            offset=offset,
        )


@router.get(
    "/clusters/{cluster_id}/cooperation/network/{file_format}",
    response_class=Response,
    tags=TAGS,
    responses={
        **ERRORS,
        200: {
            "content": {
                "application/graphml+xml": {},
                "application/gexf+xml": {},
                "image/png": {},
                "image/svg+xml": {},
            },
            "description": "Le réseau en GraphML ou GEXF (avec ses mesures), ou son dessin en PNG ou SVG",
        },
    },
)
def network_file(
    *,
    work: Work,
    cluster_id: Id,
    file_format: NetworkFormat,
    layers: Layers = None,
    start: Start = None,
    end: End = None,
) -> Response:
    """Le réseau d'une structure à télécharger : GraphML, GEXF (Gephi), PNG ou SVG (gestionnaires)."""
    with work as (db, actor):
        content, media_type, name = service.network_file(
            db,
            actor,
            cluster_id=cluster_id,
            file_format=file_format,
            layers=_layers(layers),
            start=start,
            end=end,
        )
    disposition = "inline" if file_format in ("png", "svg") else "attachment"
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'{disposition}; filename="{name}"'}
    )
