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
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from grappe.cooperation import network, service
from grappe.cooperation.actions import service as actions
from grappe.cooperation.actions.schemas import RegistrationIn
from grappe.cooperation.models import DealKind, ProjectStatus
from grappe.cooperation.schemas import DealIn, ProjectIn, StatusIn
from grappe.errors import ConflictError, InputError, PermissionDeniedError
from grappe.kit import export
from grappe.kit.present import LABELS
from grappe.registry.clusters import service as clusters
from grappe.registry.memberships import service as memberships
from grappe.registry.models import Role
from grappe.web.forms import Page, amount_of, day_of, page_number, refusal, schema, shown, submitted
from grappe.web.render import gettext, language_of
from grappe.web.unit import Visitor, as_page, show, unit

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
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
    return shown(request, ("cooperation/project.html", partial(_project_context, request, project_id)))


def _project_context(
    request: Request, project_id: int, session: Session, visitor: Visitor, error: str | None
) -> dict[str, Any]:
    found = service.get_project(session, visitor.actor, project_id)
    language = language_of(request)
    manages = found.cluster_id is not None and _manages(visitor, found.cluster_id)
    statuses = _labels(language, "project_status")
    following = [(s.value, statuses[s.value]) for s in service.NEXT_STATUSES[found.status]]
    return {
        "project": found,
        "manages": manages,
        "next_statuses": following,
        "error": error,
        "statuses": statuses,
        "kinds": _labels(language, "project_kind"),
        "categories": _labels(language, "partner_category"),
        "programmes": _labels(language, "programme"),
        "today": dt.date.today(),
    }


@router.post("/cooperation/projets/{project_id:int}/statut", response_class=HTMLResponse)
@as_page
def change_status(
    request: Request, project_id: int, status: FormText = "", on: FormText = "", csrf_token: FormText = ""
) -> Response:
    """Move a project along its pipeline (its managers); the page again with the reason on a refusal."""
    language = language_of(request)
    labels = {"status": gettext(language, "Nouveau statut"), "on": gettext(language, "Date")}

    def act(session: Session, visitor: Visitor) -> str:
        data = schema(StatusIn, labels, status=status, on=day_of(labels["on"], on) if on else None)
        service.change_status(session, visitor.actor, project_id, data)
        return f"/cooperation/projets/{project_id}"

    again = ("cooperation/project.html", partial(_project_context, request, project_id))
    return submitted(request, csrf_token, act, again, refusals=(InputError,))


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
    values = {
        "title": "",
        "acronym": "",
        "kind": "rd_innovation",
        "status": "idea",
        "start": "",
        "end": "",
        "confidential": False,
    }
    return shown(request, _project_form(request, cluster_id, values))


def _project_form(request: Request, cluster_id: int, values: dict[str, Any]) -> Page:
    def context(session: Session, visitor: Visitor, error: str | None) -> dict[str, Any]:
        language = language_of(request)
        return {
            "cluster": clusters.managed_cluster(session, visitor.actor, cluster_id),
            "values": values,
            "error": error,
            "kinds": list(_labels(language, "project_kind").items()),
            "statuses": list(_labels(language, "project_status").items()),
        }

    return "cooperation/project_form.html", context


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

    def act(session: Session, visitor: Visitor) -> str:
        clusters.managed_cluster(session, visitor.actor, cluster_id)
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
        return f"/cooperation/projets/{created.id}"

    return submitted(request, csrf_token, act, _project_form(request, cluster_id, values))


# --- events --------------------------------------------------------------------------------------


@router.get("/cooperation/{cluster_id:int}/evenements", response_class=HTMLResponse)
@as_page
def events(request: Request, cluster_id: int) -> Response:
    """A cluster's events, the soonest first (its members: the public ones)."""
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
    }
    return show(request, visitor, "cooperation/events.html", context)


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
