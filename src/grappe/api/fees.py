"""Routes of membership fees: schedules, calls, payments, waivers, dunning, key figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from grappe.api.deps import ERRORS, Day, Id, Limit, Offset, Work, Year
from grappe.registry.fees import figures
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
