"""Routes of membership fees: schedules, calls, payments, waivers, dunning, key figures."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import Response

from grappe.api.deps import ERRORS, Day, Id, Limit, Offset, Work, Year
from grappe.kit import export
from grappe.registry.fees import figures, letters
from grappe.registry.fees import service as fees
from grappe.registry.fees.schemas import (
    DunningPage,
    FeeCallOut,
    FeeCallPage,
    FeeCallsIssued,
    FeeScheduleIn,
    FeeScheduleOut,
    KeyFigures,
    PaymentIn,
    WaiveIn,
)
from grappe.registry.models import FeeStatus

router = APIRouter()


@router.get(
    "/clusters/{cluster_id}/figures",
    response_model=KeyFigures,
    tags=["structures"],
    responses=ERRORS,
)
def key_figures(work: Work, cluster_id: Id, on: Day = None) -> KeyFigures:
    """Chiffres clés : adhérents par nature et taille, flux, rétention, cotisations, territoire."""
    with work as (db, actor):
        return figures.key_figures(db, actor, cluster_id, on=on)


@router.put(
    "/clusters/{cluster_id}/fee-schedules",
    response_model=FeeScheduleOut,
    tags=["cotisations"],
    responses=ERRORS,
)
def set_schedule(work: Work, cluster_id: Id, body: FeeScheduleIn) -> FeeScheduleOut:
    """Fixer le barème d'une année."""
    with work as (db, actor):
        return fees.set_schedule(db, actor, cluster_id, body)


@router.get(
    "/clusters/{cluster_id}/fee-schedules/{year}",
    response_model=FeeScheduleOut,
    tags=["cotisations"],
    responses=ERRORS,
)
def get_schedule(
    work: Work, cluster_id: Id, year: Annotated[int, PathParam(ge=1900, le=2200)]
) -> FeeScheduleOut:
    """Barème d'une année."""
    with work as (db, actor):
        return fees.get_schedule(db, actor, cluster_id, year)


@router.post(
    "/clusters/{cluster_id}/fee-calls",
    response_model=FeeCallsIssued,
    tags=["cotisations"],
    responses=ERRORS,
)
def issue_calls(work: Work, cluster_id: Id, year: Year) -> FeeCallsIssued:
    """Émettre les appels de cotisation d'une année."""
    with work as (db, actor):
        return fees.issue_calls(db, actor, cluster_id, year)


@router.get(
    "/clusters/{cluster_id}/fee-calls",
    response_model=FeeCallPage,
    tags=["cotisations"],
    responses=ERRORS,
)
def list_calls(
    *,
    work: Work,
    cluster_id: Id,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    status: FeeStatus | None = None,
    on: Day = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> FeeCallPage:
    """Appels de cotisation et leur statut."""
    with work as (db, actor):
        calls = fees.list_calls(db, actor, cluster_id, year=year, status=status, on=on)
    return FeeCallPage.of(calls, limit, offset)


@router.post(
    "/fee-calls/{fee_call_id}/payments",
    response_model=FeeCallOut,
    tags=["cotisations"],
    responses=ERRORS,
)
def record_payment(work: Work, fee_call_id: Id, body: PaymentIn) -> FeeCallOut:
    """Enregistrer un paiement."""
    with work as (db, actor):
        return fees.record_payment(db, actor, fee_call_id, body)


@router.post(
    "/fee-calls/{fee_call_id}/waive",
    response_model=FeeCallOut,
    tags=["cotisations"],
    responses=ERRORS,
)
def waive(work: Work, fee_call_id: Id, body: WaiveIn) -> FeeCallOut:
    """Exonérer une cotisation."""
    with work as (db, actor):
        return fees.waive(db, actor, fee_call_id, body)


@router.get(
    "/clusters/{cluster_id}/dunning",
    response_model=DunningPage,
    tags=["cotisations"],
    responses=ERRORS,
)
def dunning(
    work: Work, cluster_id: Id, on: Day = None, limit: Limit = 100, offset: Offset = 0
) -> DunningPage:
    """Liste des relances, les plus en retard d'abord."""
    with work as (db, actor):
        lines = fees.dunning_list(db, actor, cluster_id, on=on)
    return DunningPage.of(lines, limit, offset)


_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {letters.MEDIA_TYPE: {}}, "description": "Lettres au format PDF"}
}
def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type=letters.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/clusters/{cluster_id}/dunning/export",
    tags=["cotisations"],
    responses=ERRORS,
    response_class=Response,
)
def export_dunning(
    work: Work, cluster_id: Id, format: export.FileFormat = "csv", on: Day = None
) -> Response:
    """Exporter la liste des relances (CSV pour les programmes ou pour Excel en français, XLSX)."""
    suffix = export.SUFFIXES[format]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"relances{suffix}"
        with work as (db, actor):
            fees.export_dunning(db, actor, cluster_id, path, on=on, format=format)
        content = path.read_bytes()
    return Response(
        content,
        media_type=export.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="relances-{cluster_id}{suffix}"'},
    )


@router.get(
    "/clusters/{cluster_id}/fee-letters",
    tags=["cotisations"],
    responses=ERRORS | _PDF,
    response_class=Response,
)
def fee_letters(
    work: Work, cluster_id: Id, year: Year, kind: letters.LetterKind, on: Day = None
) -> Response:
    """Appels de cotisation ou relances d'une année, toutes les lettres dans un PDF."""
    with work as (db, actor):
        found = letters.letters_of_year(db, actor, cluster_id, year, kind, on=on)
    return _pdf(letters.render_pdf(found), f"{kind.value}-{cluster_id}-{year}.pdf")


@router.get(
    "/fee-calls/{fee_call_id}/letter",
    tags=["cotisations"],
    responses=ERRORS | _PDF,
    response_class=Response,
)
def fee_letter(work: Work, fee_call_id: Id, kind: letters.LetterKind, on: Day = None) -> Response:
    """L'appel de cotisation ou la relance d'un appel, en PDF."""
    with work as (db, actor):
        letter = letters.letter_of_call(db, actor, fee_call_id, kind, on=on)
    return _pdf(letters.render_pdf([letter]), letters.file_name(letter))
