"""Membership fees: schedules per cluster and year, fee calls, payments, waivers, dunning list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from grappe.errors import InputError, NotFoundError
from grappe.kit import export
from grappe.refdata import sizes
from grappe.registry import bounds, policy
from grappe.registry.fees.repository import FeeCallRepository, FeeScheduleRepository
from grappe.registry.fees.schemas import (
    BracketOut,
    DunningLine,
    FeeCallOut,
    FeeCallsIssued,
    FeeRuleIn,
    FeeRuleOut,
    FeeScheduleIn,
    FeeScheduleOut,
    PaymentIn,
    WaiveIn,
)
from grappe.registry.memberships import service as memberships
from grappe.registry.models import FeeCall, FeeMode, FeeRule, FeeSchedule, FeeStatus, Organisation, Payment
from grappe.registry.policy import Access, Actor

CENT = Decimal("0.01")
DUNNING_LABELS: Final = {
    "fee_call_id": "appel",
    "organisation": "adhérent",
    "contact_email": "e-mail de contact",
    "year": "année",
    "amount_eur": "montant (€)",
    "paid_eur": "payé (€)",
    "outstanding_eur": "reste dû (€)",
    "due_on": "échéance",
    "days_late": "jours de retard",
}
"""Columns of the dunning export (CSV names) and their French headers (XLSX)."""


@lru_cache(maxsize=1)
def _central_headcount() -> dict[str, float]:
    table = sizes.size_bands().select(["code", "central"]).to_pylist()
    return {row["code"]: float(row["central"] or 0) for row in table}


def headcount_of(org: Organisation) -> float:
    """The headcount a bracket fee uses: declared, else the central value of the SIRENE band."""
    if org.declared_headcount is not None:
        return float(org.declared_headcount)
    if org.size_band:
        return _central_headcount().get(org.size_band, 0.0)
    return 0.0


def _check_rule(rule: FeeRuleIn, index: int) -> None:
    where = f"règle {index + 1} ({rule.membership_type})"
    if rule.mode is FeeMode.FIXED:
        if rule.amount_eur is None or rule.brackets:
            raise InputError(f"{where} : mode fixed → amount_eur requis, pas de brackets")
    else:
        if not rule.brackets or rule.amount_eur is not None:
            raise InputError(f"{where} : mode headcount → brackets requis, pas de amount_eur")
        mins = [b.min_headcount for b in rule.brackets]
        if mins[0] != 0 or mins != sorted(set(mins)):
            raise InputError(f"{where} : les tranches doivent commencer à 0 et croître strictement ({mins})")


def _schedule_out(schedule: FeeSchedule) -> FeeScheduleOut:
    return FeeScheduleOut(
        id=schedule.id,
        year=schedule.year,
        cap_eur=schedule.cap_eur,
        due_days=schedule.due_days,
        letterhead=schedule.letterhead,
        payment_details=schedule.payment_details,
        version=schedule.version,
        rules=[
            FeeRuleOut(
                membership_type=r.membership_type,
                size_category=r.size_category,  # type: ignore[arg-type]
                mode=FeeMode(r.mode),
                amount_eur=r.amount_eur,
                brackets=[
                    BracketOut(min_headcount=b[0], amount_eur=Decimal(str(b[1]))) for b in (r.brackets or [])
                ],
            )
            for r in schedule.rules
        ],
    )


def set_schedule(session: Session, actor: Actor, cluster_id: int, data: FeeScheduleIn) -> FeeScheduleOut:
    """Create or replace the fee schedule of a year (administrators, the cluster's managers)."""
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "fixer le barème des cotisations")
    seen: set[tuple[str, str | None]] = set()
    for i, rule in enumerate(data.rules):
        _check_rule(rule, i)
        key = (
            rule.membership_type.strip(),
            rule.size_category.value if rule.size_category else None,
        )
        if key in seen:
            raise InputError(f"règle {i + 1} : doublon {key}")
        seen.add(key)
    repository = FeeScheduleRepository(session)
    schedule = repository.of_year(cluster_id, data.year)
    if schedule is None:
        schedule = repository.add(FeeSchedule(cluster_id=cluster_id, year=data.year))
    schedule.cap_eur = data.cap_eur
    schedule.due_days = data.due_days
    schedule.letterhead = data.letterhead
    schedule.payment_details = data.payment_details
    schedule.rules = [
        FeeRule(
            membership_type=r.membership_type.strip(),
            size_category=r.size_category.value if r.size_category else None,
            mode=r.mode.value,
            amount_eur=r.amount_eur,
            brackets=[[b.min_headcount, str(b.amount_eur)] for b in r.brackets] or None,
        )
        for r in data.rules
    ]
    repository.flush()
    return _schedule_out(schedule)


def get_schedule(session: Session, actor: Actor, cluster_id: int, year: int) -> FeeScheduleOut:
    """The fee schedule of a year (administrators, managers, funders)."""
    policy.require_cluster(session, actor, cluster_id, Access.READ, "consulter le barème")
    schedule = FeeScheduleRepository(session).of_year(cluster_id, year)
    if schedule is None:
        raise NotFoundError(f"pas de barème {year} pour la structure {cluster_id}")
    return _schedule_out(schedule)


def fee_for(schedule: FeeSchedule, membership_type: str, org: Organisation) -> Decimal | None:
    """The fee a schedule asks of a member (None when no rule applies).

    The rule of the member's type and size category wins over the rule of its type for any
    size; a bracket rule takes the bracket of the member's headcount; the cap applies last.
    """
    rules = [r for r in schedule.rules if r.membership_type == membership_type]
    rule = next((r for r in rules if r.size_category == org.size_category and r.size_category), None) or next(
        (r for r in rules if r.size_category is None), None
    )
    if rule is None:
        return None
    if rule.mode == FeeMode.FIXED.value:
        amount = Decimal(rule.amount_eur or 0)
    else:
        headcount = headcount_of(org)
        amount = Decimal(0)
        for low, value in rule.brackets or []:
            if headcount >= low:
                amount = Decimal(str(value))
    if schedule.cap_eur is not None:
        amount = min(amount, Decimal(schedule.cap_eur))
    return amount.quantize(CENT)


def issue_calls(
    session: Session, actor: Actor, cluster_id: int, year: int, *, issued_on: dt.date | None = None
) -> FeeCallsIssued:
    """Issue the fee calls of a year to every member of that year not yet called.

    Members of the year are those whose period meets the calendar year. A member whose type
    has no rule in the schedule is an error (the message lists them), so no member is
    silently skipped.
    """
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "émettre les appels de cotisation")
    bounds.ACCOUNTING.check(year, "année des appels")
    schedule = FeeScheduleRepository(session).of_year(cluster_id, year)
    if schedule is None:
        raise InputError(f"pas de barème {year} : fixez-le avant d'émettre les appels")
    issued_on = issued_on or dt.date.today()
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    calls_repository = FeeCallRepository(session)
    called = calls_repository.called_memberships(cluster_id, year)
    members = memberships.meeting(session, cluster_id, start, end)
    missing = []
    calls = []
    for m in members:
        if m.id in called:
            continue
        amount = fee_for(schedule, m.membership_type, m.organisation)
        if amount is None:
            missing.append(
                f"{m.organisation.name} ({m.membership_type}, "
                f"{m.organisation.size_category or 'taille inconnue'})"
            )
            continue
        calls.append(
            FeeCall(
                cluster_id=cluster_id,
                membership_id=m.id,
                organisation_id=m.organisation_id,
                year=year,
                amount_eur=amount,
                issued_on=issued_on,
                due_on=issued_on + dt.timedelta(days=schedule.due_days),
                status=FeeStatus.DUE.value if amount > 0 else FeeStatus.PAID.value,
            )
        )
    if missing:
        raise InputError(
            f"aucune règle du barème {year} pour {len(missing)} adhérent(s) : "
            + "; ".join(missing[:10])
            + (" ..." if len(missing) > 10 else "")
        )
    session.add_all(calls)
    calls_repository.flush()
    return FeeCallsIssued(
        year=year,
        issued=len(calls),
        already=len(called),
        total_eur=sum((c.amount_eur for c in calls), Decimal(0)),
    )


def status_of(call: FeeCall, paid: Decimal, on: dt.date) -> FeeStatus:
    """The status of a call on a date: paid or waived as stored; due becomes late after its date."""
    if call.status != FeeStatus.DUE.value:
        return FeeStatus(call.status)
    if paid >= call.amount_eur:
        return FeeStatus.PAID
    return FeeStatus.LATE if call.due_on < on else FeeStatus.DUE


def _call_out(call: FeeCall, paid: Decimal, on: dt.date) -> FeeCallOut:
    return FeeCallOut(
        id=call.id,
        membership_id=call.membership_id,
        organisation_id=call.organisation_id,
        organisation=call.organisation.name,
        year=call.year,
        amount_eur=call.amount_eur,
        paid_eur=Decimal(paid).quantize(CENT),
        issued_on=call.issued_on,
        due_on=call.due_on,
        status=status_of(call, Decimal(paid), on),
        waived_reason=call.waived_reason,
        version=call.version,
    )


def list_calls(
    session: Session,
    actor: Actor,
    cluster_id: int,
    *,
    year: int | None = None,
    status: FeeStatus | None = None,
    on: dt.date | None = None,
) -> list[FeeCallOut]:
    """Fee calls of a cluster with their status on a date (administrators, managers, funders)."""
    policy.require_cluster(session, actor, cluster_id, Access.READ, "consulter les cotisations")
    on = on or dt.date.today()
    repository = FeeCallRepository(session)
    calls = repository.of_cluster(cluster_id, year)
    paid = repository.paid_in_cluster(cluster_id)
    result = [_call_out(c, Decimal(paid.get(c.id, 0)), on) for c in calls]
    return [c for c in result if status is None or c.status is status]


def load_call(
    session: Session, actor: Actor, fee_call_id: int, action: str, *, lock: bool = False
) -> FeeCall:
    """A fee call its cluster's managers change (else "introuvable" or "refusé", see policy)."""
    call = FeeCallRepository(session).load(fee_call_id, lock=lock)
    policy.require_cluster_object(
        session, actor, call.cluster_id, Access.MANAGE, f"appel de cotisation {fee_call_id}", action
    )
    return call


def record_payment(
    session: Session, actor: Actor, fee_call_id: int, data: PaymentIn, *, on: dt.date | None = None
) -> FeeCallOut:
    """Record a payment; the call becomes paid when payments cover its amount.

    A payment above what remains due is refused (no credit is kept: the cluster refunds or
    records the surplus elsewhere), and so is any payment on a settled or waived call. The
    check and the write are one step for concurrent payments: the call is locked (PostgreSQL)
    and its version bumped by every payment, so two racers never both pass.
    """
    call = load_call(session, actor, fee_call_id, "enregistrer un paiement", lock=True)
    if call.status == FeeStatus.WAIVED.value:
        raise InputError(f"appel {fee_call_id} exonéré : pas de paiement attendu")
    already = sum((p.amount_eur for p in call.payments), Decimal(0)).quantize(CENT)
    remaining = (call.amount_eur - already).quantize(CENT)
    if remaining <= 0:
        raise InputError(
            f"appel {fee_call_id} déjà réglé ({call.amount_eur} € payés) : paiement de "
            f"{data.amount_eur} € refusé"
        )
    if data.amount_eur > remaining:
        raise InputError(
            f"paiement de {data.amount_eur} € refusé : l'appel {fee_call_id} demande "
            f"{call.amount_eur} €, déjà payé {already} €, reste dû {remaining} €"
        )
    paid = already + data.amount_eur
    flag_modified(call, "status")  # an UPDATE even when the status stays: the version moves
    call.payments.append(
        Payment(
            cluster_id=call.cluster_id,
            paid_on=data.paid_on,
            amount_eur=data.amount_eur,
            method=data.method,
            reference=data.reference,
        )
    )
    if paid >= call.amount_eur and call.status != FeeStatus.PAID.value:
        call.status = FeeStatus.PAID.value
    FeeCallRepository(session).flush()
    return _call_out(call, paid, on or dt.date.today())


def waive(
    session: Session, actor: Actor, fee_call_id: int, data: WaiveIn, *, on: dt.date | None = None
) -> FeeCallOut:
    """Waive a fee call (exonération) with a reason (administrators, the cluster's managers)."""
    repository = FeeCallRepository(session)
    call = load_call(session, actor, fee_call_id, "exonérer")
    repository.check_version(call, data.version)
    if call.status == FeeStatus.PAID.value:
        raise InputError(f"appel {fee_call_id} déjà payé : rien à exonérer")
    call.status = FeeStatus.WAIVED.value
    call.waived_reason = data.reason
    repository.flush()
    paid = sum((p.amount_eur for p in call.payments), Decimal(0))
    return _call_out(call, paid, on or dt.date.today())


def dunning_list(
    session: Session, actor: Actor, cluster_id: int, *, on: dt.date | None = None
) -> list[DunningLine]:
    """Late fee calls (due date passed, not fully paid, not waived), most overdue first."""
    policy.require_cluster(session, actor, cluster_id, Access.READ, "consulter la liste des relances")
    on = on or dt.date.today()
    repository = FeeCallRepository(session)
    calls = repository.past_due(cluster_id, on)
    paid = repository.paid_on_calls([c.id for c in calls])
    lines = []
    for c in calls:
        got = Decimal(paid.get(c.id, 0)).quantize(CENT)
        if got >= c.amount_eur:
            continue
        lines.append(
            DunningLine(
                fee_call_id=c.id,
                organisation_id=c.organisation_id,
                organisation=c.organisation.name,
                year=c.year,
                amount_eur=c.amount_eur,
                paid_eur=got,
                outstanding_eur=(c.amount_eur - got).quantize(CENT),
                due_on=c.due_on,
                days_late=(on - c.due_on).days,
                contacts=[x.email for x in c.organisation.contacts if x.email],
            )
        )
    lines.sort(key=lambda x: (-x.days_late, x.organisation))
    return lines


def export_dunning(
    session: Session,
    actor: Actor,
    cluster_id: int,
    path: Path,
    *,
    on: dt.date | None = None,
    format: export.FileFormat | None = None,
) -> int:
    """Write the dunning list to a file; the number of lines.

    ``format`` as in :func:`grappe.kit.export.write` (by default the suffix's). One row per
    late call, most overdue first; ``contact_email`` lists the member's contact
    e-mails separated by ``, ``. An empty list still writes the header.
    """
    lines = dunning_list(session, actor, cluster_id, on=on)
    rows = [
        line.model_dump(exclude={"organisation_id", "contacts"}) | {"contact_email": ", ".join(line.contacts)}
        for line in lines
    ]
    money = "#,##0.00"
    export.write(
        path,
        rows,
        format=format,
        columns=list(DUNNING_LABELS),
        labels=DUNNING_LABELS,
        number_formats={"amount_eur": money, "paid_eur": money, "outstanding_eur": money},
        sheet="Relances",
    )
    return len(rows)
