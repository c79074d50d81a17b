"""Calls for projects pages: the call, the application form and page, the review form, the committee.

Parse the form -> calls service -> page. The services check the signed-in actor on each object:
a draft call, another applicant's application or an application not assigned to the reviewer is
"introuvable" (404), as in the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from grappe.calls import service
from grappe.calls.schemas import ApplicationIn, BudgetLineIn, DecisionIn, ReviewIn, SelectionIn
from grappe.errors import GrappeError, InputError, PermissionDeniedError
from grappe.registry.clusters import service as clusters
from grappe.registry.models import Role
from grappe.registry.policy import Actor
from grappe.web.forms import amount_of, refusal, schema, submitted
from grappe.web.render import gettext, language_of
from grappe.web.unit import Visitor, as_page, show, unit

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
#: A field the form repeats (a budget line's cell), in the rows' order.
FormList = Annotated[list[str] | None, Form()]


@router.get("/appels", response_class=HTMLResponse)
@as_page
def calls_page(request: Request) -> Response:
    """Published calls for projects (and the signed-in funder's drafts)."""
    with unit(request) as (session, visitor):
        page = service.list_calls(session, visitor.actor, limit=500)
    return show(request, visitor, "calls/list.html", {"calls": page.items})


@router.get("/appels/{call_id:int}", response_class=HTMLResponse)
@as_page
def call_page(request: Request, call_id: int) -> Response:
    """A call: budget, dates, eligibility rules, scoring grid; the actor's applications."""
    with unit(request) as (session, visitor):
        call = service.get_call(session, visitor.actor, call_id)
        mine = None
        if visitor.actor.user_id is not None and visitor.actor.role is not Role.PUBLIC:
            try:  # the applications the visitor may read; none to list for another funder
                mine = service.list_applications(session, visitor.actor, call_id, limit=500).items
            except PermissionDeniedError:
                mine = None
    context = {"call": call, "applications": mine, "role": visitor.actor.role.value}
    return show(request, visitor, "calls/call.html", context)


#: Empty budget rows of the application form: the form's lines without JavaScript (a script adds more).
BUDGET_ROWS = 3


@dataclass
class BudgetRow:
    """A budget row of the application form as typed, and the refusal shown on it."""

    partner: str = ""
    amount: str = ""
    purpose: str = ""
    error: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.partner.strip() or self.amount.strip() or self.purpose.strip())


def _application_form(
    request: Request,
    call_id: int,
    values: dict[str, str],
    rows: list[BudgetRow],
    error: str | None,
    status_code: int = 200,
) -> Response:
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        call = service.get_call(session, visitor.actor, call_id)
        applicants = _applicants(session, visitor.actor, call.applicant_kind.value)
    shown = rows + [BudgetRow() for _ in range(BUDGET_ROWS - len(rows))]
    context = {"call": call, "applicants": applicants, "values": values, "rows": shown, "error": error}
    return show(request, visitor, "calls/application_form.html", context, status_code=status_code)


@router.get("/appels/{call_id:int}/candidature", response_class=HTMLResponse)
@as_page
def application_form(request: Request, call_id: int) -> Response:
    """The form starting a draft application, with its budget lines."""
    values = {"title": "", "summary": "", "applicant": ""}
    return _application_form(request, call_id, values, [], None)


def _applicants(session: Session, actor: Actor, kind: str) -> list[tuple[str, str]]:
    """Whom the actor may apply for: the clusters it manages, or its own firm."""
    if kind == "cluster":
        if actor.role not in {Role.MANAGER, Role.ADMIN}:
            return []
        return [(str(c.id), c.name) for c in clusters.managed_clusters(session, actor)]
    return [(str(actor.organisation_id), str(actor.organisation_id))] if actor.organisation_id else []


def _budget_lines(language: str, rows: list[BudgetRow]) -> list[tuple[int, BudgetLineIn]]:
    """The filled rows as budget lines, each with its row's index; a row's refusal is written on
    the row (the empty rows are left out)."""
    labels = {
        "organisation_id": gettext(language, "Partenaire (n° d'organisation)"),
        "amount_eur": gettext(language, "Montant demandé (€)"),
        "purpose": gettext(language, "Objet"),
    }
    lines = []
    for index, row in enumerate(rows):
        if row.empty:
            continue
        try:
            if not row.partner.strip().isdigit():
                raise InputError(gettext(language, "« Partenaire » : indiquez le n° d'une organisation"))
            line = schema(
                BudgetLineIn,
                labels,
                organisation_id=row.partner.strip(),
                amount_eur=amount_of(language, labels["amount_eur"], row.amount or "0"),
                purpose=row.purpose.strip() or None,
            )
        except InputError as exc:
            row.error = str(exc)
            continue
        lines.append((index, line))
    return lines


@router.post("/appels/{call_id:int}/candidature", response_class=HTMLResponse)
@as_page
def create_application(
    request: Request,
    call_id: int,
    title: FormText = "",
    summary: FormText = "",
    applicant: FormText = "",
    partner: FormList = None,
    amount: FormList = None,
    purpose: FormList = None,
    csrf_token: FormText = "",
) -> Response:
    """Create the draft, then show it; the form again on a refusal, a budget line's on its row."""
    language = language_of(request)
    labels = {"title": gettext(language, "Titre"), "summary": gettext(language, "Résumé")}
    values = {"title": title, "summary": summary, "applicant": applicant}
    typed = zip_longest(partner or [], amount or [], purpose or [], fillvalue="")
    rows = [BudgetRow(*cells) for cells in typed]
    lines = _budget_lines(language, rows)
    try:
        with unit(request) as (session, visitor):
            if (away := refusal(request, visitor, csrf_token)) is not None:
                return away
            call = service.get_call(session, visitor.actor, call_id)
            if any(row.error for row in rows):
                raise InputError(gettext(language, "Budget : corrigez les lignes signalées."))
            if not applicant.isdigit():
                raise InputError(
                    gettext(language, "« Candidat » : choisissez la structure ou l'entreprise candidate")
                )
            key = "cluster_id" if call.applicant_kind.value == "cluster" else "organisation_id"
            data = schema(
                ApplicationIn,
                labels,
                title=title,
                summary=summary or None,
                budget=[line for _, line in lines],
                **{key: int(applicant)},
            )
            created = service.create_application(session, visitor.actor, call_id, data)
    except GrappeError as exc:
        if exc.line is not None:  # a budget line the service refused: its message on its row
            rows[lines[exc.line - 1][0]].error = str(exc)
            message = gettext(language, "Budget : corrigez les lignes signalées.")
        elif isinstance(exc, InputError):
            message = str(exc)
        else:
            raise
        return _application_form(request, call_id, values, rows, message, status_code=exc.http_status)
    return RedirectResponse(f"/candidatures/{created.id}", status_code=303)


@router.get("/candidatures/{application_id:int}", response_class=HTMLResponse)
@as_page
def application_page(request: Request, application_id: int) -> Response:
    """An application: eligibility with its reasons, budget by partner, documents, submission."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        application = service.get_application(session, visitor.actor, application_id)
        call = service.get_call(session, visitor.actor, application.call_id)
    context = {"application": application, "call": call, "role": visitor.actor.role.value}
    return show(request, visitor, "calls/application.html", context)


@router.post("/candidatures/{application_id:int}/documents", response_class=HTMLResponse)
@as_page
def attach_document(
    request: Request,
    application_id: int,
    file: Annotated[UploadFile, File()],
    doc_type: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Join a document to the draft (type and size checked)."""
    content = file.file.read()

    def act(session: Session, visitor: Visitor) -> str:
        service.attach_document(
            session, visitor.actor, application_id, doc_type, file.filename or "", content
        )
        return f"/candidatures/{application_id}"

    return submitted(request, csrf_token, act)


@router.post("/candidatures/{application_id:int}/depot", response_class=HTMLResponse)
@as_page
def submit_application(request: Request, application_id: int, csrf_token: FormText = "") -> Response:
    """Submit the application before the deadline."""

    def act(session: Session, visitor: Visitor) -> str:
        service.submit_application(session, visitor.actor, application_id)
        return f"/candidatures/{application_id}"

    return submitted(request, csrf_token, act)


@router.get("/candidatures/{application_id:int}/evaluation", response_class=HTMLResponse)
@as_page
def review_form(request: Request, application_id: int) -> Response:
    """The review form of an assigned application: one mark and comment per criterion."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        application = service.get_application(session, visitor.actor, application_id)
        call = service.get_call(session, visitor.actor, application.call_id)
        mine = [
            r
            for r in service.my_reviews(session, visitor.actor, limit=500).items
            if r.application_id == application_id
        ]
    context = {"application": application, "call": call, "review": mine[0] if mine else None}
    return show(request, visitor, "calls/review.html", context)


@router.post("/candidatures/{application_id:int}/evaluation", response_class=HTMLResponse)
async def submit_review(request: Request, application_id: int) -> Response:
    """Record the marks of the form (``note_<criterion>``, ``commentaire_<criterion>``): the
    criteria are the call's, so the fields are read from the form itself."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_record_review, request, application_id, fields)


@as_page
def _record_review(request: Request, application_id: int, form: dict[str, str]) -> Response:
    language = language_of(request)

    def act(session: Session, visitor: Visitor) -> str:
        marks = []
        for key, value in form.items():
            if key.startswith("note_") and key[5:].isdigit():
                criterion = key[5:]
                marks.append(
                    {
                        "criterion_id": int(criterion),
                        "value": amount_of(language, gettext(language, "Note"), value or ""),
                        "comment": form.get(f"commentaire_{criterion}") or None,
                    }
                )
        data = schema(ReviewIn, {"marks": gettext(language, "Note")}, marks=marks)
        service.submit_review(session, visitor.actor, application_id, data)
        return f"/candidatures/{application_id}/evaluation"

    return submitted(request, form.get("csrf_token", ""), act)


@router.get("/appels/{call_id:int}/comite", response_class=HTMLResponse)
@as_page
def committee(request: Request, call_id: int) -> Response:
    """The committee's page: the ranking, the flagged disagreements, the exact selection beside greedy."""
    normalised = request.query_params.get("normalise") == "1"
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        call = service.get_call(session, visitor.actor, call_id)
        board = service.scoreboard(session, visitor.actor, call_id, normalised=normalised)
        proposal = None
        if call.decided_at is None and any(r.score is not None for r in board.items):
            proposal = service.propose_selection(
                session, visitor.actor, call_id, SelectionIn(normalised=normalised)
            )
    context = {"call": call, "board": board, "proposal": proposal, "normalised": normalised}
    return show(request, visitor, "calls/committee.html", context)


@router.post("/appels/{call_id:int}/comite", response_class=HTMLResponse)
@as_page
def decide(
    request: Request, call_id: int, justification: FormText = "", csrf_token: FormText = ""
) -> Response:
    """Record the committee's decision (the exact selection) with its justification."""
    language = language_of(request)

    def act(session: Session, visitor: Visitor) -> str:
        data = schema(
            DecisionIn,
            {"justification": gettext(language, "Motivation du comité")},
            justification=justification,
        )
        service.decide(session, visitor.actor, call_id, data)
        return f"/appels/{call_id}/comite"

    return submitted(request, csrf_token, act)
