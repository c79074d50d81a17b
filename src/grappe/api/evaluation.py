"""Evaluation endpoints: indicators, declarations, contracts, scorecards, benchmarks, reports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from fastapi import Path as PathParam
from pydantic import BaseModel, ValidationError

from grappe.api.deps import Unit, get_unit
from grappe.errors import InputError
from grappe.evaluation import evidence as evidence_files
from grappe.evaluation import reports, service
from grappe.evaluation.schemas import (
    AreaOut,
    Benchmark,
    ContractIn,
    ContractOut,
    ContractPage,
    ContractYear,
    DeclareIn,
    IndicatorDefinition,
    IndicatorValue,
    IndicatorValues,
    Scorecard,
    SelfAssessmentIn,
)
from grappe.kit.repository import MAX_PAGE

router = APIRouter()

Work = Annotated[Unit, Depends(get_unit)]
Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]
Year = Annotated[int, Query(ge=1990, le=2100, description="Année évaluée")]
PathYear = Annotated[int, PathParam(ge=1990, le=2100)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Peers = Annotated[
    str | None,
    Query(
        max_length=40,
        description="Critères des pairs séparés par des virgules (label, sector, size) ; « none » : tous",
    ),
]
ReportFormat = Literal["html", "pdf"]
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Rôle insuffisant sur un objet visible"},
    404: {"description": "Introuvable (ou objet d'une autre structure)"},
    409: {"description": "Conflit"},
    422: {"description": "Entrée invalide"},
}
TAGS: list[str | Any] = ["évaluation"]


class Catalogue(BaseModel):
    total: int
    items: list[IndicatorDefinition]


def _criteria(text: str | None) -> list[str] | None:
    if text is None:
        return None
    if text.strip() == "none":
        return []
    return [c.strip() for c in text.split(",") if c.strip()]


async def _evidence(file: UploadFile | None) -> service.Evidence | None:
    if file is None or not file.filename:
        return None
    content = await file.read(evidence_files.MAX_BYTES + 1)
    return service.Evidence(file.filename, content)


def _validated(model: type[Any], **values: object) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])} : {e['msg']}" for e in exc.errors())
        raise InputError(f"valeurs invalides — {detail}") from exc


def _document(document: reports.Document, format: ReportFormat) -> Response:
    if format == "pdf":
        return Response(
            reports.pdf(document),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{document.stem}.pdf"'},
        )
    return Response(document.html, media_type="text/html; charset=utf-8")


@router.get("/evaluation/indicators", response_model=Catalogue, tags=TAGS)
def catalogue(limit: Limit = 100, offset: Offset = 0) -> Catalogue:
    """Le catalogue des indicateurs : nom, définition, source, seuils par défaut."""
    items = service.catalogue()
    return Catalogue(total=len(items), items=items[offset : offset + limit])


@router.get(
    "/clusters/{cluster_id}/evaluation/indicators",
    response_model=IndicatorValues,
    tags=TAGS,
    responses=ERRORS,
)
def cluster_indicators(
    *, work: Work, cluster_id: Id, year: Year, limit: Limit = 100, offset: Offset = 0
) -> IndicatorValues:
    """Les indicateurs d'une structure pour une année (calculés ou déclarés)."""
    with work as (db, actor):
        out = service.cluster_indicators(db, actor, cluster_id, year)
    out.items = out.items[offset : offset + limit]
    return out


@router.post(
    "/clusters/{cluster_id}/evaluation/declarations",
    response_model=IndicatorValue,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
async def declare(
    *,
    work: Work,
    cluster_id: Id,
    indicator: Annotated[str, Form(max_length=40)],
    year: Annotated[int, Form()],
    value: Annotated[float, Form()],
    evidence: Annotated[UploadFile | None, File()] = None,
) -> IndicatorValue:
    """Déclarer la valeur d'un indicateur (formulaire multipart, pièce justificative facultative)."""
    data = _validated(DeclareIn, indicator=indicator, year=year, value=value)
    proof = await _evidence(evidence)
    with work as (db, actor):
        return service.declare_value(db, actor, cluster_id, data, proof)


@router.post(
    "/clusters/{cluster_id}/evaluation/self-assessment",
    response_model=AreaOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
async def self_assess(
    *,
    work: Work,
    cluster_id: Id,
    area: Annotated[str, Form(max_length=20)],
    year: Annotated[int, Form()],
    score: Annotated[int, Form()],
    comment: Annotated[str | None, Form(max_length=2000)] = None,
    evidence: Annotated[UploadFile | None, File()] = None,
) -> AreaOut:
    """Auto-évaluation de l'animation (domaines inspirés de l'ESCA), pièce justificative facultative."""
    data = _validated(SelfAssessmentIn, area=area, year=year, score=score, comment=comment)
    proof = await _evidence(evidence)
    with work as (db, actor):
        return service.self_assess(db, actor, cluster_id, data, proof)


@router.get(
    "/clusters/{cluster_id}/evaluation/scorecard", response_model=Scorecard, tags=TAGS, responses=ERRORS
)
def scorecard(*, work: Work, cluster_id: Id, year: Year, peers: Peers = None) -> Scorecard:
    """Le tableau de bord : marques en vert / orange / rouge, rangs parmi les pairs, auto-évaluation."""
    with work as (db, actor):
        return service.scorecard(db, actor, cluster_id, year, criteria=_criteria(peers))


@router.get(
    "/clusters/{cluster_id}/evaluation/benchmark/{indicator}",
    response_model=Benchmark,
    tags=TAGS,
    responses=ERRORS,
)
def benchmark(
    *,
    work: Work,
    cluster_id: Id,
    indicator: Annotated[str, PathParam(max_length=40)],
    year: Year,
    peers: Peers = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Benchmark:
    """Un indicateur comparé aux pairs : rang centile, distribution, pairs (anonymes sauf droits)."""
    with work as (db, actor):
        out = service.benchmark(db, actor, cluster_id, indicator, year, criteria=_criteria(peers))
    out.items = out.items[offset : offset + limit]
    return out


@router.get("/clusters/{cluster_id}/evaluation/report", tags=TAGS, responses=ERRORS, response_class=Response)
def activity_report(*, work: Work, cluster_id: Id, year: Year, format: ReportFormat = "html") -> Response:
    """Le rapport d'activité annuel d'une structure (HTML ou PDF)."""
    with work as (db, actor):
        document = reports.activity_html(service.activity_report(db, actor, cluster_id, year))
    return _document(document, format)


@router.get("/evaluation/portfolio", tags=TAGS, responses=ERRORS, response_class=Response)
def portfolio(
    *,
    work: Work,
    year: Year,
    funder_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    format: ReportFormat = "html",
) -> Response:
    """L'évaluation du portefeuille d'un financeur (le sien ; tout financeur pour l'administrateur)."""
    with work as (db, actor):
        document = reports.portfolio_html(service.portfolio(db, actor, year, funder_id))
    return _document(document, format)


@router.get("/evaluation/contracts", response_model=ContractPage, tags=TAGS, responses=ERRORS)
def list_contracts(
    *,
    work: Work,
    cluster_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ContractPage:
    """Les contrats d'objectifs visibles (financeur : les siens ; gestionnaire : ceux de ses structures)."""
    with work as (db, actor):
        return service.list_contracts(db, actor, cluster_id=cluster_id, limit=limit, offset=offset)


@router.post(
    "/evaluation/contracts", response_model=ContractOut, status_code=201, tags=TAGS, responses=ERRORS
)
def create_contract(*, work: Work, body: ContractIn) -> ContractOut:
    """Établir un contrat d'objectifs (le financeur d'une structure qu'il finance, ou l'administrateur)."""
    with work as (db, actor):
        return service.create_contract(db, actor, body)


@router.get("/evaluation/contracts/{contract_id}", response_model=ContractOut, tags=TAGS, responses=ERRORS)
def get_contract(*, work: Work, contract_id: Id) -> ContractOut:
    """Un contrat d'objectifs."""
    with work as (db, actor):
        return service.get_contract(db, actor, contract_id)


@router.delete("/evaluation/contracts/{contract_id}", status_code=204, tags=TAGS, responses=ERRORS)
def delete_contract(*, work: Work, contract_id: Id) -> Response:
    """Retirer un contrat d'objectifs (le financeur signataire, ou l'administrateur)."""
    with work as (db, actor):
        service.delete_contract(db, actor, contract_id)
    return Response(status_code=204)


@router.get(
    "/evaluation/contracts/{contract_id}/years/{year}",
    response_model=ContractYear,
    tags=TAGS,
    responses=ERRORS,
)
def contract_year(*, work: Work, contract_id: Id, year: PathYear) -> ContractYear:
    """Une année du contrat : réalisé contre cibles, financement au résultat."""
    with work as (db, actor):
        return service.contract_year(db, actor, contract_id, year)
