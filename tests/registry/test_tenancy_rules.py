"""Tenancy rules of the policy: what a manager reads, manages and attaches; invitations; imports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from dbkit import World, siren
from sqlalchemy import select
from sqlalchemy.orm import Session

from grappe.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from grappe.registry import LOCAL_ADMIN
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import UserCreate
from grappe.registry.invitations import service as invitations
from grappe.registry.invitations.schemas import InvitationCreate
from grappe.registry.memberships import files as member_files
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate, MembershipEnd
from grappe.registry.models import AuditEntry, Invitation, Role
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import OrganisationCreate, OrganisationUpdate
from grappe.registry.policy import Access, organisation_access


def test_access_follows_memberships_and_ownership(db: Session, world: World) -> None:
    manager, other = world.actors["manager"], world.actors["manager_other"]
    assert organisation_access(db, manager, world.org_a) is Access.MANAGE  # current member
    assert organisation_access(db, manager, world.org_free) is Access.MANAGE  # owned by A
    assert organisation_access(db, manager, world.org_b) is Access.NONE
    assert organisation_access(db, other, world.org_a) is Access.NONE
    assert organisation_access(db, world.actors["funder"], world.org_a) is Access.READ
    assert organisation_access(db, world.actors["member"], world.org_a) is Access.READ
    assert organisation_access(db, world.actors["member"], world.org_b) is Access.NONE
    assert organisation_access(db, world.actors["public"], world.org_a) is Access.NONE


def test_a_former_member_is_read_not_managed_and_may_rejoin(db: Session, world: World) -> None:
    manager = world.actors["manager"]
    memberships.end_membership(
        db, LOCAL_ADMIN, world.membership_a, MembershipEnd(version=1, left=dt.date(2022, 1, 1))
    )
    assert organisation_access(db, manager, world.org_a) is Access.READ
    assert organisations.get_organisation(db, manager, world.org_a).name == "Décolletage Dupont"
    with pytest.raises(PermissionDeniedError):
        organisations.update_organisation(
            db, manager, world.org_a, OrganisationUpdate(version=1, website="x")
        )
    again = memberships.add_membership(
        db, manager, world.a, MembershipCreate(organisation_id=world.org_a, joined=dt.date(2024, 1, 1))
    )
    assert again.organisation_id == world.org_a


def test_attaching_never_gives_a_right(db: Session, world: World) -> None:
    manager = world.actors["manager"]
    for period in [
        {"joined": dt.date(1990, 1, 1), "left": dt.date(1990, 1, 2)},
        {"joined": dt.date(2024, 1, 1)},
    ]:
        with pytest.raises(NotFoundError, match=f"organisation {world.org_b} introuvable"):
            memberships.add_membership(
                db, manager, world.a, MembershipCreate(organisation_id=world.org_b, **period)
            )
    assert organisation_access(db, manager, world.org_b) is Access.NONE


def test_a_manager_of_several_clusters_names_the_owner(db: Session, world: World) -> None:
    user = accounts.create_user(
        db, LOCAL_ADMIN, UserCreate(email="two@x.fr", role=Role.MANAGER, clusters=[world.a, world.b])
    )
    both = accounts.actor_for(db, user.email)
    with pytest.raises(InputError, match="plusieurs structures"):
        organisations.create_organisation(db, both, OrganisationCreate(name="N", siren=siren(4114)))
    created = organisations.create_organisation(
        db, both, OrganisationCreate(name="N", siren=siren(4114)), cluster_id=world.b
    )
    assert organisation_access(db, world.actors["manager_other"], created.id) is Access.MANAGE
    assert organisation_access(db, world.actors["manager"], created.id) is Access.NONE
    with pytest.raises(PermissionDeniedError):  # A is public: known, but not managed
        organisations.create_organisation(
            db, world.actors["manager_other"], OrganisationCreate(name="M"), cluster_id=world.a
        )


def test_import_refuses_another_tenants_organisation(db: Session, world: World, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        f"siren;nom;date_adhesion\n{siren(2002)};Le Goff;2024-01-02\n{siren(6116)};Neuve;2024-01-02\n",
        encoding="utf-8",
    )
    manager = world.actors["manager"]
    report = member_files.import_members(db, manager, world.a, path, lookup=lambda x, y: {})
    assert (report.inserted, report.rejected) == (1, 1)
    assert report.issues[0].line == 2
    assert "invitez-la" in report.issues[0].reason
    assert organisation_access(db, manager, world.org_b) is Access.NONE
    new = next(m for m in memberships.all_members(db, manager, world.a) if m.name == "Neuve")
    assert organisation_access(db, world.actors["manager_other"], new.organisation_id) is Access.NONE


def test_invitation_lifecycle_and_audit(db: Session, world: World) -> None:
    manager, answer = world.actors["manager"], world.actors["member_other"]
    sent = invitations.invite(
        db, manager, world.a, InvitationCreate(siren=siren(2002), joined=dt.date(2025, 1, 1))
    )
    assert sent.organisation is None
    with pytest.raises(ConflictError):
        invitations.invite(
            db, manager, world.a, InvitationCreate(siren=siren(2002), joined=dt.date(2026, 1, 1))
        )
    page = invitations.list_invitations(db, answer)
    assert (page.total, page.items[0].organisation) == (1, "Carrières Le Goff")
    assert invitations.list_invitations(db, world.actors["member"]).total == 0
    with pytest.raises(PermissionDeniedError):
        invitations.accept(db, manager, sent.id)
    done = invitations.accept(db, answer, sent.id)
    assert done.membership_id is not None
    assert organisation_access(db, manager, world.org_b) is Access.MANAGE
    with pytest.raises(ConflictError, match="déjà acceptée"):
        invitations.decline(db, answer, sent.id)
    db.flush()
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "invitations").order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.cluster_id) for e in entries] == [("create", world.a), ("update", world.a)]


def test_acceptance_checks_the_membership_again(db: Session, world: World) -> None:
    """The organisation may have joined in the meantime: the overlap is refused, still pending."""
    sent = invitations.invite(
        db,
        world.actors["manager"],
        world.a,
        InvitationCreate(siren=siren(3003), joined=dt.date(2024, 1, 1)),
    )
    memberships.add_membership(
        db, LOCAL_ADMIN, world.a, MembershipCreate(organisation_id=world.org_free, joined=dt.date(2023, 1, 1))
    )
    with pytest.raises(InputError, match="chevauche"):
        invitations.accept(db, LOCAL_ADMIN, sent.id)
    assert db.get(Invitation, sent.id).status == "pending"  # type: ignore[union-attr]


def test_invitation_inputs(db: Session, world: World) -> None:
    manager = world.actors["manager"]
    with pytest.raises(NotFoundError, match="créez-la"):
        invitations.invite(
            db, manager, world.a, InvitationCreate(siren=siren(4994), joined=dt.date(2025, 1, 1))
        )
    with pytest.raises(InputError, match="SIREN"):
        invitations.invite(
            db, manager, world.a, InvitationCreate(siren="123456789", joined=dt.date(2025, 1, 1))
        )
    with pytest.raises(InputError, match="pas après"):
        invitations.invite(
            db,
            manager,
            world.a,
            InvitationCreate(siren=siren(2002), joined=dt.date(2025, 1, 1), left=dt.date(2024, 1, 1)),
        )
    with pytest.raises(InputError, match="déjà adhérent"):
        invitations.invite(
            db, manager, world.a, InvitationCreate(siren=siren(1001), joined=dt.date(2025, 1, 1))
        )
    with pytest.raises(PermissionDeniedError):
        invitations.list_invitations(db, world.actors["funder"])
