"""The language of a user's mail on the pages: chosen on the account page or by switching the
site's language while signed in, then the language of the mail it receives (a real SMTP server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from webkit import EMAILS, Web, build_web, csrf, dbkit, sign_in

from grappe.registry.models import User
from grappe.storage.sql import session_scope


@pytest.fixture(scope="module")
def site(database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """The web application on its own database: these tests change users' language."""
    db = dbkit.new_database(database.backend, tmp_path_factory.mktemp("langs"))
    try:
        yield build_web(db)
    finally:
        db.drop()


def language_of(site: Web, email: str) -> str:
    with session_scope(site.app.state.engine) as session:
        found = session.scalar(select(User.language).where(User.email == email))
    assert found is not None
    return found


def signed_in(site: Web, who: str) -> Any:
    client = site.client()
    assert sign_in(client, who).status_code == 303  # type: ignore[attr-defined]
    return client


def ask_reset(site: Web, email: str) -> None:
    visitor = site.client()
    token = csrf(visitor.get("/compte/mot-de-passe-oublie").text)
    answer = visitor.post("/compte/mot-de-passe-oublie", data={"csrf_token": token, "email": email})
    assert answer.status_code == 200


def test_the_account_page_saves_the_language_of_the_mail(site: Web, smtp_server: Any) -> None:
    member = signed_in(site, "member")
    page = member.get("/compte")
    assert page.status_code == 200
    assert EMAILS["member"] in page.text
    assert 'href="/compte"' in page.text  # the header links to it
    assert '<option value="fr" selected>' in page.text
    refused = member.post("/compte/langue", data={"language": "en"}, follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token
    assert language_of(site, EMAILS["member"]) == "fr"
    wrong = member.post("/compte/langue", data={"csrf_token": csrf(page.text), "language": "de"})
    assert wrong.status_code == 422
    saved = member.post(
        "/compte/langue", data={"csrf_token": csrf(page.text), "language": "en"}, follow_redirects=False
    )
    assert (saved.status_code, saved.headers["location"]) == (303, "/compte?lang=en&fait=langue")
    assert language_of(site, EMAILS["member"]) == "en"
    shown = member.get(saved.headers["location"])
    assert "Language saved" in shown.text
    assert '<option value="en" selected>' in shown.text
    ask_reset(site, EMAILS["member"])
    ask_reset(site, EMAILS["manager"])
    messages = {m["To"]: m for m in smtp_server.wait_for(2)}
    english, french = messages[EMAILS["member"]], messages[EMAILS["manager"]]
    assert english["Subject"] == "grappe: change your password"
    assert "Choose your new password" in english.get_content()
    assert french["Subject"] == "grappe : changer votre mot de passe"
    assert "Choisissez votre nouveau mot de passe" in french.get_content()


def test_the_account_page_sends_the_public_to_sign_in(site: Web) -> None:
    visitor = site.client()
    answer = visitor.get("/compte", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/connexion?suite=/compte")


def test_switching_the_site_language_while_signed_in_records_it(site: Web) -> None:
    manager = signed_in(site, "manager_other")
    assert manager.get("/annuaire?lang=en").status_code == 200
    assert language_of(site, EMAILS["manager_other"]) == "en"
    assert manager.get("/annuaire").status_code == 200  # the cookie alone changes nothing
    assert language_of(site, EMAILS["manager_other"]) == "en"
    assert manager.get("/?lang=fr").status_code == 200
    assert language_of(site, EMAILS["manager_other"]) == "fr"
    assert site.client().get("/?lang=en").status_code == 200  # the public has nothing to record


def test_a_person_invited_from_an_english_page_is_written_in_english(site: Web, smtp_server: Any) -> None:
    admin = signed_in(site, "admin")
    form = admin.get("/compte/inviter?lang=en")
    sent = admin.post(
        "/compte/inviter",
        data={
            "csrf_token": csrf(form.text),
            "email": "guest@meca.fr",
            "role": "manager",
            "cluster": str(site.world.a),  # type: ignore[attr-defined]
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert language_of(site, "guest@meca.fr") == "en"
    (message,) = smtp_server.wait_for(1)
    assert message["Subject"] == "grappe: your invitation"
    assert "with the role “cluster manager”" in message.get_content()
