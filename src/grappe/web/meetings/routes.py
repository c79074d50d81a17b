"""B2B meetings pages: parse the form -> partners.meetings service -> page.

Every page first asks the visitor to sign in; then the service checks the signed-in actor on
the event itself: its organisers (the cluster's managers) manage it, its participants read
their agenda and wishes, members of the organising or guest clusters register; another
tenant's event is "introuvable" (404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from grappe.errors import InputError, NotFoundError, PermissionDeniedError
from grappe.partners.meetings import service
from grappe.partners.meetings.agendas import clock, local_day
from grappe.partners.meetings.schemas import (
    MAX_PRIORITY,
    B2BEventOut,
    ParticipantIn,
    ParticipantOut,
    PublishIn,
    ScheduleIn,
    WishAnswer,
    WishIn,
)
from grappe.registry.models import Role
from grappe.registry.policy import Access, Actor
from grappe.web.forms import refusal, schema, submitted
from grappe.web.render import gettext, language_of
from grappe.web.unit import Visitor, as_page, show, unit

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
#: Suggestions shown beside the wish form.
SUGGESTIONS = 5


def _number(language: str, label: str, raw: str) -> int:
    """A whole number of a form."""
    text = raw.strip()
    if not text.isdigit():
        raise InputError(
            gettext(language, "« %(label)s » : nombre entier attendu") % {"label": label} + f" ({raw!r})"
        )
    return int(text)


def _show(request: Request, visitor: Visitor, template: str, context: dict[str, object]) -> Response:
    """A page with the event's local times (Paris)."""
    return show(request, visitor, template, {"clock": clock, "local_day": local_day, **context})


def _file(content: bytes, media_type: str, name: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _role(actor: Actor, event: B2BEventOut) -> Access:
    """What the page shows: the organiser's actions, or a participant's (READ), or the registration."""
    if actor.role is Role.ADMIN or (actor.role is Role.MANAGER and event.cluster_id in actor.managed):
        return Access.MANAGE
    return Access.SEE


@router.get("/rendez-vous", response_class=HTMLResponse)
@as_page
def events(request: Request) -> Response:
    """B2B events: those a member may register to or takes part in; a manager's clusters' events."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        actor = visitor.actor
        found: list[B2BEventOut] = []
        if actor.role is Role.MEMBER:
            found = service.list_events(session, actor, limit=500).items
        else:
            for cluster_id in sorted(actor.managed):
                found += service.list_events(session, actor, cluster_id, limit=500).items
    return _show(request, visitor, "meetings/list.html", {"events": found})


@router.get("/rendez-vous/{event_id:int}", response_class=HTMLResponse)
@as_page
def event_page(request: Request, event_id: int) -> Response:
    """An event: the registration form, or the participant's wishes with suggestions, or the
    organiser's participants and wishes."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        actor = visitor.actor
        event = service.get_event(session, actor, event_id)
        access = _role(actor, event)
        context: dict[str, object] = {"event": event, "organiser": access is Access.MANAGE}
        registered = access is Access.MANAGE or (
            actor.organisation_id is not None
            and any(
                p.organisation_id == actor.organisation_id
                for p in _participants_or_none(session, actor, event_id)
            )
        )
        context["registered"] = registered
        if registered:
            context["participants"] = service.list_participants(session, actor, event_id, limit=500).items
            context["wishes"] = service.list_wishes(session, actor, event_id, limit=500).items
            context["suggestions"] = (
                []
                if access is Access.MANAGE
                else service.suggestions(session, actor, event_id, top=SUGGESTIONS).items
            )
        context["priorities"] = list(range(1, MAX_PRIORITY + 1))
        context["mine"] = actor.organisation_id
    return _show(request, visitor, "meetings/event.html", context)


def _participants_or_none(session: Session, actor: Actor, event_id: int) -> list[ParticipantOut]:
    """The participants a visitor may read: none when it is not one yet (it may register)."""
    try:
        return service.list_participants(session, actor, event_id, limit=500).items
    except PermissionDeniedError:
        return []


@router.post("/rendez-vous/{event_id:int}/inscription")
@as_page
def register(
    request: Request,
    event_id: int,
    slot: Annotated[list[str] | None, Form()] = None,
    csrf_token: FormText = "",
) -> Response:
    """Register the visitor's organisation with the slots it cannot attend."""
    language = language_of(request)

    def act(session: Session, visitor: Visitor) -> str:
        label = gettext(language, "Créneaux où vous êtes indisponible")
        slots = [_number(language, label, s) for s in slot or []]
        data = schema(ParticipantIn, {"unavailable_slots": label}, unavailable_slots=slots)
        service.register(session, visitor.actor, event_id, data)
        return f"/rendez-vous/{event_id}"

    return submitted(request, csrf_token, act)


@router.post("/rendez-vous/{event_id:int}/souhaits")
@as_page
def add_wish(
    request: Request,
    event_id: int,
    to: FormText = "",
    priority: FormText = "1",
    source: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Wish to meet a participant (the organiser names the wishing participant)."""
    language = language_of(request)
    labels = {
        "to_organisation_id": gettext(language, "Participant à rencontrer"),
        "priority": gettext(language, "Priorité"),
        "from_organisation_id": gettext(language, "Participant qui souhaite"),
    }

    def act(session: Session, visitor: Visitor) -> str:
        data = schema(
            WishIn,
            labels,
            to_organisation_id=_number(language, labels["to_organisation_id"], to),
            priority=_number(language, labels["priority"], priority),
            from_organisation_id=_number(language, labels["from_organisation_id"], source)
            if source
            else None,
        )
        service.add_wish(session, visitor.actor, event_id, data)
        return f"/rendez-vous/{event_id}"

    return submitted(request, csrf_token, act)


@router.post("/rendez-vous/{event_id:int}/souhaits/{wish_id:int}/reponse")
@as_page
def answer_wish(
    request: Request, event_id: int, wish_id: int, accept: FormText = "", csrf_token: FormText = ""
) -> Response:
    """Accept or refuse a wish received."""

    def act(session: Session, visitor: Visitor) -> str:
        service.answer_wish(session, visitor.actor, event_id, wish_id, WishAnswer(accept=accept == "1"))
        return f"/rendez-vous/{event_id}"

    return submitted(request, csrf_token, act)


@router.get("/rendez-vous/{event_id:int}/agenda", response_class=HTMLResponse)
@as_page
def agenda(request: Request, event_id: int) -> Response:
    """The visitor's agenda (the organiser: the participant named by ``organisation``)."""
    language = language_of(request)
    raw = request.query_params.get("organisation", "")
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        organisation = _number(language, "organisation", raw) if raw else None
        event = service.get_event(session, visitor.actor, event_id)
        found = service.agenda(session, visitor.actor, event_id, organisation)
    query = f"?organisation={organisation}" if organisation else ""
    return _show(request, visitor, "meetings/agenda.html", {"event": event, "agenda": found, "query": query})


@router.get("/rendez-vous/{event_id:int}/agenda.{suffix}")
@as_page
def agenda_file(request: Request, event_id: int, suffix: str) -> Response:
    """The visitor's agenda as PDF or ICS."""
    language = language_of(request)
    raw = request.query_params.get("organisation", "")
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        if suffix not in {"pdf", "ics"}:
            raise NotFoundError(gettext(language, "Page introuvable"))
        organisation = _number(language, "organisation", raw) if raw else None
        if suffix == "pdf":
            content = service.agenda_pdf(session, visitor.actor, event_id, organisation)
            return _file(content, "application/pdf", f"agenda-{event_id}.pdf")
        content = service.agenda_ics(session, visitor.actor, event_id, organisation)
    return _file(content, "text/calendar; charset=utf-8", f"agenda-{event_id}.ics")


@router.get("/rendez-vous/{event_id:int}/plan", response_class=HTMLResponse)
@as_page
def plan(request: Request, event_id: int) -> Response:
    """The organiser's page: scheduling, publication and the table plan."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        event, meetings = service.table_plan(session, visitor.actor, event_id)
        participants = service.list_participants(session, visitor.actor, event_id, limit=500).items
    by_slot: dict[int, list[object]] = {}
    for meeting in meetings:
        by_slot.setdefault(meeting.slot, []).append(meeting)
    context = {"event": event, "slots": sorted(by_slot.items()), "participants": participants}
    return _show(request, visitor, "meetings/plan.html", context)


@router.get("/rendez-vous/{event_id:int}/plan.{suffix}")
@as_page
def plan_file(request: Request, event_id: int, suffix: str) -> Response:
    """The table plan as PDF (to print) or CSV (for programs)."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        content = service.table_plan_file(session, visitor.actor, event_id, suffix)
    media = "application/pdf" if suffix == "pdf" else "text/csv; charset=utf-8"
    return _file(content, media, f"plan-de-tables-{event_id}.{suffix}")


@router.post("/rendez-vous/{event_id:int}/planification")
@as_page
def schedule(
    request: Request, event_id: int, method: FormText = "optimal", csrf_token: FormText = ""
) -> Response:
    """Schedule the accepted wishes (replaces the stored schedule)."""
    language = language_of(request)

    def act(session: Session, visitor: Visitor) -> str:
        data = schema(ScheduleIn, {"method": gettext(language, "Méthode")}, method=method)
        service.schedule(session, visitor.actor, event_id, data)
        return f"/rendez-vous/{event_id}/plan"

    return submitted(request, csrf_token, act)


@router.post("/rendez-vous/{event_id:int}/publication")
@as_page
def publish(
    request: Request, event_id: int, published: FormText = "1", csrf_token: FormText = ""
) -> Response:
    """Publish the schedule to the participants (or withdraw it)."""

    def act(session: Session, visitor: Visitor) -> str:
        service.publish(session, visitor.actor, event_id, PublishIn(published=published == "1"))
        return f"/rendez-vous/{event_id}/plan"

    return submitted(request, csrf_token, act)
