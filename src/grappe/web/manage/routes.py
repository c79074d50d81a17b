"""The cluster manager's pages: key figures, members, fees; parse the form -> registry service -> page.

Every page first asks the visitor to sign in; then the registry services check the signed-in
actor on each object (another tenant's cluster, membership or fee call is "introuvable", 404).
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from grappe.config import get_settings
from grappe.errors import InputError
from grappe.kit import export
from grappe.registry.clusters import service as clusters
from grappe.registry.fees import figures
from grappe.registry.fees import service as fees
from grappe.registry.fees.schemas import PaymentIn
from grappe.registry.memberships import files
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate, MembershipEnd
from grappe.registry.models import OrganisationKind
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import OrganisationCreate, OrganisationUpdate
from grappe.web.accounts.routes import local_target
from grappe.web.forms import (
    Page,
    amount_of,
    day_of,
    page_number,
    schema,
    shown,
    signed_in,
    submitted,
    year_of,
)
from grappe.web.manage import chart
from grappe.web.manage.prologue import managed
from grappe.web.render import gettext, language_of, url_with
from grappe.web.unit import Visitor, as_page, show, unit

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
M = TypeVar("M", bound=BaseModel)
#: Members per page of the member list.
PAGE_SIZE = 25
#: Member files the import reads, by suffix, with the first bytes their content must start with.
IMPORT_TYPES: dict[str, bytes] = {".csv": b"", ".txt": b"", ".xlsx": b"PK\x03\x04"}
#: The format of each member export the page offers: people open its CSV in a spreadsheet,
#: so it is the French Excel one.
EXPORT_FORMATS: dict[str, export.FileFormat] = {"csv": "csv-excel", "xlsx": "xlsx"}


def members_view(request: Request) -> tuple[str, bool]:
    """The member list's filters in the URL: the search text and whether former members show."""
    return request.query_params.get("q", "").strip(), request.query_params.get("anciens") == "1"


@router.get("/gestion", response_class=HTMLResponse)
@as_page
def home(request: Request) -> Response:
    """The cluster organisations the signed-in manager runs."""
    with unit(request) as (session, visitor):
        signed_in(request, visitor)
        runs = clusters.managed_clusters(session, visitor.actor)
    return show(request, visitor, "manage/home.html", {"clusters": runs})


@router.get("/gestion/{cluster_id:int}", response_class=HTMLResponse)
@as_page
def dashboard(request: Request, cluster_id: int) -> Response:
    """Key figures of a cluster organisation, members over the years as a chart."""
    with unit(request) as (session, visitor):
        cluster = managed(request, session, visitor, cluster_id)
        key = figures.key_figures(session, visitor.actor, cluster_id)
    context = {
        "cluster": cluster,
        "figures": key,
        "chart": chart.bars([(str(f.year), f.members_at_end) for f in key.flows]),
    }
    return show(request, visitor, "manage/dashboard.html", context)


@router.get("/gestion/{cluster_id:int}/adherents", response_class=HTMLResponse)
@as_page
def members(request: Request, cluster_id: int) -> Response:
    """The member list: search, former members and page kept in the URL."""
    search, former = members_view(request)
    with unit(request) as (session, visitor):
        cluster = managed(request, session, visitor, cluster_id)
        number = page_number(request.query_params.get("page"))
        result = memberships.list_members(
            session,
            visitor.actor,
            cluster_id,
            include_former=former,
            search=search or None,
            limit=PAGE_SIZE,
            offset=(number - 1) * PAGE_SIZE,
        )
    view = urlencode({k: v for k, v in (("q", search), ("anciens", "1" if former else "")) if v})
    context = {
        "cluster": cluster,
        "result": result,
        "search": search,
        "former": former,
        "page_number": number,
        "pages": max(1, math.ceil(result.total / PAGE_SIZE)),
        "view": f"?{view}" if view else "",
        "today": dt.date.today(),
        "max_upload": get_settings().max_body,
    }
    return show(request, visitor, "manage/members.html", context)


@router.get("/gestion/{cluster_id:int}/adherents.{suffix}")
@as_page
def export_members(request: Request, cluster_id: int, suffix: Literal["csv", "xlsx"]) -> Response:
    """The member list's current view (search, former members) as CSV or XLSX."""
    search, former = members_view(request)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"adherents.{suffix}"
        with unit(request) as (session, visitor):
            managed(request, session, visitor, cluster_id)
            files.export_members(
                session,
                visitor.actor,
                cluster_id,
                path,
                include_former=former,
                search=search or None,
                format=EXPORT_FORMATS[suffix],
            )
        content = path.read_bytes()
    return Response(
        content,
        media_type=export.MEDIA_TYPES[EXPORT_FORMATS[suffix]],
        headers={
            "content-disposition": f'attachment; filename="adherents-{cluster_id}.{suffix}"',
            "cache-control": "no-store",
        },
    )


def member_labels(language: str) -> dict[str, str]:
    """The add-member form's fields, as the page names them (for messages)."""
    return {
        "name": gettext(language, "Nom"),
        "siren": gettext(language, "SIREN ou SIRET"),
        "sirets": gettext(language, "SIREN ou SIRET"),
        "kind": gettext(language, "Nature"),
        "joined": gettext(language, "Date d'adhésion"),
        "membership_type": gettext(language, "Type d'adhésion"),
    }


@router.get("/gestion/{cluster_id:int}/adherents/nouveau", response_class=HTMLResponse)
@as_page
def new_member_form(request: Request, cluster_id: int) -> Response:
    """The form adding a member organisation."""
    values = {"name": "", "siren": "", "kind": "firm", "joined": "", "membership_type": "adherent"}
    return shown(request, _member_form(request, cluster_id, values))


def _member_form(request: Request, cluster_id: int, values: dict[str, str]) -> Page:
    def context(session: Session, visitor: Visitor, error: str | None) -> dict[str, Any]:
        cluster = managed(request, session, visitor, cluster_id)
        return {"cluster": cluster, "values": values, "error": error, "kinds": list(OrganisationKind)}

    return "manage/member_form.html", context


@router.post("/gestion/{cluster_id:int}/adherents/nouveau", response_class=HTMLResponse)
@as_page
def add_member(
    request: Request,
    cluster_id: int,
    name: FormText = "",
    siren: FormText = "",
    kind: FormText = "firm",
    joined: FormText = "",
    membership_type: FormText = "adherent",
    csrf_token: FormText = "",
) -> Response:
    """Create the organisation for this cluster and open its membership; the form again on a refusal."""
    language = language_of(request)
    labels = member_labels(language)
    values = {
        "name": name,
        "siren": siren,
        "kind": kind,
        "joined": joined,
        "membership_type": membership_type,
    }
    identifier = siren.replace(" ", "")

    def act(session: Session, visitor: Visitor) -> str:
        managed(request, session, visitor, cluster_id)
        organisation = schema(
            OrganisationCreate,
            labels,
            name=name,
            kind=kind,
            **({"sirets": [identifier]} if len(identifier) == 14 else {"siren": identifier or None}),
        )
        day = day_of(labels["joined"], joined)
        created = organisations.create_organisation(
            session, visitor.actor, organisation, cluster_id=cluster_id
        )
        period = schema(
            MembershipCreate,
            labels,
            organisation_id=created.id,
            joined=day,
            membership_type=membership_type,
        )
        memberships.add_membership(session, visitor.actor, cluster_id, period)
        return f"/gestion/{cluster_id}/adherents?q={quote(name.strip())}"

    # a refusal rolls the unit of work back: neither the organisation nor its membership stays
    return submitted(request, csrf_token, act, _member_form(request, cluster_id, values))


def organisation_labels(language: str) -> dict[str, str]:
    """The organisation form's fields, as the page names them (for messages)."""
    return {
        "name": gettext(language, "Nom"),
        "kind": gettext(language, "Nature"),
        "commune": gettext(language, "Commune (code INSEE)"),
        "declared_headcount": gettext(language, "Effectif déclaré"),
        "website": gettext(language, "Site web"),
        "version": "version",
    }


@router.get("/gestion/{cluster_id:int}/organisations/{organisation_id:int}", response_class=HTMLResponse)
@as_page
def organisation_form(request: Request, cluster_id: int, organisation_id: int) -> Response:
    """The form changing a member organisation's record."""
    return shown(request, _organisation_form(request, cluster_id, organisation_id, None))


def _organisation_form(
    request: Request, cluster_id: int, organisation_id: int, values: dict[str, str] | None
) -> Page:
    """The form changing an organisation's record, filled with the record unless ``values`` are given."""

    def context(session: Session, visitor: Visitor, error: str | None) -> dict[str, Any]:
        cluster = managed(request, session, visitor, cluster_id)
        filled = values
        if filled is None:
            organisation = organisations.editable_organisation(session, visitor.actor, organisation_id)
            filled = {
                "name": organisation.name,
                "kind": organisation.kind.value,
                "commune": organisation.commune or "",
                "declared_headcount": ""
                if organisation.declared_headcount is None
                else str(organisation.declared_headcount),
                "website": organisation.website or "",
                "version": str(organisation.version),
            }
        return {
            "cluster": cluster,
            "organisation_id": organisation_id,
            "values": filled,
            "error": error,
            "kinds": list(OrganisationKind),
        }

    return "manage/organisation_form.html", context


@router.post("/gestion/{cluster_id:int}/organisations/{organisation_id:int}", response_class=HTMLResponse)
@as_page
def update_organisation(
    request: Request,
    cluster_id: int,
    organisation_id: int,
    name: FormText = "",
    kind: FormText = "firm",
    commune: FormText = "",
    declared_headcount: FormText = "",
    website: FormText = "",
    version: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Change a member organisation's record, then back to the member list; the form again on a refusal."""
    labels = organisation_labels(language_of(request))
    values = {
        "name": name,
        "kind": kind,
        "commune": commune,
        "declared_headcount": declared_headcount,
        "website": website,
        "version": version,
    }

    def act(session: Session, visitor: Visitor) -> str:
        managed(request, session, visitor, cluster_id)
        changes = schema(
            OrganisationUpdate, labels, **{key: value.strip() or None for key, value in values.items()}
        )
        organisations.update_organisation(session, visitor.actor, organisation_id, changes)
        return f"/gestion/{cluster_id}/adherents?q={quote(name.strip())}"

    again = _organisation_form(request, cluster_id, organisation_id, values)
    return submitted(request, csrf_token, act, again)


@router.post("/gestion/{cluster_id:int}/adherents/import", response_class=HTMLResponse)
@as_page
def import_members(
    request: Request,
    cluster_id: int,
    file: Annotated[UploadFile, File()],
    csrf_token: FormText = "",
) -> Response:
    """Import a CSV or XLSX file of members; the row-by-row report."""
    suffix = Path(file.filename or "").suffix.lower()
    content = file.file.read()
    with unit(request) as (session, visitor):
        cluster = managed(request, session, visitor, cluster_id, csrf_token)
        if suffix not in IMPORT_TYPES or not content.startswith(IMPORT_TYPES[suffix]):
            raise InputError(f"fichier {file.filename!r} : un fichier CSV ou XLSX est attendu")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"adherents{suffix}"
            path.write_bytes(content)
            report = files.import_members(session, visitor.actor, cluster_id, path)
    report.file = file.filename or report.file
    return show(request, visitor, "manage/import_report.html", {"cluster": cluster, "report": report})


@router.post("/gestion/adhesions/{membership_id:int}/depart")
@as_page
def end_membership(
    request: Request,
    membership_id: int,
    version: FormText = "",
    left: FormText = "",
    reason: FormText = "",
    back: FormText = "/gestion",
    csrf_token: FormText = "",
) -> Response:
    """End a membership on a date with a reason, then back to the member list."""
    language = language_of(request)
    labels = {"left": gettext(language, "Date de départ"), "reason": gettext(language, "Motif")}

    def act(session: Session, visitor: Visitor) -> str:
        data = schema(
            MembershipEnd,
            labels,
            version=version,
            left=day_of(labels["left"], left),
            reason=reason.strip() or None,
        )
        memberships.end_membership(session, visitor.actor, membership_id, data)
        return local_target(back)

    return submitted(request, csrf_token, act)


@router.get("/gestion/{cluster_id:int}/cotisations", response_class=HTMLResponse)
@as_page
def fee_calls(request: Request, cluster_id: int) -> Response:
    """The fee calls of a year with their status, and a payment form on each call still due."""
    with unit(request) as (session, visitor):
        cluster = managed(request, session, visitor, cluster_id)
        year = year_of(request.query_params.get("annee"))
        calls = fees.list_calls(session, visitor.actor, cluster_id, year=year)
    context = {
        "cluster": cluster,
        "calls": calls,
        "year": year,
        "today": dt.date.today(),
        "back": url_with(request),
        "total_due": sum((c.amount_eur for c in calls), Decimal(0)),
        "total_paid": sum((c.paid_eur for c in calls), Decimal(0)),
    }
    return show(request, visitor, "manage/fees.html", context)


@router.post("/gestion/appels/{fee_call_id:int}/paiement")
@as_page
def record_payment(
    request: Request,
    fee_call_id: int,
    amount: FormText = "",
    paid_on: FormText = "",
    method: FormText = "",
    back: FormText = "/gestion",
    csrf_token: FormText = "",
) -> Response:
    """Record a payment against a fee call, then back to the fee calls."""
    language = language_of(request)
    labels = {
        "amount_eur": gettext(language, "Montant (€)"),
        "paid_on": gettext(language, "Date du paiement"),
        "method": gettext(language, "Moyen de paiement"),
    }

    def act(session: Session, visitor: Visitor) -> str:
        data = schema(
            PaymentIn,
            labels,
            amount_eur=amount_of(language, labels["amount_eur"], amount),
            paid_on=day_of(labels["paid_on"], paid_on),
            method=method.strip() or None,
        )
        fees.record_payment(session, visitor.actor, fee_call_id, data)
        return local_target(back)

    return submitted(request, csrf_token, act)


@router.get("/gestion/{cluster_id:int}/relances", response_class=HTMLResponse)
@as_page
def dunning(request: Request, cluster_id: int) -> Response:
    """The dunning list: fee calls past their due date and not fully paid, most overdue first."""
    with unit(request) as (session, visitor):
        cluster = managed(request, session, visitor, cluster_id)
        lines = fees.dunning_list(session, visitor.actor, cluster_id)
    context = {
        "cluster": cluster,
        "lines": lines,
        "outstanding": sum((x.outstanding_eur for x in lines), Decimal(0)),
    }
    return show(request, visitor, "manage/dunning.html", context)
