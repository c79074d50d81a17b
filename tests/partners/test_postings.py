"""Calls for partners per role, on SQLite and PostgreSQL, with mail sent to a local SMTP server."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from grappe.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from grappe.kit.present import Formatter, Language
from grappe.partners.models import Posting
from grappe.partners.postings import service
from grappe.partners.postings.schemas import CloseIn, InterestIn, PostingIn
from grappe.partners.profiles import service as profiles
from grappe.partners.profiles.schemas import SharingIn
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import LanguageChange
from grappe.registry.policy import LOCAL_ADMIN

SOON = dt.date.today() + dt.timedelta(days=30)
CALL = PostingIn(title="Partenaire anodisation", description="Cherche un traiteur de surface.", deadline=SOON)


def test_member_posts_others_express_interest_and_mail_goes_out(
    db: Session, world: Any, smtp_server: Any
) -> None:
    actors = world.actors
    done = service.create_posting(db, actors["member"], world.a, CALL)
    posting = done.result
    assert (posting.organisation_id, posting.cluster_name, posting.open, posting.manages) == (
        world.org_a,
        "MECA",
        True,
        True,
    )
    assert service.notify(done.mails) is None
    (mail,) = smtp_server.wait_for(1)
    assert {mail["To"].addresses[i].addr_spec for i in range(len(mail["To"].addresses))} == {
        "m@meca.fr",
        "u@dupont.fr",
    }
    assert "Partenaire anodisation" in mail["Subject"]
    # another cluster's member does not see it until A shares with B
    for name in ("member_other", "manager_other", "funder", "funder_other", "public"):
        with pytest.raises(NotFoundError):
            service.get_posting(db, actors[name], posting.id)
        with pytest.raises(NotFoundError):
            service.express_interest(db, actors[name], posting.id, InterestIn())
    assert service.list_postings(db, actors["member_other"]).total == 0
    profiles.set_sharing(db, actors["manager"], world.a, SharingIn(clusters=[world.b]))
    assert [p.id for p in service.list_postings(db, actors["member_other"]).items] == [posting.id]
    seen = service.get_posting(db, actors["member_other"], posting.id)
    assert not seen.manages
    done = service.express_interest(
        db, actors["member_other"], posting.id, InterestIn(message="Nous anodisons.")
    )
    assert done.result.organisation_name == "Carrières Le Goff"
    assert service.notify(done.mails) is None
    mail = smtp_server.wait_for(2)[1]
    assert "Carrières Le Goff" in mail.get_content()
    assert "Nous anodisons." in mail.get_content()
    assert {a.addr_spec for a in mail["To"].addresses} == {"m@meca.fr", "u@dupont.fr"}
    # once only, never for the poster itself, never for another organisation
    with pytest.raises(ConflictError, match="déjà intéressée"):
        service.express_interest(db, actors["member_other"], posting.id, InterestIn())
    with pytest.raises(InputError, match="a publié"):
        service.express_interest(db, actors["member"], posting.id, InterestIn())
    with pytest.raises(PermissionDeniedError):
        service.express_interest(
            db, actors["member_other"], posting.id, InterestIn(organisation_id=world.org_a)
        )
    # who reads which interests
    assert service.list_interests(db, actors["member"], posting.id).total == 1
    assert service.list_interests(db, actors["manager"], posting.id).total == 1
    assert service.list_interests(db, actors["member_other"], posting.id).total == 1
    assert service.get_posting(db, actors["member"], posting.id).interests == 1
    # a manager expresses interest for an organisation it manages, not for another tenant's
    with pytest.raises(NotFoundError):
        service.express_interest(db, actors["manager"], posting.id, InterestIn(organisation_id=world.org_b))


def test_each_recipient_is_told_in_its_language(db: Session, world: Any, smtp_server: Any) -> None:
    member = world.actors["member"]
    accounts.set_language(db, member, member.user_id, LanguageChange(language=Language.EN))
    posted = CALL.model_copy(update={"organisation_id": world.org_a})
    done = service.create_posting(db, world.actors["manager"], world.a, posted)
    assert service.notify(done.mails) is None
    french, english = smtp_server.wait_for(2)
    assert french["To"] == "m@meca.fr"
    assert french["Subject"] == "Nouvelle recherche de partenaires : Partenaire anodisation"
    assert f"jusqu'au {Formatter('fr').date(SOON)} inclus" in french.get_content()
    assert english["To"] == "u@dupont.fr"
    assert english["Subject"] == "New call for partners: Partenaire anodisation"
    assert f"until {Formatter('en').date(SOON)} included" in english.get_content()
    profiles.set_sharing(db, world.actors["manager"], world.a, SharingIn(clusters=[world.b]))
    interest = service.express_interest(
        db, world.actors["member_other"], done.result.id, InterestIn(message="Nous anodisons.")
    )
    assert service.notify(interest.mails) is None
    french, english = smtp_server.wait_for(4)[2:]
    assert french["Subject"] == "Intérêt pour votre recherche de partenaires : Partenaire anodisation"
    assert "Son message :" in french.get_content()
    assert english["Subject"] == "Interest in your call for partners: Partenaire anodisation"
    assert "Carrières Le Goff is interested" in english.get_content()
    assert "Their message:" in english.get_content()


def test_deadline_closing_and_listing(db: Session, world: Any) -> None:
    actors = world.actors
    first = service.create_posting(
        db, actors["manager"], world.a, CALL.model_copy(update={"organisation_id": world.org_a})
    )
    posting = first.result
    # a manager names a member of its cluster; a member posts in its own clusters only
    with pytest.raises(InputError, match="pas adhérente"):
        service.create_posting(
            db, actors["manager"], world.a, CALL.model_copy(update={"organisation_id": world.org_b})
        )
    with pytest.raises(InputError, match="précisez"):
        service.create_posting(db, actors["manager"], world.a, CALL)
    with pytest.raises(NotFoundError):
        service.create_posting(db, actors["member_other"], world.a, CALL)
    with pytest.raises(PermissionDeniedError):
        service.create_posting(
            db, actors["member"], world.a, CALL.model_copy(update={"organisation_id": world.org_b})
        )
    with pytest.raises(PermissionDeniedError):
        service.create_posting(
            db, actors["manager_other"], world.a, CALL.model_copy(update={"organisation_id": world.org_a})
        )
    with pytest.raises(InputError, match="déjà passée"):
        service.create_posting(
            db, actors["member"], world.a, CALL.model_copy(update={"deadline": dt.date(2020, 1, 1)})
        )
    for name in ("funder", "public"):
        with pytest.raises(PermissionDeniedError):
            service.list_postings(db, actors[name])
    # past its deadline, a call takes no more interest and leaves the open list
    profiles.set_sharing(db, actors["manager"], world.a, SharingIn(all_clusters=True))
    row = db.get(Posting, posting.id)
    assert row is not None
    row.deadline = dt.date.today() - dt.timedelta(days=1)
    db.flush()
    with pytest.raises(InputError, match="date limite"):
        service.express_interest(db, actors["member_other"], posting.id, InterestIn())
    assert service.list_postings(db, actors["member"]).total == 0
    assert service.list_postings(db, actors["member"], include_closed=True).total == 1
    assert not service.get_posting(db, actors["member"], posting.id).open
    # closing: the poster's users and the cluster's managers; a version check for clients
    second = service.create_posting(db, actors["member"], world.a, CALL).result
    with pytest.raises(PermissionDeniedError):
        service.close_posting(db, actors["member_other"], second.id)
    with pytest.raises(NotFoundError):
        service.close_posting(db, actors["funder"], second.id)
    with pytest.raises(ConflictError):
        service.close_posting(db, actors["manager"], second.id, CloseIn(version=second.version + 5))
    closed = service.close_posting(db, actors["manager"], second.id, CloseIn(version=second.version))
    assert closed.status == "closed"
    assert closed.closed_at is not None
    with pytest.raises(InputError, match="déjà close"):
        service.close_posting(db, actors["member"], second.id)
    with pytest.raises(InputError, match="close"):
        service.express_interest(db, actors["member_other"], second.id, InterestIn())
    # one cluster's calls: the administrator reads all; a cluster the actor does not see is hidden
    assert service.list_postings(db, LOCAL_ADMIN, cluster_id=world.a, include_closed=True).total == 2
    with pytest.raises(NotFoundError):
        service.list_postings(db, actors["member"], cluster_id=world.b)


def test_mail_refused_by_the_server_keeps_the_posting(
    db: Session, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grappe.config import get_settings

    done = service.create_posting(db, world.actors["member"], world.a, CALL)
    monkeypatch.setenv("GRAPPE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRAPPE_SMTP_PORT", "9")  # discard: nobody listens
    get_settings.cache_clear()
    try:
        warning = service.notify(done.mails)
    finally:
        get_settings.cache_clear()
    assert warning is not None
    assert warning.startswith("enregistré, mais la notification n'a pas pu partir")
    assert service.get_posting(db, world.actors["member"], done.result.id).id == done.result.id


def test_the_administrator_names_an_organisation_that_exists(db: Session, world: Any) -> None:
    posting = service.create_posting(
        db, LOCAL_ADMIN, world.a, CALL.model_copy(update={"organisation_id": world.org_a})
    )
    with pytest.raises(NotFoundError, match="organisation 999999 introuvable"):
        service.express_interest(db, LOCAL_ADMIN, posting.result.id, InterestIn(organisation_id=999_999))
    assert service.express_interest(
        db, LOCAL_ADMIN, posting.result.id, InterestIn(organisation_id=world.org_b)
    )
