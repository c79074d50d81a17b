"""Fixtures of the evaluation tests: the registry's databases (SQLite and PostgreSQL), the world,
and a cluster whose 2024 indicators are all known by hand."""

from __future__ import annotations

import datetime as dt
import importlib
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

# The registry tests' kit is shared by path: the test folders are not packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))
dbkit = importlib.import_module("dbkit")

database, db, fresh, world = dbkit.database, dbkit.db, dbkit.fresh, dbkit.world

__all__ = ["database", "db", "fresh", "rich", "world"]


@dataclass
class Rich:
    """The world, with cluster A's 2024 made of every kind of record an indicator reads."""

    world: object
    org2: int  # 25.62A in Lyon, 300 staff, member since 2023
    org3: int  # 46.90Z in Bordeaux, band 03, joined in May 2024
    org4: int  # left A in June 2024
    project: int
    contract_id: int | None = None


def build_rich(session: Session, w: object) -> Rich:
    from grappe.cooperation import service as cooperation
    from grappe.cooperation.actions import service as actions
    from grappe.cooperation.actions.schemas import AttendanceIn, EventIn, RegistrationIn
    from grappe.cooperation.models import (
        LinkKind,
        Orientation,
        Project,
        ProjectKind,
        ProjectStatus,
        ProjectTransition,
    )
    from grappe.cooperation.schemas import DealIn, LinkIn, PartnerIn, ProjectIn, StatusIn
    from grappe.registry.clusters import service as clusters
    from grappe.registry.clusters.schemas import FundingIn
    from grappe.registry.fees import service as fees
    from grappe.registry.fees.schemas import FeeRuleIn, FeeScheduleIn, PaymentIn
    from grappe.registry.memberships import service as memberships
    from grappe.registry.memberships.schemas import MembershipCreate
    from grappe.registry.organisations import service as organisations
    from grappe.registry.organisations.schemas import OrganisationCreate
    from grappe.registry.policy import LOCAL_ADMIN

    admin = LOCAL_ADMIN

    a = w.a  # type: ignore[attr-defined]
    org_a, org_b = w.org_a, w.org_b  # type: ignore[attr-defined]

    def org(name: str, n: int, **fields: object) -> int:
        return organisations.create_organisation(
            session, admin, OrganisationCreate(name=name, siren=dbkit.siren(n), **fields)
        ).id

    org2 = org("Usinage Lyonnais", 4004, naf="25.62A", commune="69123", declared_headcount=300)
    org3 = org("Négoce Girondin", 5005, naf="46.90Z", commune="33063", size_band="03")
    org4 = org("Partie SARL", 6006)
    for organisation, joined, left in (
        (org2, dt.date(2023, 1, 1), None),
        (org3, dt.date(2024, 5, 1), None),
        (org4, dt.date(2019, 1, 1), dt.date(2024, 6, 30)),
    ):
        memberships.add_membership(
            session, admin, a, MembershipCreate(organisation_id=organisation, joined=joined, left=left)
        )
    fees.set_schedule(
        session,
        admin,
        a,
        FeeScheduleIn(year=2024, rules=[FeeRuleIn(membership_type="adherent", amount_eur=Decimal(100))]),
    )
    fees.issue_calls(session, admin, a, 2024, issued_on=dt.date(2024, 1, 10))
    call = next(c for c in fees.list_calls(session, admin, a) if c.organisation_id == org_a)
    fees.record_payment(
        session, admin, call.id, PaymentIn(amount_eur=Decimal(100), paid_on=dt.date(2024, 2, 1))
    )
    for source, amount, funder in (
        ("membership_fees", 20_000, None),
        ("services", 30_000, None),
        ("public", 50_000, "DATAR"),
    ):
        clusters.set_funding(
            session, admin, a, FundingIn(year=2024, source=source, funder=funder, amount_eur=Decimal(amount))
        )
    project = cooperation.create_project(
        session,
        admin,
        a,
        ProjectIn(
            title="Usinage propre",
            kind=ProjectKind.RD_INNOVATION,
            partners=[PartnerIn(organisation_id=org_a, coordinator=True), PartnerIn(organisation_id=org_b)],
        ),
    ).id
    # The pipeline's service dates a project's first step today: its 2024 history is written here.
    stored = session.get(Project, project)
    assert stored is not None
    stored.transitions[0].on = dt.date(2024, 1, 15)
    for status, on in (
        (ProjectStatus.DRAFTING, dt.date(2024, 2, 1)),
        (ProjectStatus.SUBMITTED, dt.date(2024, 3, 1)),
    ):
        stored.transitions.append(ProjectTransition(status=status.value, on=on))
    stored.status = ProjectStatus.SUBMITTED.value
    session.flush()
    cooperation.change_status(
        session, admin, project, StatusIn(status=ProjectStatus.FUNDED, on=dt.date(2024, 6, 1))
    )
    cooperation.declare_deal(
        session, admin, a, DealIn(buyer=org_a, seller=org2, year=2024, amount_eur=Decimal(5000))
    )
    cooperation.declare_link(
        session,
        admin,
        a,
        LinkIn(
            organisation_a=org_a,
            organisation_b=org2,
            kind=LinkKind.CO_DEVELOPMENT,
            orientations=[Orientation.MEANS, Orientation.WORKING_CLUB],
        ),
    )
    start = dt.datetime(2024, 3, 1, 8, tzinfo=dt.UTC)
    event = actions.create_event(
        session,
        admin,
        a,
        EventIn(
            kind="breakfast", title="Petit-déjeuner", starts_at=start, ends_at=start + dt.timedelta(hours=2)
        ),
    ).id
    for organisation, came in ((org_a, True), (org2, False)):
        actions.register(session, admin, event, RegistrationIn(organisation_id=organisation))
        actions.record_attendance(session, admin, event, organisation, AttendanceIn(attended=came))
    return Rich(w, org2, org3, org4, project)


@pytest.fixture
def rich(db: Session, world: object) -> Rich:
    """The world with cluster A's 2024 filled in (see :func:`build_rich`)."""
    return build_rich(db, world)
