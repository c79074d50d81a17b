"""The manager's page of a cluster's labels and governance: list, add a label or a seat holder, end one.

Every form comes back to the page; a refused value shows the page again with the reason. The
registry checks the manager on the cluster, and on each label or seat holder named by its id
(another tenant's is "introuvable", 404).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from grappe.errors import InputError
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import LabelIn, SeatHolderIn
from grappe.registry.memberships import service as memberships
from grappe.registry.models import BodyKind, LabelKind
from grappe.web.forms import Page, day_of, schema, shown, submitted
from grappe.web.manage.prologue import managed
from grappe.web.render import gettext, language_of
from grappe.web.unit import Visitor, as_page

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]


def _context(
    request: Request, cluster_id: int, session: Session, visitor: Visitor, error: str | None
) -> dict[str, Any]:
    """What the page shows: the cluster (labels, bodies) and its current members (seats name them)."""
    cluster = managed(request, session, visitor, cluster_id)
    members = memberships.all_members(session, visitor.actor, cluster_id, include_former=False)
    bodies = {body.kind.value: body for body in cluster.bodies}
    return {
        "cluster": cluster,
        "bodies": [(kind.value, bodies.get(kind.value)) for kind in BodyKind],
        "members": sorted({(m.organisation_id, m.name) for m in members}, key=lambda x: x[1].casefold()),
        "member_names": {m.organisation_id: m.name for m in members},
        "label_kinds": [kind.value for kind in LabelKind],
        "error": error,
    }


def _page(request: Request, cluster_id: int) -> Page:
    return "manage/governance.html", partial(_context, request, cluster_id)


@router.get("/gestion/{cluster_id:int}/gouvernance", response_class=HTMLResponse)
@as_page
def governance(request: Request, cluster_id: int) -> Response:
    """Labels (current and past) and governance bodies with their seat holders."""
    return shown(request, _page(request, cluster_id))


def _change(
    request: Request,
    cluster_id: int,
    csrf_token: str,
    change: Callable[[Session, Visitor], None],
) -> Response:
    """Run a form's change on the cluster, then back to the page; the page with the reason on a refusal."""

    def act(session: Session, visitor: Visitor) -> str:
        managed(request, session, visitor, cluster_id)  # another tenant's: refused
        change(session, visitor)
        return f"/gestion/{cluster_id}/gouvernance"

    return submitted(request, csrf_token, act, _page(request, cluster_id), refusals=(InputError,))


def _optional_day(label: str, raw: str) -> dt.date | None:
    """An optional date field: blank is none."""
    return day_of(label, raw) if raw.strip() else None


@router.post("/gestion/{cluster_id:int}/labels", response_class=HTMLResponse)
@as_page
def add_label(
    request: Request,
    cluster_id: int,
    kind: FormText = "",
    name: FormText = "",
    funder: FormText = "",
    phase: FormText = "",
    start: FormText = "",
    end: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Record a label period."""
    language = language_of(request)
    labels = {
        "kind": gettext(language, "Type de label"),
        "name": gettext(language, "Nom du label"),
        "funder": gettext(language, "Financeur"),
        "phase": gettext(language, "Phase"),
        "start": gettext(language, "Début"),
        "end": gettext(language, "Fin"),
    }

    def change(session: Session, visitor: Visitor) -> None:
        data = schema(
            LabelIn,
            labels,
            kind=kind,
            name=name.strip() or None,
            funder=funder.strip() or None,
            phase=phase.strip() or None,
            start=day_of(labels["start"], start),
            end=_optional_day(labels["end"], end),
        )
        clusters.add_label(session, visitor.actor, cluster_id, data)

    return _change(request, cluster_id, csrf_token, change)


@router.post("/gestion/{cluster_id:int}/labels/{label_id:int}/fin", response_class=HTMLResponse)
@as_page
def end_label(
    request: Request, cluster_id: int, label_id: int, end: FormText = "", csrf_token: FormText = ""
) -> Response:
    """Close a label period on a date."""
    label = gettext(language_of(request), "Fin du label")

    def change(session: Session, visitor: Visitor) -> None:
        clusters.end_label(session, visitor.actor, label_id, day_of(label, end))

    return _change(request, cluster_id, csrf_token, change)


def _body_kind(language: str, raw: str) -> BodyKind:
    try:
        return BodyKind(raw)
    except ValueError:
        message = gettext(language, "Instance « %(value)s » inconnue : attendu board ou bureau.")
        raise InputError(message % {"value": raw}) from None


@router.post("/gestion/{cluster_id:int}/instances/{kind}", response_class=HTMLResponse)
@as_page
def set_seats(
    request: Request, cluster_id: int, kind: str, seats: FormText = "", csrf_token: FormText = ""
) -> Response:
    """Create a governance body or change its number of seats."""
    language = language_of(request)

    def change(session: Session, visitor: Visitor) -> None:
        body = _body_kind(language, kind)
        if not seats.strip().isdigit():
            message = gettext(language, "« Nombre de sièges » : attendu un entier, pas « %(value)s ».")
            raise InputError(message % {"value": seats})
        clusters.set_seats(session, visitor.actor, cluster_id, body, int(seats))

    return _change(request, cluster_id, csrf_token, change)


@router.post("/gestion/{cluster_id:int}/instances/{kind}/titulaires", response_class=HTMLResponse)
@as_page
def add_holder(
    request: Request,
    cluster_id: int,
    kind: str,
    person: FormText = "",
    office: FormText = "",
    organisation_id: FormText = "",
    start: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Seat a person in a governance body."""
    language = language_of(request)
    labels = {
        "person": gettext(language, "Nom et prénom"),
        "office": gettext(language, "Fonction"),
        "organisation_id": gettext(language, "Organisation représentée"),
        "start": gettext(language, "Début du mandat"),
    }

    def change(session: Session, visitor: Visitor) -> None:
        data = schema(
            SeatHolderIn,
            labels,
            person=person.strip(),
            office=office.strip() or None,
            organisation_id=organisation_id.strip() or None,
            start=_optional_day(labels["start"], start),
        )
        clusters.add_seat_holder(session, visitor.actor, cluster_id, _body_kind(language, kind), data)

    return _change(request, cluster_id, csrf_token, change)


@router.post("/gestion/{cluster_id:int}/titulaires/{holder_id:int}/fin", response_class=HTMLResponse)
@as_page
def end_holder(
    request: Request, cluster_id: int, holder_id: int, end: FormText = "", csrf_token: FormText = ""
) -> Response:
    """End a seat holder's term on a date."""
    label = gettext(language_of(request), "Fin du mandat")

    def change(session: Session, visitor: Visitor) -> None:
        clusters.end_seat_holder(session, visitor.actor, holder_id, day_of(label, end))

    return _change(request, cluster_id, csrf_token, change)
