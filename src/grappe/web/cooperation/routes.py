"""Cooperation pages: projects, events and registrations, business between members, the network.

Parse the URL or the form -> cooperation service -> page. Every page first asks the visitor to
sign in; the services then check the signed-in actor on each object: a member reads its own
deals, its cluster's public events and the projects it may read (confidential ones stay with
their partners and the managers), a funder the figures of the clusters it funds, a manager its
cluster's records and network; another tenant's object is "introuvable" (404).
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from grappe.cooperation import network, service
from grappe.cooperation.actions import service as actions
from grappe.cooperation.actions.schemas import LOCAL_TIME, BookingIn, EquipmentIn, EventIn, RegistrationIn
from grappe.cooperation.models import DealKind, LinkKind, ProjectStatus
from grappe.cooperation.schemas import DealIn, LinkEnd, LinkIn, PartnerIn, ProjectIn, StatusIn
from grappe.errors import ConflictError, InputError, PermissionDeniedError
from grappe.kit import export
from grappe.kit.present import LABELS
from grappe.kit.repository import not_found
from grappe.registry.clusters import service as clusters
from grappe.registry.memberships import service as memberships
from grappe.registry.models import Role
from grappe.web.forms import amount_of, day_of, moment_of, page_number, refusal, schema
from grappe.web.render import gettext, language_of
from grappe.web.unit import Visitor, as_page, show, unit

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
FormList = Annotated[list[str] | None, Form()]
#: Rows per page of the lists.
PAGE_SIZE = 25
#: The measures table's columns, in the order of the CONTRACTS' network measures file.
MEASURES = (
    "organisation",
    "kind",
    "degree",
    "weighted_degree",
    "betweenness",
    "eigenvector",
    "community",
    "core",
    "organisation_id",
)
#: The measures the table sorts by (the service's orders).
SORTS = frozenset({"organisation", "degree", "weighted_degree", "betweenness", "eigenvector", "community"})
#: The format of each measures export: people open the CSV in a spreadsheet (the French Excel one).
EXPORT_FORMATS: dict[str, export.FileFormat] = {"csv": "csv-excel", "xlsx": "xlsx"}


def _cluster(session: Any, visitor: Visitor, cluster_id: int) -> Any:
    """The cluster a page is about, as its visitor may see it (404 for a hidden one)."""
    return clusters.cluster_profile(session, visitor.actor, cluster_id)


def _manages(visitor: Visitor, cluster_id: int) -> bool:
    actor = visitor.actor
    return actor.role is Role.ADMIN or cluster_id in actor.managed


def _labels(language: str, category: str) -> dict[str, str]:
    """The labels of a category of kit.present.LABELS in the page's language."""
    index = 0 if language == "fr" else 1
    return {code: names[index] for code, names in LABELS[category].items()}


# --- overview: the figures a funder reads --------------------------------------------------------


@router.get("/cooperation/{cluster_id:int}", response_class=HTMLResponse)
@as_page
def overview(request: Request, cluster_id: int) -> Response:
    """A cluster's cooperation in figures (its managers and funders): never a name."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        cluster = _cluster(session, visitor, cluster_id)
        figures = service.cooperation_figures(session, visitor.actor, cluster_id)
    language = language_of(request)
    by_year: dict[int, list[Any]] = {}
    tables: tuple[list[Any], ...] = (figures.business, figures.events, figures.services)
    for position, rows in enumerate(tables):
        for row in rows:
            by_year.setdefault(row.year, [None, None, None])[position] = row
    context = {
        "cluster": cluster,
        "figures": figures,
        "years": [(year, *by_year[year]) for year in sorted(by_year)],
        "manages": _manages(visitor, cluster_id),
        "statuses": _labels(language, "project_status"),
        "programmes": _labels(language, "programme"),
    }
    return show(request, visitor, "cooperation/overview.html", context)


# --- projects ------------------------------------------------------------------------------------


@router.get("/cooperation/{cluster_id:int}/projets", response_class=HTMLResponse)
@as_page
def projects(request: Request, cluster_id: int) -> Response:
    """The projects of a cluster's books the visitor may read; status and page in the URL."""
    raw_status = request.query_params.get("statut", "")
    if raw_status and raw_status not in {s.value for s in ProjectStatus}:
        raise InputError(f"statut={raw_status!r} : statut inconnu")
    status = ProjectStatus(raw_status) if raw_status else None
    number = page_number(request.query_params.get("page"))
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        cluster = _cluster(session, visitor, cluster_id)
        result = service.list_projects(
            session,
            visitor.actor,
            cluster_id=cluster_id,
            status=status,
            limit=PAGE_SIZE,
            offset=(number - 1) * PAGE_SIZE,
        )
    language = language_of(request)
    context = {
        "cluster": cluster,
        "result": result,
        "status": raw_status,
        "page_number": number,
        "pages": max(1, math.ceil(result.total / PAGE_SIZE)),
        "manages": _manages(visitor, cluster_id),
        "statuses": _labels(language, "project_status"),
        "kinds": _labels(language, "project_kind"),
    }
    return show(request, visitor, "cooperation/projects.html", context)


@router.get("/cooperation/projets/{project_id:int}", response_class=HTMLResponse)
@as_page
def project(request: Request, project_id: int) -> Response:
    """A project: partners and their budgets, funding, pipeline; the status form for its managers."""
    return _project_page(request, project_id, None)


def _project_page(
    request: Request,
    project_id: int,
    error: str | None,
    status_code: int = 200,
    partner: dict[str, Any] | None = None,
) -> Response:
    """The project page; its managers also get the forms (status, partners) with the members to
    choose from, the partner form refilled with ``partner`` after a refusal."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        found = service.get_project(session, visitor.actor, project_id)
        cluster_id = found.cluster_id
        manages = cluster_id is not None and _manages(visitor, cluster_id)
        members = (
            memberships.list_members(session, visitor.actor, cluster_id, limit=500).items
            if cluster_id is not None and manages
            else []
        )
    language = language_of(request)
    statuses = _labels(language, "project_status")
    following = [(s.value, statuses[s.value]) for s in service.NEXT_STATUSES[found.status]]
    context = {
        "project": found,
        "manages": manages,
        "next_statuses": following,
        "error": error,
        "statuses": statuses,
        "kinds": _labels(language, "project_kind"),
        "categories": _labels(language, "partner_category"),
        "programmes": _labels(language, "programme"),
        "today": dt.date.today(),
        "members": members,
        "partner": partner or dict(EMPTY_PARTNER),
    }
    return show(request, visitor, "cooperation/project.html", context, status_code=status_code)


@router.post("/cooperation/projets/{project_id:int}/statut", response_class=HTMLResponse)
@as_page
def change_status(
    request: Request, project_id: int, status: FormText = "", on: FormText = "", csrf_token: FormText = ""
) -> Response:
    """Move a project along its pipeline (its managers); the page again with the reason on a refusal."""
    language = language_of(request)
    labels = {"status": gettext(language, "Nouveau statut"), "on": gettext(language, "Date")}
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            data = schema(StatusIn, labels, status=status, on=day_of(labels["on"], on) if on else None)
            service.change_status(session, visitor.actor, project_id, data)
    except InputError as exc:
        return _project_page(request, project_id, str(exc), status_code=exc.http_status)
    return RedirectResponse(f"/cooperation/projets/{project_id}", status_code=303)


EMPTY_PARTNER = {"organisation": "", "name": "", "category": "", "budget": "", "coordinator": False}


@router.post("/cooperation/projets/{project_id:int}/partenaires", response_class=HTMLResponse)
@as_page
def add_partner(
    request: Request,
    project_id: int,
    organisation: FormText = "",
    name: FormText = "",
    category: FormText = "",
    budget: FormText = "",
    coordinator: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Add a partner to a project (its managers): a member chosen in the list, or a name."""
    language = language_of(request)
    labels = {
        "organisation_id": gettext(language, "Adhérent"),
        "name": gettext(language, "Ou nom d'une autre organisation"),
        "category": gettext(language, "Catégorie"),
        "budget_eur": gettext(language, "Budget (€)"),
    }
    values = {
        "organisation": organisation,
        "name": name,
        "category": category,
        "budget": budget,
        "coordinator": coordinator == "1",
    }
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            if not organisation and not name.strip():
                raise InputError(gettext(language, "Partenaire : choisissez un adhérent ou indiquez un nom"))
            data = schema(
                PartnerIn,
                labels,
                organisation_id=organisation or None,
                name=None if organisation else name.strip(),
                category=category or None,
                budget_eur=amount_of(language, labels["budget_eur"], budget) if budget.strip() else None,
                coordinator=coordinator == "1",
            )
            service.add_partner(session, visitor.actor, project_id, data)
    except InputError as exc:
        return _project_page(request, project_id, str(exc), exc.http_status, values)
    return RedirectResponse(f"/cooperation/projets/{project_id}", status_code=303)


@router.post(
    "/cooperation/projets/{project_id:int}/partenaires/{partner_id:int}/retrait", response_class=HTMLResponse
)
@as_page
def remove_partner(request: Request, project_id: int, partner_id: int, csrf_token: FormText = "") -> Response:
    """Remove a partner row from a project (its managers)."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor, csrf_token)) is not None:
            return away
        service.remove_partner(session, visitor.actor, project_id, partner_id)
    return RedirectResponse(f"/cooperation/projets/{project_id}", status_code=303)


def _project_labels(language: str) -> dict[str, str]:
    return {
        "title": gettext(language, "Titre"),
        "acronym": gettext(language, "Acronyme"),
        "kind": gettext(language, "Nature"),
        "status": gettext(language, "Statut"),
        "start": gettext(language, "Début"),
        "end": gettext(language, "Fin"),
        "confidential": gettext(language, "Confidentiel"),
    }


@router.get("/cooperation/{cluster_id:int}/projets/nouveau", response_class=HTMLResponse)
@as_page
def new_project_form(request: Request, cluster_id: int) -> Response:
    """The form recording a project in a cluster's books (its managers)."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        cluster = clusters.managed_cluster(session, visitor.actor, cluster_id)
    values = {
        "title": "",
        "acronym": "",
        "kind": "rd_innovation",
        "status": "idea",
        "start": "",
        "end": "",
        "confidential": False,
    }
    return _project_form(request, visitor, cluster, values, None)


def _project_form(
    request: Request,
    visitor: Visitor,
    cluster: Any,
    values: dict[str, Any],
    error: str | None,
    status_code: int = 200,
) -> Response:
    language = language_of(request)
    context = {
        "cluster": cluster,
        "values": values,
        "error": error,
        "kinds": list(_labels(language, "project_kind").items()),
        "statuses": list(_labels(language, "project_status").items()),
    }
    return show(request, visitor, "cooperation/project_form.html", context, status_code=status_code)


@router.post("/cooperation/{cluster_id:int}/projets/nouveau", response_class=HTMLResponse)
@as_page
def create_project(
    request: Request,
    cluster_id: int,
    title: FormText = "",
    acronym: FormText = "",
    kind: FormText = "",
    status: FormText = "idea",
    start: FormText = "",
    end: FormText = "",
    confidential: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Record the project; the form again, with the reason, on a refusal."""
    language = language_of(request)
    labels = _project_labels(language)
    values = {
        "title": title,
        "acronym": acronym,
        "kind": kind,
        "status": status,
        "start": start,
        "end": end,
        "confidential": confidential == "1",
    }
    cluster = None
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            cluster = clusters.managed_cluster(session, visitor.actor, cluster_id)
            data = schema(
                ProjectIn,
                labels,
                title=title.strip(),
                acronym=acronym.strip() or None,
                kind=kind,
                status=status,
                start=day_of(labels["start"], start) if start else None,
                end=day_of(labels["end"], end) if end else None,
                confidential=confidential == "1",
            )
            created = service.create_project(session, visitor.actor, cluster_id, data)
    except (InputError, ConflictError) as exc:
        if cluster is None:
            raise
        return _project_form(request, visitor, cluster, values, str(exc), status_code=exc.http_status)
    return RedirectResponse(f"/cooperation/projets/{created.id}", status_code=303)


# --- events --------------------------------------------------------------------------------------


def _events_page(
    request: Request, cluster_id: int, values: dict[str, str], error: str | None, status_code: int = 200
) -> Response:
    number = page_number(request.query_params.get("page"))
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        cluster = _cluster(session, visitor, cluster_id)
        result = actions.list_events(
            session, visitor.actor, cluster_id, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
        )
    context = {
        "cluster": cluster,
        "result": result,
        "page_number": number,
        "pages": max(1, math.ceil(result.total / PAGE_SIZE)),
        "kinds": _labels(language_of(request), "event_kind"),
        "manages": _manages(visitor, cluster_id),
        "values": values,
        "error": error,
    }
    return show(request, visitor, "cooperation/events.html", context, status_code=status_code)


EMPTY_EVENT = {
    "kind": "breakfast",
    "title": "",
    "starts_at": "",
    "ends_at": "",
    "place": "",
    "capacity": "",
    "price": "",
    "public": "1",
    "description": "",
}


@router.get("/cooperation/{cluster_id:int}/evenements", response_class=HTMLResponse)
@as_page
def events(request: Request, cluster_id: int) -> Response:
    """A cluster's events, the soonest first (its members: the public ones); the creation form
    for its managers."""
    return _events_page(request, cluster_id, dict(EMPTY_EVENT), None)


@router.post("/cooperation/{cluster_id:int}/evenements", response_class=HTMLResponse)
@as_page
def create_event(
    request: Request,
    cluster_id: int,
    kind: FormText = "",
    title: FormText = "",
    starts_at: FormText = "",
    ends_at: FormText = "",
    place: FormText = "",
    capacity: FormText = "",
    price: FormText = "",
    public: FormText = "",
    description: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Create an event of the cluster (its managers); the page again, with the reason, on a refusal."""
    language = language_of(request)
    labels = {
        "kind": gettext(language, "Nature"),
        "title": gettext(language, "Intitulé"),
        "starts_at": gettext(language, "Début"),
        "ends_at": gettext(language, "Fin"),
        "place": gettext(language, "Lieu"),
        "capacity": gettext(language, "Capacité (places)"),
        "price_eur": gettext(language, "Prix par place (€)"),
        "description": gettext(language, "Description"),
    }
    values = {
        "kind": kind,
        "title": title,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "place": place,
        "capacity": capacity,
        "price": price,
        "public": public,
        "description": description,
    }
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            data = schema(
                EventIn,
                labels,
                kind=kind,
                title=title.strip(),
                starts_at=moment_of(labels["starts_at"], starts_at),
                ends_at=moment_of(labels["ends_at"], ends_at),
                place=place.strip() or None,
                capacity=capacity.strip() or None,
                price_eur=amount_of(language, labels["price_eur"], price) if price.strip() else 0,
                public=public == "1",
                description=description.strip() or None,
            )
            created = actions.create_event(session, visitor.actor, cluster_id, data)
    except InputError as exc:
        return _events_page(request, cluster_id, values, str(exc), status_code=exc.http_status)
    return RedirectResponse(f"/cooperation/evenements/{created.id}", status_code=303)


def _event_page(
    request: Request, event_id: int, message: tuple[str, str] | None = None, status_code: int = 200
) -> Response:
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        found = actions.get_event(session, visitor.actor, event_id)
        registrations = actions.list_registrations(session, visitor.actor, event_id, limit=PAGE_SIZE)
    context = {
        "event": found,
        "registrations": registrations,
        "message": message,
        "kinds": _labels(language_of(request), "event_kind"),
        "manages": _manages(visitor, found.cluster_id),
        "started": found.starts_at <= dt.datetime.now(dt.UTC),
    }
    return show(request, visitor, "cooperation/event.html", context, status_code=status_code)


@router.get("/cooperation/evenements/{event_id:int}", response_class=HTMLResponse)
@as_page
def event(request: Request, event_id: int) -> Response:
    """An event, its seats left, the visitor's registration (all of them for its managers)."""
    return _event_page(request, event_id)


@router.post("/cooperation/evenements/{event_id:int}/inscription", response_class=HTMLResponse)
@as_page
def register(request: Request, event_id: int, seats: FormText = "1", csrf_token: FormText = "") -> Response:
    """Register the member's organisation; over capacity, the page says how many seats are left."""
    language = language_of(request)
    labels = {"seats": gettext(language, "Places")}
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            data = schema(RegistrationIn, labels, seats=seats.strip() or "1")
            actions.register(session, visitor.actor, event_id, data)
    except (InputError, ConflictError, PermissionDeniedError) as exc:
        return _event_page(request, event_id, ("error", str(exc)), status_code=exc.http_status)
    return _event_page(request, event_id, ("success", gettext(language, "Inscription enregistrée.")))


@router.get("/cooperation/evenements/{event_id:int}.ics")
@as_page
def event_calendar(request: Request, event_id: int) -> Response:
    """The event as an iCalendar file, for the participants' calendars."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        content = actions.event_calendar(session, visitor.actor, event_id)
    return Response(
        content,
        media_type="text/calendar; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="evenement-{event_id}.ics"'},
    )


# --- business between members --------------------------------------------------------------------


def _business_page(
    request: Request, cluster_id: int, values: dict[str, str], error: str | None, status_code: int = 200
) -> Response:
    year_text = request.query_params.get("annee", "")
    if year_text and not (year_text.isdigit() and 1900 <= int(year_text) <= 2200):
        raise InputError(f"annee={year_text!r} : attendu une année de 1900 à 2200")
    number = page_number(request.query_params.get("page"))
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        cluster = _cluster(session, visitor, cluster_id)
        deals = service.list_deals(
            session,
            visitor.actor,
            cluster_id,
            year=int(year_text) if year_text else None,
            limit=PAGE_SIZE,
            offset=(number - 1) * PAGE_SIZE,
        )
        manages = _manages(visitor, cluster_id)
        volume = service.business_volume(session, visitor.actor, cluster_id) if manages else None
        members = (
            memberships.list_members(session, visitor.actor, cluster_id, limit=500).items if manages else []
        )
    language = language_of(request)
    context = {
        "cluster": cluster,
        "deals": deals,
        "volume": volume,
        "members": members,
        "manages": manages,
        "own": visitor.actor.organisation_id,
        "year": year_text,
        "values": values,
        "error": error,
        "page_number": number,
        "pages": max(1, math.ceil(deals.total / PAGE_SIZE)),
        "deal_kinds": _labels(language, "deal_kind"),
        "this_year": dt.date.today().year,
    }
    return show(request, visitor, "cooperation/business.html", context, status_code=status_code)


EMPTY_DEAL = {
    "buyer": "",
    "seller": "",
    "year": "",
    "amount": "",
    "kind": DealKind.GOODS.value,
    "brokered": "",
}


@router.get("/cooperation/{cluster_id:int}/affaires", response_class=HTMLResponse)
@as_page
def business(request: Request, cluster_id: int) -> Response:
    """Deals between members (a member: its own), the yearly volume and its breakdown (managers)."""
    return _business_page(request, cluster_id, dict(EMPTY_DEAL), None)


@router.post("/cooperation/{cluster_id:int}/affaires", response_class=HTMLResponse)
@as_page
def declare_deal(
    request: Request,
    cluster_id: int,
    buyer: FormText = "",
    seller: FormText = "",
    year: FormText = "",
    amount: FormText = "",
    kind: FormText = DealKind.GOODS.value,
    brokered: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Declare a deal; the page again with the reason on a refusal (same organisation twice...)."""
    language = language_of(request)
    labels = {
        "buyer": gettext(language, "Acheteur (n° d'organisation)"),
        "seller": gettext(language, "Vendeur (n° d'organisation)"),
        "year": gettext(language, "Année"),
        "amount_eur": gettext(language, "Montant (€)"),
        "kind": gettext(language, "Nature"),
    }
    values = {
        "buyer": buyer,
        "seller": seller,
        "year": year,
        "amount": amount,
        "kind": kind,
        "brokered": brokered,
    }
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            data = schema(
                DealIn,
                labels,
                buyer=buyer.strip(),
                seller=seller.strip(),
                year=year.strip(),
                amount_eur=amount_of(language, labels["amount_eur"], amount) if amount.strip() else None,
                kind=kind,
                brokered=brokered == "1",
            )
            service.declare_deal(session, visitor.actor, cluster_id, data)
    except (InputError, ConflictError) as exc:
        return _business_page(request, cluster_id, values, str(exc), status_code=exc.http_status)
    return RedirectResponse(f"/cooperation/{cluster_id}/affaires", status_code=303)


# --- cooperation links ---------------------------------------------------------------------------


def _links_page(
    request: Request, cluster_id: int, values: dict[str, Any], error: str | None, status_code: int = 200
) -> Response:
    number = page_number(request.query_params.get("page"))
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        cluster = _cluster(session, visitor, cluster_id)
        links = service.list_links(
            session, visitor.actor, cluster_id, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
        )
        manages = _manages(visitor, cluster_id)
        members = (
            memberships.list_members(session, visitor.actor, cluster_id, limit=500).items if manages else []
        )
    language = language_of(request)
    context = {
        "cluster": cluster,
        "links": links,
        "members": members,
        "manages": manages,
        "own": visitor.actor.organisation_id,
        "values": values,
        "error": error,
        "page_number": number,
        "pages": max(1, math.ceil(links.total / PAGE_SIZE)),
        "link_kinds": _labels(language, "link_kind"),
        "orientations": _labels(language, "link_orientation"),
        "states": _labels(language, "link_state"),
        "today": dt.date.today(),
    }
    return show(request, visitor, "cooperation/links.html", context, status_code=status_code)


EMPTY_LINK: dict[str, Any] = {
    "organisation_a": "",
    "organisation_b": "",
    "kind": LinkKind.SUPPLIER_CUSTOMER.value,
    "orientations": [],
    "start": "",
    "intensity": "",
    "amount": "",
    "note": "",
}


@router.get("/cooperation/{cluster_id:int}/liens", response_class=HTMLResponse)
@as_page
def links(request: Request, cluster_id: int) -> Response:
    """Cooperation links of a cluster's books (a member: its own), the form declaring one and,
    for the managers, the forms ending them."""
    return _links_page(request, cluster_id, dict(EMPTY_LINK), None)


@router.post("/cooperation/{cluster_id:int}/liens", response_class=HTMLResponse)
@as_page
def declare_link(
    request: Request,
    cluster_id: int,
    organisation_a: FormText = "",
    organisation_b: FormText = "",
    kind: FormText = "",
    orientation: FormList = None,
    start: FormText = "",
    intensity: FormText = "",
    amount: FormText = "",
    note: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Record a link (a manager: confirmed; a member: pending until the other side confirms it)."""
    language = language_of(request)
    labels = {
        "organisation_a": gettext(language, "Première organisation (n°)"),
        "organisation_b": gettext(language, "Seconde organisation (n°)"),
        "kind": gettext(language, "Nature"),
        "orientations": gettext(language, "Orientations"),
        "start": gettext(language, "Début"),
        "intensity": gettext(language, "Intensité (1 à 5)"),
        "amount_eur": gettext(language, "Montant (€)"),
        "note": gettext(language, "Note"),
    }
    values = {
        "organisation_a": organisation_a,
        "organisation_b": organisation_b,
        "kind": kind,
        "orientations": orientation or [],
        "start": start,
        "intensity": intensity,
        "amount": amount,
        "note": note,
    }
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            data = schema(
                LinkIn,
                labels,
                organisation_a=organisation_a.strip(),
                organisation_b=organisation_b.strip(),
                kind=kind,
                orientations=orientation or [],
                start=day_of(labels["start"], start) if start.strip() else None,
                intensity=intensity.strip() or None,
                amount_eur=amount_of(language, labels["amount_eur"], amount) if amount.strip() else None,
                note=note.strip() or None,
            )
            service.declare_link(session, visitor.actor, cluster_id, data)
    except InputError as exc:
        return _links_page(request, cluster_id, values, str(exc), status_code=exc.http_status)
    return RedirectResponse(f"/cooperation/{cluster_id}/liens", status_code=303)


@router.post("/cooperation/{cluster_id:int}/liens/{link_id:int}/fin", response_class=HTMLResponse)
@as_page
def end_link(
    request: Request, cluster_id: int, link_id: int, end: FormText = "", csrf_token: FormText = ""
) -> Response:
    """End a link of the cluster's books (its managers), on the day given (default today)."""
    language = language_of(request)
    label = gettext(language, "Fin du lien")
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            data = schema(LinkEnd, {"end": label}, end=day_of(label, end) if end.strip() else None)
            ended = service.end_link(session, visitor.actor, link_id, data)
            if ended.cluster_id != cluster_id:  # the service checked the link's own cluster
                raise not_found("lien", link_id)
    except (InputError, ConflictError) as exc:
        return _links_page(request, cluster_id, dict(EMPTY_LINK), str(exc), status_code=exc.http_status)
    return RedirectResponse(f"/cooperation/{cluster_id}/liens", status_code=303)


# --- shared equipment --------------------------------------------------------------------------------


def _equipment_page(
    request: Request, cluster_id: int, values: dict[str, str], error: str | None, status_code: int = 200
) -> Response:
    number = page_number(request.query_params.get("page"))
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        cluster = _cluster(session, visitor, cluster_id)
        result = actions.list_equipment(
            session, visitor.actor, cluster_id, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
        )
    context = {
        "cluster": cluster,
        "result": result,
        "manages": _manages(visitor, cluster_id),
        "values": values,
        "error": error,
        "page_number": number,
        "pages": max(1, math.ceil(result.total / PAGE_SIZE)),
    }
    return show(request, visitor, "cooperation/equipment_list.html", context, status_code=status_code)


EMPTY_EQUIPMENT = {"name": "", "rate": "", "description": ""}


@router.get("/cooperation/{cluster_id:int}/equipements", response_class=HTMLResponse)
@as_page
def equipment_list(request: Request, cluster_id: int) -> Response:
    """The equipment a cluster shares (its managers and members); the form adding one (managers)."""
    return _equipment_page(request, cluster_id, dict(EMPTY_EQUIPMENT), None)


@router.post("/cooperation/{cluster_id:int}/equipements", response_class=HTMLResponse)
@as_page
def add_equipment(
    request: Request,
    cluster_id: int,
    name: FormText = "",
    rate: FormText = "",
    description: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Record a shared equipment (the cluster's managers)."""
    language = language_of(request)
    labels = {
        "name": gettext(language, "Nom"),
        "hourly_rate_eur": gettext(language, "Tarif horaire (€)"),
        "description": gettext(language, "Description"),
    }
    values = {"name": name, "rate": rate, "description": description}
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            data = schema(
                EquipmentIn,
                labels,
                name=name.strip(),
                hourly_rate_eur=(
                    amount_of(language, labels["hourly_rate_eur"], rate) if rate.strip() else None
                ),
                description=description.strip() or None,
            )
            created = actions.create_equipment(session, visitor.actor, cluster_id, data)
    except InputError as exc:
        return _equipment_page(request, cluster_id, values, str(exc), status_code=exc.http_status)
    return RedirectResponse(f"/cooperation/equipements/{created.id}", status_code=303)


#: The bookings an equipment's page shows by default: from today, over this many days.
BOOKING_WINDOW_DAYS = 30


def _booking_window(request: Request) -> tuple[dt.date, dt.date]:
    """The period of the bookings shown (``du``/``au`` in the URL, both days included)."""
    params = request.query_params
    start = day_of("du", params["du"]) if params.get("du") else dt.date.today()
    end = day_of("au", params["au"]) if params.get("au") else start + dt.timedelta(days=BOOKING_WINDOW_DAYS)
    if end < start:
        raise InputError(f"au={end.isoformat()} : la fin précède le début ({start.isoformat()})")
    return start, end


def _equipment_detail(
    request: Request,
    equipment_id: int,
    values: dict[str, str],
    message: tuple[str, str] | None,
    status_code: int = 200,
) -> Response:
    start, end = _booking_window(request)
    since = dt.datetime.combine(start, dt.time(), tzinfo=LOCAL_TIME)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=LOCAL_TIME)
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        equipment = actions.get_equipment(session, visitor.actor, equipment_id)
        bookings = actions.list_bookings(session, visitor.actor, equipment_id, since, until, limit=500)
        used = actions.usage(session, visitor.actor, equipment_id, since, until)
        manages = _manages(visitor, equipment.cluster_id)
        members = (
            memberships.list_members(session, visitor.actor, equipment.cluster_id, limit=500).items
            if manages
            else []
        )
    context = {
        "equipment": equipment,
        "bookings": bookings,
        "usage": used,
        "manages": manages,
        "members": members,
        "start": start,
        "end": end,
        "local": LOCAL_TIME,
        "values": values,
        "message": message,
    }
    return show(request, visitor, "cooperation/equipment.html", context, status_code=status_code)


EMPTY_BOOKING = {"organisation": "", "starts_at": "", "ends_at": ""}


@router.get("/cooperation/equipements/{equipment_id:int}", response_class=HTMLResponse)
@as_page
def equipment(request: Request, equipment_id: int) -> Response:
    """An equipment: its bookings over a period, the hours and amounts per member, the booking form."""
    return _equipment_detail(request, equipment_id, dict(EMPTY_BOOKING), None)


@router.post("/cooperation/equipements/{equipment_id:int}/reservation", response_class=HTMLResponse)
@as_page
def book_equipment(
    request: Request,
    equipment_id: int,
    organisation: FormText = "",
    starts_at: FormText = "",
    ends_at: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Book the equipment: a member for its organisation, a manager for a member; an overlap is
    refused with the booking it meets."""
    language = language_of(request)
    labels = {
        "organisation_id": gettext(language, "Adhérent"),
        "starts_at": gettext(language, "Début"),
        "ends_at": gettext(language, "Fin"),
    }
    values = {"organisation": organisation, "starts_at": starts_at, "ends_at": ends_at}
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            data = schema(
                BookingIn,
                labels,
                organisation_id=organisation or None,
                starts_at=moment_of(labels["starts_at"], starts_at),
                ends_at=moment_of(labels["ends_at"], ends_at),
            )
            actions.book(session, visitor.actor, equipment_id, data)
    except (InputError, ConflictError, PermissionDeniedError) as exc:
        return _equipment_detail(request, equipment_id, values, ("error", str(exc)), exc.http_status)
    done = gettext(language, "Réservation enregistrée.")
    return _equipment_detail(request, equipment_id, dict(EMPTY_BOOKING), ("success", done))


# --- the network -----------------------------------------------------------------------------------


def network_view(request: Request) -> dict[str, Any]:
    """The network page's choices in the URL: layers, period, sort, page (checked, in French)."""
    params = request.query_params
    layers = [name for name in network.LAYERS if params.get(f"couche_{name}") == "1"] or list(network.LAYERS)
    start = day_of("du", params["du"]) if params.get("du") else None
    end = day_of("au", params["au"]) if params.get("au") else None
    sort = params.get("sort", "-degree")
    if sort.lstrip("-") not in SORTS:
        raise InputError(f"sort={sort!r} : attendu l'une des mesures {', '.join(sorted(SORTS))}")
    return {"layers": layers, "start": start, "end": end, "sort": sort}


def _period_query(view: dict[str, Any]) -> str:
    pairs = (
        [(f"couche_{name}", "1") for name in view["layers"]]
        if len(view["layers"]) < len(network.LAYERS)
        else []
    )
    pairs += [(k, view[v].isoformat()) for k, v in (("du", "start"), ("au", "end")) if view[v] is not None]
    return urlencode(pairs)


@router.get("/cooperation/{cluster_id:int}/reseau", response_class=HTMLResponse)
@as_page
def network_page(request: Request, cluster_id: int) -> Response:
    """The network's picture and its measures table (sortable, exportable), for its managers."""
    view = network_view(request)
    number = page_number(request.query_params.get("page"))
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        cluster = clusters.managed_cluster(session, visitor.actor, cluster_id)
        result = service.network_page(
            session,
            visitor.actor,
            cluster_id=cluster_id,
            layers=view["layers"],
            start=view["start"],
            end=view["end"],
            order=view["sort"].lstrip("-"),
            ascending=not view["sort"].startswith("-"),
            limit=PAGE_SIZE,
            offset=(number - 1) * PAGE_SIZE,
        )
    language = language_of(request)
    names = {row.organisation_id: row.organisation for row in result.items}
    query = _period_query(view)
    context = {
        "cluster": cluster,
        "result": result,
        "view": view,
        "query": f"?{query}" if query else "",
        "page_number": number,
        "pages": max(1, math.ceil(result.total / PAGE_SIZE)),
        "layer_names": _labels(language, "network_layer"),
        "kinds": _labels(language, "organisation_kind"),
        "names": names,
    }
    return show(request, visitor, "cooperation/network.html", context)


@router.get("/cooperation/{cluster_id:int}/reseau.svg")
@as_page
def network_picture(request: Request, cluster_id: int) -> Response:
    """The network drawn in SVG (the page shows it as an image)."""
    view = network_view(request)
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        content, media_type, _ = service.network_file(
            session,
            visitor.actor,
            cluster_id=cluster_id,
            file_format="svg",
            layers=view["layers"],
            start=view["start"],
            end=view["end"],
        )
    return Response(content, media_type=media_type, headers={"cache-control": "no-store"})


@router.get("/cooperation/{cluster_id:int}/reseau.{suffix}")
@as_page
def export_network(request: Request, cluster_id: int, suffix: Literal["csv", "xlsx"]) -> Response:
    """The measures of every organisation in scope, as CSV (French Excel) or XLSX."""
    view = network_view(request)
    language = language_of(request)
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        analysis = service.analyse_network(
            session,
            visitor.actor,
            cluster_id=cluster_id,
            layers=view["layers"],
            start=view["start"],
            end=view["end"],
        )
    table = analysis.measures
    kinds = _labels(language, "organisation_kind")
    table = table.assign(kind=table["kind"].map(kinds).fillna(table["kind"]))
    order, ascending = view["sort"].lstrip("-"), not view["sort"].startswith("-")
    table = table.sort_values([order, "organisation"], ascending=[ascending, True], kind="stable")
    labels = {
        "organisation": gettext(language, "Organisation"),
        "kind": gettext(language, "Nature"),
        "degree": gettext(language, "Degré (partenaires distincts)"),
        "weighted_degree": gettext(language, "Degré pondéré"),
        "betweenness": gettext(language, "Intermédiarité"),
        "eigenvector": gettext(language, "Centralité de vecteur propre"),
        "community": gettext(language, "Communauté"),
        "core": gettext(language, "Cœur"),
        "organisation_id": gettext(language, "N° organisation"),
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"reseau.{suffix}"
        export.write(
            path,
            table[list(MEASURES)],
            format=EXPORT_FORMATS[suffix],
            labels=labels,
            sheet=gettext(language, "Réseau"),
        )
        content = path.read_bytes()
    return Response(
        content,
        media_type=export.MEDIA_TYPES[EXPORT_FORMATS[suffix]],
        headers={
            "content-disposition": f'attachment; filename="reseau-{cluster_id}.{suffix}"',
            "cache-control": "no-store",
        },
    )
