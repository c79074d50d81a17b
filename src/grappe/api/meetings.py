"""B2B meetings endpoints (rendez-vous d'affaires): events, registrations, wishes, schedule,
agendas (JSON, PDF, ICS) and the organiser's table plan (PDF, CSV)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from grappe.api.deps import ERRORS, Id, Limit, Offset, QueryId, Work
from grappe.partners.meetings import service
from grappe.partners.meetings.schemas import (
    Agenda,
    B2BEventIn,
    B2BEventOut,
    B2BEventPage,
    GuestIn,
    MeetingPage,
    ParticipantIn,
    ParticipantOut,
    ParticipantPage,
    PublishIn,
    ScheduleIn,
    ScheduleOut,
    SuggestionPage,
    UnavailableIn,
    WishAnswer,
    WishIn,
    WishOut,
    WishPage,
)

router = APIRouter()

TAGS: list[str | Any] = ["rendez-vous d'affaires"]
Top = Annotated[int, Query(ge=1, le=25, description="Suggestions au plus.")]
TopOffset = Annotated[int, Query(ge=0, le=25)]
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "Fichier PDF"}
}


def _file(content: bytes, media_type: str, name: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/b2b-events", response_model=B2BEventPage, tags=TAGS, responses=ERRORS)
def list_events(
    *, work: Work, cluster_id: QueryId = None, limit: Limit = 100, offset: Offset = 0
) -> B2BEventPage:
    """Rendez-vous d'affaires d'une structure (ses gestionnaires) ; un adhérent sans
    ``cluster_id`` : ceux auxquels son organisation peut s'inscrire ou participe."""
    with work as (db, actor):
        return service.list_events(db, actor, cluster_id, limit=limit, offset=offset)


@router.post(
    "/clusters/{cluster_id}/b2b-events",
    response_model=B2BEventOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def create_event(*, work: Work, cluster_id: Id, body: B2BEventIn) -> B2BEventOut:
    """Organiser des rendez-vous d'affaires : créneaux, tables, rendez-vous par participant au plus."""
    with work as (db, actor):
        return service.create_event(db, actor, cluster_id, body)


@router.get("/b2b-events/{event_id}", response_model=B2BEventOut, tags=TAGS, responses=ERRORS)
def get_event(*, work: Work, event_id: Id) -> B2BEventOut:
    """Un rendez-vous d'affaires, ses participants et la qualité de son planning."""
    with work as (db, actor):
        return service.get_event(db, actor, event_id)


@router.post("/b2b-events/{event_id}/guests", response_model=B2BEventOut, tags=TAGS, responses=ERRORS)
def add_guest(*, work: Work, event_id: Id, body: GuestIn) -> B2BEventOut:
    """Ouvrir le rendez-vous aux adhérents d'une autre structure (interclustering)."""
    with work as (db, actor):
        return service.add_guest_cluster(db, actor, event_id, body)


@router.get(
    "/b2b-events/{event_id}/participants", response_model=ParticipantPage, tags=TAGS, responses=ERRORS
)
def list_participants(*, work: Work, event_id: Id, limit: Limit = 100, offset: Offset = 0) -> ParticipantPage:
    """Participants (un participant : les noms, et ses propres indisponibilités)."""
    with work as (db, actor):
        return service.list_participants(db, actor, event_id, limit=limit, offset=offset)


@router.post(
    "/b2b-events/{event_id}/participants",
    response_model=ParticipantOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def register(*, work: Work, event_id: Id, body: ParticipantIn) -> ParticipantOut:
    """S'inscrire (un adhérent, pour son organisation) ou inscrire une organisation (organisateur)."""
    with work as (db, actor):
        return service.register(db, actor, event_id, body)


@router.put(
    "/b2b-events/{event_id}/participants/{organisation_id}/unavailable",
    response_model=ParticipantOut,
    tags=TAGS,
    responses=ERRORS,
)
def set_unavailable(*, work: Work, event_id: Id, organisation_id: Id, body: UnavailableIn) -> ParticipantOut:
    """Déclarer les créneaux où un participant est indisponible (remplace les précédents)."""
    with work as (db, actor):
        return service.set_unavailable(db, actor, event_id, organisation_id, body)


@router.get("/b2b-events/{event_id}/wishes", response_model=WishPage, tags=TAGS, responses=ERRORS)
def list_wishes(*, work: Work, event_id: Id, limit: Limit = 100, offset: Offset = 0) -> WishPage:
    """Souhaits de rendez-vous (un participant : ceux qu'il a émis ou reçus)."""
    with work as (db, actor):
        return service.list_wishes(db, actor, event_id, limit=limit, offset=offset)


@router.post(
    "/b2b-events/{event_id}/wishes", response_model=WishOut, status_code=201, tags=TAGS, responses=ERRORS
)
def add_wish(*, work: Work, event_id: Id, body: WishIn) -> WishOut:
    """Souhaiter rencontrer un participant (accepté d'office s'il est réciproque)."""
    with work as (db, actor):
        return service.add_wish(db, actor, event_id, body)


@router.post(
    "/b2b-events/{event_id}/wishes/{wish_id}/answer", response_model=WishOut, tags=TAGS, responses=ERRORS
)
def answer_wish(*, work: Work, event_id: Id, wish_id: Id, body: WishAnswer) -> WishOut:
    """Accepter ou refuser un souhait reçu."""
    with work as (db, actor):
        return service.answer_wish(db, actor, event_id, wish_id, body)


@router.get("/b2b-events/{event_id}/suggestions", response_model=SuggestionPage, tags=TAGS, responses=ERRORS)
def suggestions(
    *, work: Work, event_id: Id, organisation_id: QueryId = None, limit: Top = 5, offset: TopOffset = 0
) -> SuggestionPage:
    """Participants que la recherche de partenaires suggère de rencontrer, les meilleurs
    d'abord, avec leurs raisons (50 au plus en tout)."""
    with work as (db, actor):
        found = service.suggestions(db, actor, event_id, organisation_id, top=limit + offset)
    return SuggestionPage(total=found.total, items=found.items[offset:])


@router.post("/b2b-events/{event_id}/schedule", response_model=ScheduleOut, tags=TAGS, responses=ERRORS)
def schedule(*, work: Work, event_id: Id, body: ScheduleIn) -> ScheduleOut:
    """Planifier les souhaits acceptés (solveur comparé au glouton) ; remplace le planning précédent."""
    with work as (db, actor):
        return service.schedule(db, actor, event_id, body)


@router.put("/b2b-events/{event_id}/publication", response_model=B2BEventOut, tags=TAGS, responses=ERRORS)
def publish(*, work: Work, event_id: Id, body: PublishIn) -> B2BEventOut:
    """Publier le planning aux participants (ou le retirer)."""
    with work as (db, actor):
        return service.publish(db, actor, event_id, body)


@router.get("/b2b-events/{event_id}/meetings", response_model=MeetingPage, tags=TAGS, responses=ERRORS)
def list_meetings(*, work: Work, event_id: Id, limit: Limit = 100, offset: Offset = 0) -> MeetingPage:
    """Rendez-vous planifiés (un participant : les siens, une fois publiés)."""
    with work as (db, actor):
        return service.list_meetings(db, actor, event_id, limit=limit, offset=offset)


@router.get("/b2b-events/{event_id}/agenda", response_model=Agenda, tags=TAGS, responses=ERRORS)
def agenda(*, work: Work, event_id: Id, organisation_id: QueryId = None) -> Agenda:
    """L'agenda d'un participant (le sien ; l'organisateur : celui qu'il nomme)."""
    with work as (db, actor):
        return service.agenda(db, actor, event_id, organisation_id)


@router.get(
    "/b2b-events/{event_id}/agenda.pdf", response_class=Response, tags=TAGS, responses={**ERRORS, **PDF}
)
def agenda_pdf(*, work: Work, event_id: Id, organisation_id: QueryId = None) -> Response:
    """L'agenda d'un participant en PDF."""
    with work as (db, actor):
        content = service.agenda_pdf(db, actor, event_id, organisation_id)
    return _file(content, "application/pdf", f"agenda-{event_id}.pdf")


@router.get(
    "/b2b-events/{event_id}/agenda.ics",
    response_class=Response,
    tags=TAGS,
    responses={**ERRORS, 200: {"content": {"text/calendar": {}}, "description": "Fichier iCalendar"}},
)
def agenda_ics(*, work: Work, event_id: Id, organisation_id: QueryId = None) -> Response:
    """L'agenda d'un participant au format iCalendar (ICS)."""
    with work as (db, actor):
        content = service.agenda_ics(db, actor, event_id, organisation_id)
    return _file(content, "text/calendar; charset=utf-8", f"agenda-{event_id}.ics")


@router.get(
    "/b2b-events/{event_id}/agendas.pdf", response_class=Response, tags=TAGS, responses={**ERRORS, **PDF}
)
def all_agendas(*, work: Work, event_id: Id) -> Response:
    """Les agendas de tous les participants, une page chacun (l'organisateur)."""
    with work as (db, actor):
        content = service.all_agendas_pdf(db, actor, event_id)
    return _file(content, "application/pdf", f"agendas-{event_id}.pdf")


@router.get(
    "/b2b-events/{event_id}/table-plan.{suffix}",
    response_class=Response,
    tags=TAGS,
    responses={**ERRORS, 200: {"content": {"application/pdf": {}, "text/csv": {}}, "description": "Fichier"}},
)
def table_plan(*, work: Work, event_id: Id, suffix: Literal["pdf", "csv"]) -> Response:
    """Le plan de tables (par créneau, table → paire) en PDF ou en CSV (l'organisateur)."""
    with work as (db, actor):
        content = service.table_plan_file(db, actor, event_id, suffix)
    media = "application/pdf" if suffix == "pdf" else "text/csv; charset=utf-8"
    return _file(content, media, f"plan-de-tables-{event_id}.{suffix}")
