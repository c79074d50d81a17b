"""Accounts by mail: reset links, invitations, user roles and the audit view, per role and tenant."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from dbkit import World
from sqlalchemy import select
from sqlalchemy.orm import Session

from grappe.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from grappe.registry import LOCAL_ADMIN
from grappe.registry.accounts import links, signin
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.models import AccountLink, LinkPurpose, WebSession
from grappe.registry.accounts.schemas import AuditFilter, RoleChange, UserCreate
from grappe.registry.invitations import service as invitations
from grappe.registry.invitations.schemas import InvitationCreate
from grappe.registry.models import AuditEntry, Role, User
from grappe.registry.organisations import service as organisations
from grappe.registry.policy import Actor

PASSWORD = "correct horse battery staple"
NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)


def token_of(body: str) -> str:
    found = re.search(r"/compte/(?:mot-de-passe|invitation)/([A-Za-z0-9_-]{43})\b", body)
    assert found, body
    return found.group(1)


def with_password(db: Session, email: str) -> int:
    user = db.scalar(select(User).where(User.email == email))
    assert user is not None
    signin.set_password(db, LOCAL_ADMIN, user.id, PASSWORD)
    return user.id


def test_a_reset_link_is_stored_hashed_works_once_and_ends_every_session(db: Session, world: World) -> None:
    user_id = with_password(db, "m@meca.fr")
    session_token = signin.sign_in(db, "m@meca.fr", PASSWORD, now=NOW)
    assert session_token is not None
    mail = links.request_reset(db, "  M@Meca.fr ", now=NOW)
    assert mail is not None
    assert list(mail.to) == ["m@meca.fr"]
    token = token_of(mail.body)
    assert "http://127.0.0.1:8000/compte/mot-de-passe/" in mail.body
    stored = db.scalars(select(AccountLink.token_hash).where(AccountLink.user_id == user_id)).all()
    assert stored
    assert token not in stored
    holder = links.link_holder(db, token, LinkPurpose.RESET, now=NOW)
    assert holder.email == "m@meca.fr"
    with pytest.raises(InputError, match="attendu entre 12"):
        links.use_link(db, token, LinkPurpose.RESET, "short", now=NOW)
    # an invitation link is not a reset link, nor the reverse
    with pytest.raises(links.InvalidLinkError, match="lien invalide"):
        links.link_holder(db, token, LinkPurpose.INVITE, now=NOW)
    assert links.use_link(db, token, LinkPurpose.RESET, "a brand new passphrase", now=NOW) == "m@meca.fr"
    db.flush()
    written = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "user_credentials").order_by(AuditEntry.id.desc())
    ).first()
    assert written is not None
    assert (written.actor, written.user_id) == (f"user:{user_id}", user_id)  # the holder of the link
    assert db.scalars(select(WebSession).where(WebSession.user_id == user_id)).all() == []
    assert signin.sign_in(db, "m@meca.fr", PASSWORD, now=NOW) is None
    assert signin.sign_in(db, "m@meca.fr", "a brand new passphrase", now=NOW) is not None
    with pytest.raises(links.InvalidLinkError, match="déjà utilisé"):
        links.use_link(db, token, LinkPurpose.RESET, "yet another passphrase", now=NOW)


def test_a_reset_link_expires_after_an_hour_and_a_newer_one_voids_it(db: Session, world: World) -> None:
    with_password(db, "u@dupont.fr")
    first = links.request_reset(db, "u@dupont.fr", now=NOW)
    second = links.request_reset(db, "u@dupont.fr", now=NOW + dt.timedelta(minutes=1))
    assert first is not None
    assert second is not None
    with pytest.raises(links.InvalidLinkError, match="lien invalide"):
        links.link_holder(db, token_of(first.body), LinkPurpose.RESET, now=NOW)
    late = NOW + dt.timedelta(minutes=1) + links.RESET_LIFETIME
    with pytest.raises(links.InvalidLinkError, match="expiré"):
        links.use_link(db, token_of(second.body), LinkPurpose.RESET, "a brand new passphrase", now=late)


def test_a_reset_answers_alike_for_unknown_and_known_addresses_and_is_throttled(
    db: Session, world: World
) -> None:
    assert links.request_reset(db, "personne@nulle.part", now=NOW) is None
    for address in ("personne@nulle.part", "f@datar.gouv.fr"):
        for n in range(links.MAX_RESETS - (1 if address.startswith("personne") else 0)):
            links.request_reset(db, address, now=NOW + dt.timedelta(seconds=n))
        with pytest.raises(links.ThrottledError, match="trop de demandes de réinitialisation"):
            links.request_reset(db, address, now=NOW + dt.timedelta(minutes=1))
    later = NOW + links.RESET_WINDOW + dt.timedelta(minutes=1)
    assert links.request_reset(db, "f@datar.gouv.fr", now=later) is not None
    with pytest.raises(InputError, match="adresse électronique"):
        links.request_reset(db, "pas une adresse", now=NOW)


def test_a_deactivated_user_gets_no_reset_mail(db: Session, world: World) -> None:
    manager = world.actors["manager"]
    assert manager.user_id is not None
    accounts.set_active(db, Actor(Role.ADMIN, user_id=None, label="cli"), manager.user_id, False)
    assert links.request_reset(db, "m@meca.fr", now=NOW) is None


def test_an_invitation_creates_an_inactive_account_that_its_link_activates(db: Session, world: World) -> None:
    data = UserCreate(email="Nouvelle@Meca.fr", name="Nouvelle", role=Role.MANAGER, clusters=[world.a])
    user, mail = links.invite_user(db, world.actors["manager"], data, now=NOW)
    assert not user.active
    assert user.clusters == [world.a]
    assert list(mail.to) == ["nouvelle@meca.fr"]
    assert mail.reply_to == "m@meca.fr"
    assert "gestionnaire de structure" in mail.body
    assert signin.sign_in(db, "nouvelle@meca.fr", PASSWORD, now=NOW) is None
    assert links.request_reset(db, "nouvelle@meca.fr", now=NOW) is None  # not active yet
    page = accounts.users_page(db, LOCAL_ADMIN, search="nouvelle")
    assert [(u.email, u.invited) for u in page.items] == [("nouvelle@meca.fr", True)]
    token = token_of(mail.body)
    links.use_link(db, token, LinkPurpose.INVITE, PASSWORD, now=NOW + dt.timedelta(days=6))
    assert signin.sign_in(db, "nouvelle@meca.fr", PASSWORD, now=NOW + dt.timedelta(days=6)) is not None
    assert accounts.get_user(db, LOCAL_ADMIN, user.id).active
    with pytest.raises(ConflictError, match="existe déjà"):
        links.invite_user(db, LOCAL_ADMIN, UserCreate(email="nouvelle@meca.fr", role=Role.ADMIN), now=NOW)


@pytest.mark.parametrize(
    ("who", "role", "scope", "refused"),
    [
        ("manager", Role.MANAGER, "other_cluster", PermissionDeniedError),  # a public cluster it does not run
        ("manager", Role.MEMBER, "other_org", NotFoundError),  # another tenant's organisation
        ("manager", Role.ADMIN, "none", PermissionDeniedError),
        ("manager", Role.FUNDER, "none", PermissionDeniedError),
        ("member", Role.MEMBER, "own_org", PermissionDeniedError),
        ("funder", Role.MANAGER, "own_cluster", PermissionDeniedError),
        ("public", Role.MANAGER, "own_cluster", PermissionDeniedError),
        ("manager_other", Role.MANAGER, "own_cluster", PermissionDeniedError),
    ],
)
def test_who_may_invite_whom(
    db: Session, world: World, who: str, role: Role, scope: str, refused: type[Exception]
) -> None:
    clusters = {"own_cluster": [world.a], "other_cluster": [world.b]}.get(scope, [])
    organisation = {"own_org": world.org_a, "other_org": world.org_b}.get(scope)
    data = UserCreate(
        email="x@invite.fr",
        role=role,
        clusters=clusters,
        organisation_id=organisation,
        funder="DATAR" if role is Role.FUNDER else None,
    )
    with pytest.raises(refused):
        links.invite_user(db, world.actors[who], data, now=NOW)
    assert db.scalar(select(User).where(User.email == "x@invite.fr")) is None


def test_a_manager_invites_a_member_of_an_organisation_it_manages(db: Session, world: World) -> None:
    data = UserCreate(email="salarie@dupont.fr", role=Role.MEMBER, organisation_id=world.org_a)
    user, _mail = links.invite_user(db, world.actors["manager"], data, now=NOW)
    assert user.organisation_id == world.org_a
    assert user.role is Role.MEMBER


def test_roles_change_and_deactivation_keep_an_administrator(db: Session, world: World) -> None:
    admin = accounts.create_user(db, LOCAL_ADMIN, UserCreate(email="root@grappe.fr", role=Role.ADMIN))
    me = Actor(Role.ADMIN, user_id=admin.id, label=f"user:{admin.id}")
    with pytest.raises(ConflictError, match="votre propre compte"):
        accounts.set_active(db, me, admin.id, False)
    with pytest.raises(ConflictError, match="dernier administrateur"):
        accounts.change_role(db, LOCAL_ADMIN, admin.id, RoleChange(role=Role.FUNDER, funder="DATAR"))
    member = world.actors["member"]
    assert member.user_id is not None
    changed = accounts.change_role(db, me, member.user_id, RoleChange(role=Role.MANAGER, clusters=[world.b]))
    assert changed.role is Role.MANAGER
    assert changed.clusters == [world.b]
    assert changed.organisation_id is None
    with pytest.raises(InputError, match="role=funder"):
        accounts.change_role(db, me, member.user_id, RoleChange(role=Role.FUNDER))
    funder = accounts.change_role(db, me, member.user_id, RoleChange(role=Role.FUNDER, funder="Région Neuve"))
    assert funder.funder_id is not None
    with pytest.raises(NotFoundError):
        accounts.change_role(db, me, member.user_id, RoleChange(role=Role.MANAGER, clusters=[99999]))
    for who in ("manager", "member", "funder", "public"):
        with pytest.raises(PermissionDeniedError):
            accounts.change_role(db, world.actors[who], member.user_id, RoleChange(role=Role.ADMIN))
        with pytest.raises(PermissionDeniedError):
            accounts.set_active(db, world.actors[who], member.user_id, False)
        with pytest.raises(PermissionDeniedError):
            accounts.users_page(db, world.actors[who])
        with pytest.raises(PermissionDeniedError):
            accounts.audit_view(db, world.actors[who], AuditFilter())


def test_the_audit_view_filters_by_user_object_and_days(db: Session, world: World) -> None:
    db.flush()
    everything = accounts.audit_view(db, LOCAL_ADMIN, AuditFilter(), limit=None)
    assert everything.total == len(everything.items) > 0
    clusters = accounts.audit_view(db, LOCAL_ADMIN, AuditFilter(entity="clusters", cluster_id=world.a))
    assert clusters.total >= 1
    assert {(e.entity, e.cluster_id) for e in clusters.items} == {("clusters", world.a)}
    labels = accounts.audit_view(db, LOCAL_ADMIN, AuditFilter(entity="cluster_labels"))
    assert labels.total >= 1
    assert labels.total < everything.total
    today = dt.date.today()
    assert accounts.audit_view(db, LOCAL_ADMIN, AuditFilter(since=today + dt.timedelta(days=1))).total == 0
    assert accounts.audit_view(db, LOCAL_ADMIN, AuditFilter(until=today)).total == everything.total
    assert accounts.audit_view(db, LOCAL_ADMIN, AuditFilter(user_id=123456)).total == 0
    with pytest.raises(InputError, match="la fin précède le début"):
        accounts.audit_view(db, LOCAL_ADMIN, AuditFilter(since=today, until=today - dt.timedelta(days=1)))


def test_an_organisation_invitation_is_mailed_to_its_people(db: Session, world: World) -> None:
    siren_a = organisations.get_organisation(db, LOCAL_ADMIN, world.org_a).siren
    assert siren_a is not None
    joined = dt.date(2025, 1, 1)
    sent = invitations.invite(
        db, world.actors["manager_other"], world.b, InvitationCreate(siren=siren_a, joined=joined)
    )
    [mail] = invitations.invitation_mails(db, sent.id)  # every one of them reads French
    # its member user and its contacts with an address, each once
    assert list(mail.to) == ["anne@dupont.fr", "u@dupont.fr", "x@y.fr"]
    assert "Granit Bretagne" in mail.subject
    assert "Décolletage Dupont" in mail.body
    free_siren = organisations.get_organisation(db, LOCAL_ADMIN, world.org_free).siren
    assert free_siren is not None
    quiet = invitations.invite(db, LOCAL_ADMIN, world.b, InvitationCreate(siren=free_siren, joined=joined))
    assert invitations.invitation_mails(db, quiet.id) == []
