"""Every service operation x every role: allowed ones succeed, the others are refused.

Operations target cluster organisation A (funded by "funder", managed by "manager", with
"member"'s organisation as a member); the *_other actors belong to cluster B and must never
cross into A. A refusal is NotFoundError when the actor may not even see the object (an
organisation, membership or fee call of another tenant: ids must not be probed), else
PermissionDeniedError (cluster A is public, so everybody knows it exists).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dbkit import Database, World, build_world, new_database, rolled_back, siren
from fabric_kit import write_fabric
from sqlalchemy.orm import Session

from grappe.errors import NotFoundError, PermissionDeniedError
from grappe.registry import LOCAL_ADMIN, prospects
from grappe.registry.accounts import links
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import AuditFilter, RoleChange, UserCreate
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import BodyIn, ClusterCreate, ClusterUpdate, FundingIn, LabelIn
from grappe.registry.fees import figures
from grappe.registry.fees import service as fees
from grappe.registry.fees.schemas import FeeRuleIn, FeeScheduleIn, PaymentIn, WaiveIn
from grappe.registry.invitations import service as invitations
from grappe.registry.invitations.schemas import InvitationCreate
from grappe.registry.memberships import files as member_files
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate, MembershipEnd
from grappe.registry.models import Role
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import ContactIn, OrganisationCreate, OrganisationUpdate
from grappe.registry.policy import Actor
from grappe.storage.sql import session_scope

ACTORS = [
    "admin",
    "funder",
    "funder_other",
    "manager",
    "manager_other",
    "member",
    "member_other",
    "public",
]
Op = Callable[[Session, Actor, World, Path], Any]


def _schedule(db: Session, w: World) -> None:
    fees.set_schedule(
        db,
        LOCAL_ADMIN,
        w.a,
        FeeScheduleIn(
            year=2024, rules=[FeeRuleIn(membership_type="adherent", amount_eur=Decimal(100))]
        ),
    )


def _call(db: Session, w: World) -> int:
    _schedule(db, w)
    fees.issue_calls(db, LOCAL_ADMIN, w.a, 2024, issued_on=dt.date(2024, 1, 10))
    return fees.list_calls(db, LOCAL_ADMIN, w.a)[0].id


def _invitation_to_a(db: Session, w: World) -> int:
    """Cluster B invites A's member organisation: A's side (its manager, its member) answers."""
    return invitations.invite(
        db, LOCAL_ADMIN, w.b, InvitationCreate(siren=siren(1001), joined=dt.date(2025, 1, 1))
    ).id


def _members_csv(folder: Path) -> Path:
    path = folder / "m.csv"
    path.write_text(
        f"siren;nom;date_adhesion\n{siren(9009)};Nouvelle;2024-01-01\n", encoding="utf-8"
    )
    return path


READ_A = {"admin", "funder", "manager"}
MANAGE_A = {"admin", "manager"}
ADMIN = {"admin"}
EVERYONE = set(ACTORS)
#: Who does not see A's organisation (not a reader of A, not the organisation itself).
ORG_HIDDEN = {"funder_other", "manager_other", "member_other", "public"}
#: Who does not see A's private objects (memberships, fee calls): not a reader of A.
PRIVATE_HIDDEN = ORG_HIDDEN | {"member"}
#: Operations on an object some actors may not see: those actors get NotFoundError.
HIDDEN: dict[str, set[str]] = {
    "get_organisation": ORG_HIDDEN,
    "update_organisation": ORG_HIDDEN,
    "add_contact": ORG_HIDDEN,
    "end_membership": PRIVATE_HIDDEN,
    "record_payment": PRIVATE_HIDDEN,
    "waive_fee": PRIVATE_HIDDEN,
    # B's invitation to A's organisation: B's readers see it, A's side answers it
    "accept_invitation": {"funder", "member_other", "public"},
    "decline_invitation": {"funder", "member_other", "public"},
    # a manager of B inviting a member user of A's organisation does not see the organisation
    "invite_member_user": {"manager_other"},
}

OPERATIONS: dict[str, tuple[Op, set[str]]] = {
    "create_cluster": (
        lambda db, a, w, t: clusters.create_cluster(db, a, ClusterCreate(name="N")),
        ADMIN,
    ),
    "get_cluster": (lambda db, a, w, t: clusters.get_cluster(db, a, w.a), READ_A),
    "update_cluster": (
        lambda db, a, w, t: clusters.update_cluster(
            db, a, w.a, ClusterUpdate(version=1, description="d")
        ),
        MANAGE_A,
    ),
    "list_clusters": (
        lambda db, a, w, t: clusters.list_clusters(db, a),
        {"admin", "funder", "funder_other", "manager", "manager_other"},
    ),
    "add_label": (
        lambda db, a, w, t: clusters.add_label(
            db, a, w.a, LabelIn(kind="regional", name="R", start=dt.date(2024, 1, 1))
        ),
        MANAGE_A,
    ),
    "set_funding": (
        lambda db, a, w, t: clusters.set_funding(
            db, a, w.a, FundingIn(year=2024, source="services", amount_eur=Decimal(5))
        ),
        MANAGE_A,
    ),
    "set_body": (
        lambda db, a, w, t: clusters.set_body(db, a, w.a, BodyIn(kind="board", seats=3)),
        MANAGE_A,
    ),
    "directory": (lambda db, a, w, t: clusters.directory(db, a), EVERYONE),
    "create_organisation": (
        lambda db, a, w, t: organisations.create_organisation(
            db, a, OrganisationCreate(name="O", siren=siren(8008))
        ),
        MANAGE_A | {"manager_other"},
    ),
    "get_organisation": (
        lambda db, a, w, t: organisations.get_organisation(db, a, w.org_a),
        READ_A | {"member"},
    ),
    "update_organisation": (
        lambda db, a, w, t: organisations.update_organisation(
            db, a, w.org_a, OrganisationUpdate(version=1, website="https://x.fr")
        ),
        MANAGE_A,
    ),
    "add_contact": (
        lambda db, a, w, t: organisations.add_contact(db, a, w.org_a, ContactIn(full_name="P")),
        MANAGE_A,
    ),
    "add_membership": (
        lambda db, a, w, t: memberships.add_membership(
            db, a, w.a, MembershipCreate(organisation_id=w.org_free, joined=dt.date(2024, 1, 1))
        ),
        MANAGE_A,
    ),
    "end_membership": (
        lambda db, a, w, t: memberships.end_membership(
            db, a, w.membership_a, MembershipEnd(version=1, left=dt.date(2024, 1, 1))
        ),
        MANAGE_A,
    ),
    "list_members": (lambda db, a, w, t: memberships.list_members(db, a, w.a), READ_A),
    "member_directory": (
        lambda db, a, w, t: memberships.member_directory(db, a, w.a),
        READ_A | {"member"},
    ),
    "import_members": (
        lambda db, a, w, t: member_files.import_members(
            db, a, w.a, _members_csv(t), lookup=lambda x, y: {}
        ),
        MANAGE_A,
    ),
    "export_members": (
        lambda db, a, w, t: member_files.export_members(db, a, w.a, t / "e.csv"),
        READ_A,
    ),
    "set_fee_schedule": (
        lambda db, a, w, t: fees.set_schedule(
            db,
            a,
            w.a,
            FeeScheduleIn(
                year=2025, rules=[FeeRuleIn(membership_type="adherent", amount_eur=Decimal(1))]
            ),
        ),
        MANAGE_A,
    ),
    "get_fee_schedule": (
        lambda db, a, w, t: (_schedule(db, w), fees.get_schedule(db, a, w.a, 2024)),
        READ_A,
    ),
    "issue_fee_calls": (
        lambda db, a, w, t: (_schedule(db, w), fees.issue_calls(db, a, w.a, 2024)),
        MANAGE_A,
    ),
    "list_fee_calls": (lambda db, a, w, t: fees.list_calls(db, a, w.a), READ_A),
    "record_payment": (
        lambda db, a, w, t: fees.record_payment(
            db, a, _call(db, w), PaymentIn(amount_eur=Decimal(10), paid_on=dt.date(2024, 2, 1))
        ),
        MANAGE_A,
    ),
    "waive_fee": (
        lambda db, a, w, t: fees.waive(db, a, _call(db, w), WaiveIn(version=1, reason="r")),
        MANAGE_A,
    ),
    "dunning_list": (lambda db, a, w, t: fees.dunning_list(db, a, w.a), READ_A),
    "key_figures": (lambda db, a, w, t: figures.key_figures(db, a, w.a), READ_A),
    "prospects": (
        lambda db, a, w, t: prospects.prospects(db, a, w.a, store=write_fabric(t / "fabric")),
        MANAGE_A,
    ),
    "create_user": (
        lambda db, a, w, t: accounts.create_user(
            db, a, UserCreate(email="n@x.fr", role=Role.MANAGER, clusters=[w.a])
        ),
        ADMIN,
    ),
    "list_users": (lambda db, a, w, t: accounts.list_users(db, a), ADMIN),
    "issue_token": (
        lambda db, a, w, t: accounts.issue_token(db, a, w.actors["manager"].user_id or 0),
        ADMIN,
    ),
    "audit_log": (lambda db, a, w, t: accounts.audit_log(db, a), ADMIN),
    "audit_view": (lambda db, a, w, t: accounts.audit_view(db, a, AuditFilter(cluster_id=w.a)), ADMIN),
    "audit_entities": (lambda db, a, w, t: accounts.audit_entities(db, a), ADMIN),
    "users_page": (lambda db, a, w, t: accounts.users_page(db, a, search="meca"), ADMIN),
    "get_user": (lambda db, a, w, t: accounts.get_user(db, a, w.actors["member"].user_id or 0), ADMIN),
    "change_role": (
        lambda db, a, w, t: accounts.change_role(
            db, a, w.actors["member"].user_id or 0, RoleChange(role=Role.MANAGER, clusters=[w.a])
        ),
        ADMIN,
    ),
    "deactivate_user": (
        lambda db, a, w, t: accounts.set_active(db, a, w.actors["funder_other"].user_id or 0, False),
        ADMIN,
    ),
    "invite_manager_user": (
        lambda db, a, w, t: links.invite_user(
            db, a, UserCreate(email="adjoint@meca.fr", role=Role.MANAGER, clusters=[w.a])
        ),
        MANAGE_A,
    ),
    "invite_member_user": (
        lambda db, a, w, t: links.invite_user(
            db, a, UserCreate(email="salarie@dupont.fr", role=Role.MEMBER, organisation_id=w.org_a)
        ),
        MANAGE_A,
    ),
    "resend_invitation": (
        lambda db, a, w, t: links.resend_invitation(
            db, a, links.invite_user(db, LOCAL_ADMIN, UserCreate(email="i@x.fr", role=Role.ADMIN))[0].id
        ),
        ADMIN,
    ),
    "invite": (
        lambda db, a, w, t: invitations.invite(
            db, a, w.a, InvitationCreate(siren=siren(2002), joined=dt.date(2025, 1, 1))
        ),
        MANAGE_A,
    ),
    "list_invitations": (
        lambda db, a, w, t: invitations.list_invitations(db, a),
        {"admin", "manager", "manager_other", "member", "member_other"},
    ),
    "accept_invitation": (
        lambda db, a, w, t: invitations.accept(db, a, _invitation_to_a(db, w)),
        {"admin", "manager", "member"},
    ),
    "decline_invitation": (
        lambda db, a, w, t: invitations.decline(db, a, _invitation_to_a(db, w)),
        {"admin", "manager", "member"},
    ),
}


@pytest.fixture(scope="module")
def committed_world(
    database: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, World]]:
    """The world built once per backend; each test then runs in a rolled-back transaction."""
    db = new_database(database.backend, tmp_path_factory.mktemp("roles"))
    with session_scope(db.engine, actor=LOCAL_ADMIN) as session:
        world = build_world(session)
    yield db, world
    db.drop()


@pytest.mark.parametrize("actor_name", ACTORS)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_operation_by_role(
    committed_world: tuple[Database, World], tmp_path: Path, operation: str, actor_name: str
) -> None:
    database, world = committed_world
    run, allowed = OPERATIONS[operation]
    actor = world.actors[actor_name]
    refusal = NotFoundError if actor_name in HIDDEN.get(operation, set()) else PermissionDeniedError
    with rolled_back(database) as db:
        if actor_name in allowed:
            run(db, actor, world, tmp_path)
        else:
            with pytest.raises(refusal):
                run(db, actor, world, tmp_path)


def test_scoped_lists_never_cross_tenants(db: Session, world: World) -> None:
    assert [c.id for c in clusters.list_clusters(db, world.actors["funder"]).items] == [world.a]
    assert [c.id for c in clusters.list_clusters(db, world.actors["manager_other"]).items] == [world.b]
    assert {c.id for c in clusters.list_clusters(db, world.actors["admin"]).items} == {world.a, world.b}
