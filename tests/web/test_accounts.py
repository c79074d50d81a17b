"""Accounts in the browser's terms: sign-in, sessions, CSRF, throttling, sign-out, passwords."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from typer.testing import CliRunner
from webkit import EMAILS, PASSWORD, Web, csrf, sign_in

from grappe.cli import app as cli
from grappe.errors import InputError, PermissionDeniedError
from grappe.registry import LOCAL_ADMIN, open_registry
from grappe.registry.accounts import signin
from grappe.registry.accounts.models import WebSession
from grappe.registry.models import AuditEntry, User
from grappe.storage.sql import session_scope
from grappe.web.unit import SESSION_COOKIE


def test_sign_in_opens_a_server_side_session_with_a_safe_cookie(web: Web) -> None:
    client = web.client()
    answer = sign_in(client, "manager")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert flag.lower() in cookie.lower(), cookie
    token = client.cookies[SESSION_COOKIE]
    with session_scope(web.app.state.engine) as session:
        stored = session.scalars(select(WebSession.token_hash)).all()
    assert token not in stored  # only its digest is kept
    home = client.get("/").text
    assert f"Connecté : {EMAILS['manager']}." in home
    assert 'action="/deconnexion"' in home


@pytest.mark.parametrize("password", ["wrong password!", ""])
def test_wrong_password_or_unknown_address_says_so_without_telling_which(web: Web, password: str) -> None:
    client = web.client()
    answer = sign_in(client, "member", password)
    assert answer.status_code == 401
    assert "Adresse électronique ou mot de passe incorrect." in answer.text
    assert SESSION_COOKIE not in client.cookies
    token = csrf(client.get("/connexion").text)
    unknown = client.post(
        "/connexion", data={"email": "personne@nulle.part", "password": PASSWORD, "csrf_token": token}
    )
    assert unknown.status_code == 401
    assert "Adresse électronique ou mot de passe incorrect." in unknown.text


def test_forms_without_the_visitors_csrf_token_are_refused(web: Web) -> None:
    client = web.client()
    client.get("/connexion")
    form = {"email": EMAILS["manager"], "password": PASSWORD}
    assert client.post("/connexion", data=form).status_code == 403
    # a token of another visitor does not fit this visitor's cookie
    other = web.client()
    stolen = csrf(other.get("/connexion").text)
    refused = client.post("/connexion", data={**form, "csrf_token": stolen})
    assert refused.status_code == 403
    assert "Formulaire expiré ou invalide" in refused.text
    assert SESSION_COOKIE not in client.cookies
    # signed in, signing out needs the token too
    assert sign_in(client, "manager").status_code == 303
    assert client.post("/deconnexion", data={}).status_code == 403
    assert f"Connecté : {EMAILS['manager']}." in client.get("/").text


def test_sign_out_ends_the_session_on_the_server(web: Web) -> None:
    client = web.client()
    assert sign_in(client, "admin").status_code == 303
    token = client.cookies[SESSION_COOKIE]
    token_form = {"csrf_token": csrf(client.get("/").text)}
    answer = client.post("/deconnexion", data=token_form, follow_redirects=False)
    assert answer.status_code == 303
    assert SESSION_COOKIE not in client.cookies
    assert "Se connecter" in client.get("/").text
    # the old cookie, replayed, is worth nothing: the session row is gone
    replay = web.client()
    replay.cookies.set(SESSION_COOKIE, token)
    assert replay.get(f"/structures/{web.hidden}").status_code == 404


def test_sign_in_is_throttled_after_repeated_failures(web: Web) -> None:
    client = web.client()
    for _ in range(signin.MAX_FAILURES):
        assert sign_in(client, "funder", "not the password").status_code == 401
    throttled = sign_in(client, "funder")  # the right password, too late
    assert throttled.status_code == 429
    assert f"trop de tentatives de connexion pour {EMAILS['funder']}" in throttled.text
    assert SESSION_COOKIE not in client.cookies
    later = dt.datetime.now(dt.UTC) + signin.FAILURE_WINDOW + dt.timedelta(seconds=1)
    with session_scope(web.app.state.engine) as session:
        assert signin.sign_in(session, EMAILS["funder"], PASSWORD, now=later) is not None


def test_sign_in_goes_back_only_to_a_page_of_this_site(web: Web) -> None:
    client = web.client()
    token = csrf(client.get("/connexion").text)
    for target, expected in (("/annuaire?region=53", "/annuaire?region=53"), ("//evil.example/", "/")):
        answer = client.post(
            "/connexion",
            data={"email": EMAILS["manager"], "password": PASSWORD, "csrf_token": token, "target": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == expected


def test_a_session_ends_after_its_lifetime(web: Web) -> None:
    with session_scope(web.app.state.engine) as session:
        token = signin.sign_in(session, EMAILS["member"], PASSWORD)
        assert token is not None
        assert signin.resolve(session, token) is not None
        late = dt.datetime.now(dt.UTC) + signin.SESSION_LIFETIME + dt.timedelta(seconds=1)
        assert signin.resolve(session, token, now=late) is None


def test_the_roles_of_the_registry_apply_to_pages(web: Web) -> None:
    hidden = f"/structures/{web.hidden}"
    for who, status in (("manager", 404), ("member", 404), ("admin", 200)):
        client = web.client()
        assert sign_in(client, who).status_code == 303
        assert client.get(hidden).status_code == status, who


def test_passwords_are_checked_and_their_hash_never_reaches_the_audit_log(web: Web) -> None:
    manager = web.world.actors["manager"]  # type: ignore[attr-defined]
    member = web.world.actors["member"]  # type: ignore[attr-defined]
    with session_scope(web.app.state.engine, actor=member) as session:
        with pytest.raises(PermissionDeniedError):
            signin.set_password(session, member, manager.user_id, "x" * 20)
        with pytest.raises(InputError, match="attendu entre 12"):
            signin.set_password(session, member, member.user_id, "short")
    with session_scope(web.app.state.engine) as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.entity == "user_credentials")).all()
        assert rows
        assert all(row.after is None or row.after["password_hash"] == "***" for row in rows)


def test_cli_sets_a_password_asked_twice(grappe_home: object) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, ["registry", "user-add", "a@b.fr", "--role", "admin"])
    assert created.exit_code == 0, created.output
    answer = runner.invoke(cli, ["registry", "set-password", "A@b.fr"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert answer.exit_code == 0, answer.output
    assert "Mot de passe enregistré pour a@b.fr" in answer.output
    assert PASSWORD not in answer.output
    with open_registry(actor=LOCAL_ADMIN) as session:
        assert signin.sign_in(session, "a@b.fr", PASSWORD) is not None
        assert session.scalar(select(User.id).where(User.email == "a@b.fr")) is not None
    short = runner.invoke(cli, ["registry", "set-password", "a@b.fr"], input="court\ncourt\n")
    assert isinstance(short.exception, InputError)  # exit status 2 through grappe.cli.main
    assert "mot de passe de 5 caractères" in str(short.exception)
