"""Evaluation pages: scorecard (with the self-assessment form), benchmark, contracts, reports.

Parse the query or the form -> evaluation service -> page. Every page first asks the visitor
to sign in; the evaluation services then check the signed-in actor on the cluster or the
contract itself (another tenant's private cluster is "introuvable", 404; a public one the
actor may not evaluate is "refusé", 403).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from grappe.errors import InputError
from grappe.evaluation import evidence as evidence_files
from grappe.evaluation import reports, service
from grappe.evaluation.indicators import AREAS, CATALOGUE, named
from grappe.evaluation.schemas import SelfAssessmentIn
from grappe.kit.present import Formatter
from grappe.web.forms import refusal, schema, submitted, year_of
from grappe.web.render import gettext, language_of
from grappe.web.unit import Visitor, as_page, show, unit

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]


def _terms(request: Request) -> dict[str, object]:
    """What the evaluation pages show in the page's language: names of indicators, marks and
    areas (``named``), indicator values (``shown``)."""
    language = language_of(request)
    fmt = Formatter(language)
    return {
        "named": lambda code: named(code, language),
        "shown": lambda code, value: reports.value_text(code, value, fmt),
    }


def _year(request: Request) -> int:
    """The ``annee`` query parameter; default: last year, the last complete one."""
    raw = request.query_params.get("annee")
    return year_of(raw) if raw else year_of(None) - 1


@router.get("/evaluation/{cluster_id:int}", response_class=HTMLResponse)
@as_page
def scorecard(request: Request, cluster_id: int) -> Response:
    """The scorecard of a cluster: marks read red/amber/green, ranks among peers, self-assessment."""
    year = _year(request)
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        card = service.scorecard(session, visitor.actor, cluster_id, year)
        may_declare = service.may_declare(session, visitor.actor, cluster_id)
    context = {
        "card": card,
        "year": year,
        "may_declare": may_declare,
        "areas": [(code, named(code, language_of(request))) for code, _, _ in AREAS],
        "indicators": CATALOGUE,
        **_terms(request),
    }
    return show(request, visitor, "evaluation/scorecard.html", context)


@router.post("/evaluation/{cluster_id:int}/auto-evaluation", response_class=HTMLResponse)
@as_page
def self_assess(
    request: Request,
    cluster_id: int,
    area: FormText = "",
    year: FormText = "",
    score: FormText = "",
    comment: FormText = "",
    evidence: Annotated[UploadFile | None, File()] = None,
    csrf_token: FormText = "",
) -> Response:
    """Record the management's mark of one area, with an optional evidence file."""
    language = language_of(request)
    proof = None
    if evidence is not None and evidence.filename:
        proof = service.Evidence(evidence.filename, evidence.file.read(evidence_files.MAX_BYTES + 1))

    def act(session: Session, visitor: Visitor) -> str:
        labels = {
            "area": gettext(language, "Domaine"),
            "year": gettext(language, "Année"),
            "score": gettext(language, "Note"),
            "comment": gettext(language, "Commentaire"),
        }
        data = schema(SelfAssessmentIn, labels, area=area, year=year, score=score, comment=comment or None)
        service.self_assess(session, visitor.actor, cluster_id, data, proof)
        return f"/evaluation/{cluster_id}?annee={data.year}#auto-evaluation"

    return submitted(request, csrf_token, act)


@router.get("/evaluation/{cluster_id:int}/comparaison", response_class=HTMLResponse)
@as_page
def benchmark(request: Request, cluster_id: int) -> Response:
    """An indicator of a cluster against its peers: percentile rank, distribution, peers."""
    year = _year(request)
    code = request.query_params.get("indicateur", "members")
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        out = service.benchmark(session, visitor.actor, cluster_id, code, year)
    chart = reports.bar_chart(
        [(p.name, p.percentile, "green" if p.is_self else "none") for p in out.items],
        title=gettext(language_of(request), "Rang centile parmi les pairs"),
    )
    context = {
        "out": out,
        "year": year,
        "chart": chart,
        "indicators": CATALOGUE,
        **_terms(request),
    }
    return show(request, visitor, "evaluation/benchmark.html", context)


@router.get("/evaluation/{cluster_id:int}/rapport.{suffix}")
@as_page
def activity_report(request: Request, cluster_id: int, suffix: Literal["pdf", "html"]) -> Response:
    """The yearly activity report of a cluster, as a file (PDF, or HTML to keep)."""
    year = _year(request)
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        document = reports.activity_html(service.activity_report(session, visitor.actor, cluster_id, year))
    return _download(document, suffix)


def _download(document: reports.Document, suffix: str) -> Response:
    # A download, not a page: the report carries its own print styles.
    if suffix == "pdf":
        content, media = reports.pdf(document), "application/pdf"
    else:
        content, media = document.html.encode("utf-8"), "text/html; charset=utf-8"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{document.stem}.{suffix}"'},
    )


@router.get("/evaluation/contrats", response_class=HTMLResponse)
@as_page
def contracts(request: Request) -> Response:
    """The objectives contracts the signed-in user reads."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        page = service.list_contracts(session, visitor.actor, limit=500)
    return show(request, visitor, "evaluation/contracts.html", {"page": page})


@router.get("/evaluation/contrats/{contract_id:int}", response_class=HTMLResponse)
@as_page
def contract(request: Request, contract_id: int) -> Response:
    """A contract: its targets, and one year's achievement and results-based funding."""
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        out = service.get_contract(session, visitor.actor, contract_id)
        raw = request.query_params.get("annee")
        year = year_of(raw) if raw else max(out.start_year, min(out.end_year, year_of(None) - 1))
        if not out.start_year <= year <= out.end_year:
            raise InputError(
                gettext(language_of(request), "Année hors de la période du contrat")
                + f" ({out.start_year}–{out.end_year})"
            )
        results = service.contract_year(session, visitor.actor, contract_id, year)
    context = {
        "contract": out,
        "results": results,
        "year": year,
        "years": list(range(out.start_year, out.end_year + 1)),
        **_terms(request),
    }
    return show(request, visitor, "evaluation/contract.html", context)


@router.get("/evaluation/portefeuille.{suffix}")
@as_page
def portfolio(request: Request, suffix: Literal["pdf", "html"]) -> Response:
    """The signed-in funder's portfolio evaluation, as a file."""
    year = _year(request)
    with unit(request) as (session, visitor):
        if (away := refusal(request, visitor)) is not None:
            return away
        document = reports.portfolio_html(service.portfolio(session, visitor.actor, year))
    return _download(document, suffix)
