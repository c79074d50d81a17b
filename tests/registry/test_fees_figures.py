"""Fee schedules, calls, payments, waivers, the dunning list, and the key figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from dbkit import World
from sqlalchemy.orm import Session

from grappe.errors import InputError
from grappe.registry import LOCAL_ADMIN
from grappe.registry.fees import figures
from grappe.registry.fees import service as fees
from grappe.registry.fees.schemas import Bracket, FeeRuleIn, FeeScheduleIn, PaymentIn, WaiveIn
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate, MembershipEnd
from grappe.registry.models import FeeStatus
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import OrganisationUpdate


def _schedule(db: Session, w: World, cap: str | None = None) -> None:
    fees.set_schedule(
        db,
        LOCAL_ADMIN,
        w.a,
        FeeScheduleIn(
            year=2024,
            cap_eur=Decimal(cap) if cap else None,
            due_days=30,
            rules=[
                FeeRuleIn(membership_type="adherent", size_category="TPE", amount_eur=Decimal(150)),
                FeeRuleIn(
                    membership_type="adherent",
                    mode="headcount",
                    brackets=[
                        Bracket(min_headcount=0, amount_eur=Decimal(200)),
                        Bracket(min_headcount=10, amount_eur=Decimal(500)),
                        Bracket(min_headcount=50, amount_eur=Decimal(1200)),
                    ],
                ),
            ],
        ),
    )


def test_fee_amounts_follow_type_size_brackets_and_cap(db: Session, world: World) -> None:
    memberships.add_membership(
        db,
        LOCAL_ADMIN,
        world.a,
        MembershipCreate(organisation_id=world.org_free, joined=dt.date(2024, 2, 1)),
    )  # unknown size -> headcount 0
    _schedule(db, world)
    issued = fees.issue_calls(db, LOCAL_ADMIN, world.a, 2024, issued_on=dt.date(2024, 1, 15))
    assert (issued.issued, issued.total_eur) == (2, Decimal(700))
    calls = {
        c.organisation: c
        for c in fees.list_calls(db, LOCAL_ADMIN, world.a, on=dt.date(2024, 1, 20))
    }
    assert calls["Décolletage Dupont"].amount_eur == Decimal(500)  # declared 12 -> PME bracket
    assert calls["Solo SARL"].amount_eur == Decimal(200)
    assert {c.status for c in calls.values()} == {FeeStatus.DUE}
    again = fees.issue_calls(db, LOCAL_ADMIN, world.a, 2024)
    assert (again.issued, again.already) == (0, 2)


def test_cap_applies(db: Session, world: World) -> None:
    _schedule(db, world, cap="300")
    fees.issue_calls(db, LOCAL_ADMIN, world.a, 2024, issued_on=dt.date(2024, 1, 15))
    assert [c.amount_eur for c in fees.list_calls(db, LOCAL_ADMIN, world.a)] == [Decimal(300)]


def test_missing_rule_is_an_error_not_a_silent_skip(db: Session, world: World) -> None:
    fees.set_schedule(
        db,
        LOCAL_ADMIN,
        world.a,
        FeeScheduleIn(
            year=2024, rules=[FeeRuleIn(membership_type="bienfaiteur", amount_eur=Decimal(1000))]
        ),
    )
    with pytest.raises(InputError, match="Décolletage Dupont"):
        fees.issue_calls(db, LOCAL_ADMIN, world.a, 2024)


def test_schedule_validation(db: Session, world: World) -> None:
    with pytest.raises(InputError, match="brackets requis"):
        fees.set_schedule(
            db,
            LOCAL_ADMIN,
            world.a,
            FeeScheduleIn(
                year=2024,
                rules=[FeeRuleIn(membership_type="a", mode="headcount", amount_eur=Decimal(1))],
            ),
        )
    with pytest.raises(InputError, match="commencer à 0"):
        fees.set_schedule(
            db,
            LOCAL_ADMIN,
            world.a,
            FeeScheduleIn(
                year=2024,
                rules=[
                    FeeRuleIn(
                        membership_type="a",
                        mode="headcount",
                        brackets=[Bracket(min_headcount=5, amount_eur=Decimal(1))],
                    )
                ],
            ),
        )
    with pytest.raises(InputError, match="pas de barème"):
        fees.issue_calls(db, LOCAL_ADMIN, world.a, 2031)


def test_payments_late_waived_and_dunning(db: Session, world: World) -> None:
    memberships.add_membership(
        db,
        LOCAL_ADMIN,
        world.a,
        MembershipCreate(organisation_id=world.org_free, joined=dt.date(2024, 2, 1)),
    )
    _schedule(db, world)
    fees.issue_calls(db, LOCAL_ADMIN, world.a, 2024, issued_on=dt.date(2024, 1, 15))
    calls = {c.organisation: c for c in fees.list_calls(db, LOCAL_ADMIN, world.a)}
    dupont, solo = calls["Décolletage Dupont"], calls["Solo SARL"]
    part = fees.record_payment(
        db,
        LOCAL_ADMIN,
        dupont.id,
        PaymentIn(amount_eur=Decimal(200), paid_on=dt.date(2024, 2, 1)),
        on=dt.date(2024, 3, 1),
    )
    assert part.status is FeeStatus.LATE  # partly paid after the due date (2024-02-14)
    dunning = fees.dunning_list(db, LOCAL_ADMIN, world.a, on=dt.date(2024, 3, 1))
    assert [(d.organisation, d.outstanding_eur, d.days_late) for d in dunning] == [
        ("Décolletage Dupont", Decimal(300), 16),
        ("Solo SARL", Decimal(200), 16),
    ]
    assert dunning[0].contacts == ["anne@dupont.fr", "x@y.fr"]
    paid = fees.record_payment(
        db, LOCAL_ADMIN, dupont.id, PaymentIn(amount_eur=Decimal(300), paid_on=dt.date(2024, 3, 2))
    )
    assert paid.status is FeeStatus.PAID
    waived = fees.waive(db, LOCAL_ADMIN, solo.id, WaiveIn(version=solo.version, reason="aide"))
    assert waived.status is FeeStatus.WAIVED
    with pytest.raises(InputError, match="exonéré"):
        fees.record_payment(
            db, LOCAL_ADMIN, solo.id, PaymentIn(amount_eur=Decimal(1), paid_on=dt.date(2024, 3, 2))
        )
    assert fees.dunning_list(db, LOCAL_ADMIN, world.a, on=dt.date(2024, 3, 3)) == []
    key = figures.key_figures(db, LOCAL_ADMIN, world.a, on=dt.date(2024, 12, 31))
    assert key.fee_income_eur == Decimal(500)
    assert key.arrears_eur == Decimal(0)


def test_key_figures(db: Session, world: World) -> None:
    organisations.update_organisation(
        db, LOCAL_ADMIN, world.org_b, OrganisationUpdate(version=1, commune="35238")
    )
    memberships.add_membership(
        db,
        LOCAL_ADMIN,
        world.a,
        MembershipCreate(organisation_id=world.org_b, joined=dt.date(2021, 6, 1)),
    )
    m = memberships.add_membership(
        db,
        LOCAL_ADMIN,
        world.a,
        MembershipCreate(organisation_id=world.org_free, joined=dt.date(2021, 1, 1)),
    )
    memberships.end_membership(
        db,
        LOCAL_ADMIN,
        m.membership_id,
        MembershipEnd(version=m.version, left=dt.date(2022, 7, 1), reason="départ"),
    )
    key = figures.key_figures(db, LOCAL_ADMIN, world.a, on=dt.date(2023, 6, 30))
    assert key.members == 2
    assert key.by_kind == {"firm": 2}
    assert key.by_size == {"PME": 1, "TPE": 1}  # declared 12 staff; band 03 (6-9)
    assert key.tpe_pme_share == 1.0
    flows = {f.year: f for f in key.flows}
    assert (flows[2020].entries, flows[2020].members_at_end) == (1, 1)
    assert (flows[2021].entries, flows[2021].exits, flows[2021].members_at_end) == (2, 0, 3)
    assert (flows[2022].exits, flows[2022].members_at_end, flows[2022].retention) == (1, 2, 0.6667)
    assert key.communes == 1  # only Le Goff's commune is known (set above)
    assert key.by_departement == {"35": 1}
