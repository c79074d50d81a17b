"""Users' language: stored, chosen by the user or an administrator, and the language of their mail."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from dbkit import World
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from grappe.errors import PermissionDeniedError
from grappe.kit.mail import send, send_all
from grappe.kit.present import Formatter, Language
from grappe.registry import LOCAL_ADMIN
from grappe.registry.accounts import links
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import LanguageChange, UserCreate
from grappe.registry.invitations import service as invitations
from grappe.registry.invitations.schemas import InvitationCreate
from grappe.registry.models import Role, User
from grappe.registry.organisations import service as organisations

NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
ENGLISH = LanguageChange(language=Language.EN)


def user_id(world: World, who: str) -> int:
    found = world.actors[who].user_id
    assert found is not None
    return found


def test_a_user_is_french_unless_created_or_set_otherwise(db: Session, world: World) -> None:
    assert accounts.get_user(db, LOCAL_ADMIN, user_id(world, "manager")).language is Language.FR
    made = accounts.create_user(
        db, LOCAL_ADMIN, UserCreate(email="en@meca.fr", role=Role.MANAGER, clusters=[world.a], language="en")
    )
    assert made.language is Language.EN
    with pytest.raises(ValidationError):
        UserCreate(email="de@meca.fr", role=Role.ADMIN, language="de")
    with pytest.raises(ValidationError):
        LanguageChange.model_validate({"language": "de"})


def test_a_user_sets_its_own_language_an_administrator_anyone_s(db: Session, world: World) -> None:
    member, manager = world.actors["member"], world.actors["manager"]
    assert accounts.set_language(db, member, user_id(world, "member"), ENGLISH).language is Language.EN
    with pytest.raises(PermissionDeniedError):
        accounts.set_language(db, member, user_id(world, "manager"), ENGLISH)
    with pytest.raises(PermissionDeniedError):
        accounts.set_language(db, manager, user_id(world, "member"), LanguageChange(language=Language.FR))
    assert accounts.set_language(db, LOCAL_ADMIN, user_id(world, "manager"), ENGLISH).language is Language.EN
    stored = db.scalars(select(User.language).where(User.email.in_(["m@meca.fr", "u@dupont.fr"]))).all()
    assert stored == ["en", "en"]


def test_the_reset_mail_is_in_the_user_s_language(db: Session, world: World, smtp_server: Any) -> None:
    accounts.set_language(db, LOCAL_ADMIN, user_id(world, "member"), ENGLISH)
    english = links.request_reset(db, "u@dupont.fr", now=NOW)
    french = links.request_reset(db, "m@meca.fr", now=NOW)
    assert english is not None
    assert french is not None
    send_all([english, french])
    to_member, to_manager = smtp_server.wait_for(2)
    assert to_member["Subject"] == "grappe: change your password"
    body = to_member.get_content()
    assert "until 3 December 2026 at 11:00 (UTC)" in body
    assert "If you asked for nothing" in body
    assert to_manager["Subject"] == "grappe : changer votre mot de passe"
    assert "jusqu'au 3 décembre 2026 à 11:00 (UTC)" in to_manager.get_content()


def test_an_invitation_and_its_new_link_are_in_the_invitee_s_language(
    db: Session, world: World, smtp_server: Any
) -> None:
    data = UserCreate(
        email="reviewer@lab.fr", name="Ada", role=Role.REVIEWER, organisation_id=world.org_a, language="en"
    )
    user, mail = links.invite_user(db, LOCAL_ADMIN, data, now=NOW)
    assert user.language is Language.EN
    send(mail)
    again = links.resend_invitation(db, LOCAL_ADMIN, user.id, now=NOW)
    send(again)
    first, second = smtp_server.wait_for(2)
    assert first["Subject"] == second["Subject"] == "grappe: your invitation"
    assert first.get_content().startswith("Hello Ada,")
    assert "You are invited to grappe" in first.get_content()
    assert "with the role “reviewer”" in first.get_content()
    assert "until 10 December 2026 at 10:00 (UTC)" in second.get_content()
    french, _ = links.invite_user(
        db, LOCAL_ADMIN, UserCreate(email="fr@meca.fr", role=Role.MANAGER, clusters=[world.a]), now=NOW
    )
    assert french.language is Language.FR


def test_an_organisation_invitation_goes_to_each_person_in_its_language(
    db: Session, world: World, smtp_server: Any
) -> None:
    """Its member user reads English; its contacts, who are no users, read French."""
    accounts.set_language(db, LOCAL_ADMIN, user_id(world, "member"), ENGLISH)
    siren_a = organisations.get_organisation(db, LOCAL_ADMIN, world.org_a).siren
    assert siren_a is not None
    joined = dt.date(2025, 1, 1)
    sent = invitations.invite(
        db, world.actors["manager_other"], world.b, InvitationCreate(siren=siren_a, joined=joined)
    )
    mails = invitations.invitation_mails(db, sent.id)
    assert send_all(mails) == 2
    french, english = smtp_server.wait_for(2)
    assert french["To"] == "anne@dupont.fr, x@y.fr"
    assert french["Subject"] == "grappe : invitation de Granit Bretagne"
    assert f"à partir du {Formatter('fr').date(joined)}" in french.get_content()
    assert english["To"] == "u@dupont.fr"
    assert english["Subject"] == "grappe: invitation from Granit Bretagne"
    assert "from 1 January 2025 (membership type: adherent)" in english.get_content()
