"""Accounts by mail and the administrator's pages: route x role, CSRF, reset and invitation
links read from a real SMTP server, users and roles, the audit log and its export, detection runs."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from webkit import EMAILS, PASSWORD, Web, build_web, csrf, dbkit, finished_job, sign_in

from grappe.registry.accounts import links
from grappe.registry.accounts.models import WebSession
from grappe.registry.models import User
from grappe.storage.sql import session_scope
from grappe.web.unit import SESSION_COOKIE

ROLES = ("admin", "manager", "member", "funder", "public")


@pytest.fixture(scope="module")
def site(database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """The web application on its own database: these tests write (users, roles)."""
    db = dbkit.new_database(database.backend, tmp_path_factory.mktemp("admin"))
    try:
        yield build_web(db)
    finally:
        db.drop()


def client_of(site: Web, who: str) -> Any:
    client = site.client()
    if who != "public":
        assert sign_in(client, who).status_code == 303  # type: ignore[attr-defined]
    return client


def user_id(site: Web, email: str) -> int:
    with session_scope(site.app.state.engine) as session:
        found = session.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


def post_form(client: Any, page: str, action: str, data: dict[str, Any]) -> Any:
    token = csrf(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def link_in(message: Any) -> str:
    body = message.get_content()
    found = re.search(
        r"http://127\.0\.0\.1:8000(/compte/(?:mot-de-passe|invitation)/[A-Za-z0-9_-]{43})", body
    )
    assert found, body
    return found.group(1)


ADMIN_PAGES = [
    "/admin",
    "/admin/utilisateurs",
    "/admin/utilisateurs?q=meca&role=manager&etat=actifs&page=1",
    "/admin/utilisateurs/{user}",
    "/admin/journal",
    "/admin/journal?objet=clusters&du=2020-01-01&au=2099-12-31&page=1",
    "/admin/journal.csv",
    "/admin/journal.xlsx",
    "/admin/detection",
]


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_each_admin_page_by_role(site: Web, page: str) -> None:
    url = page.format(user=user_id(site, EMAILS["member"]))
    for who in ROLES:
        answer = client_of(site, who).get(url, follow_redirects=False)
        if who == "admin":
            assert answer.status_code == 200, (who, answer.text[:300])
        elif who == "public":
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/connexion?suite=/admin")
        else:
            assert answer.status_code == 403, (who, url, answer.status_code)
            assert "u@dupont.fr" not in answer.text or who == "member"


ADMIN_FORMS = [
    ("/admin/utilisateurs/{user}/role", {"role": "admin"}),
    ("/admin/utilisateurs/{user}/desactiver", {}),
    ("/admin/utilisateurs/{user}/reactiver", {}),
    ("/admin/utilisateurs/{user}/relancer", {}),
    ("/admin/detection", {"name": "x", "level": "ze", "sectors": "section", "store": "/nowhere"}),
    ("/admin/detection/1/relance", {}),
]


@pytest.mark.parametrize(("action", "data"), ADMIN_FORMS)
def test_each_admin_form_by_role_and_csrf(site: Web, action: str, data: dict[str, str]) -> None:
    target = user_id(site, EMAILS["funder"])
    url = action.format(user=target)
    for who in ("manager", "member", "funder"):
        answer = post_form(client_of(site, who), "/", url, data)
        assert answer.status_code == 403, (who, answer.status_code)
    public = post_form(client_of(site, "public"), "/connexion", url, data)
    assert public.status_code == 303
    assert public.headers["location"].startswith("/connexion")
    refused = client_of(site, "admin").post(url, data=data, follow_redirects=False)
    assert refused.status_code == 403
    assert "Formulaire expiré" in refused.text
    with session_scope(site.app.state.engine) as session:
        funder = session.get(User, target)
        assert funder is not None
        assert (funder.role, funder.active) == ("funder", True)  # nothing changed


def test_the_invitation_form_by_role(site: Web) -> None:
    for who, status in (("admin", 200), ("manager", 200), ("member", 403), ("funder", 403)):
        page = client_of(site, who).get("/compte/inviter", follow_redirects=False)
        assert page.status_code == status, who
    manager_page = client_of(site, "manager").get("/compte/inviter").text
    assert "Mécanique Rhône" in manager_page
    assert "Granit Bretagne" not in manager_page  # a cluster it does not run
    assert 'value="admin"' not in manager_page
    assert 'value="admin"' in client_of(site, "admin").get("/compte/inviter").text
    public = client_of(site, "public").get("/compte/inviter", follow_redirects=False)
    assert public.headers["location"] == "/connexion?suite=/compte/inviter"


def test_a_manager_invites_only_for_its_own_clusters(site: Web, smtp_server: Any) -> None:
    world: Any = site.world
    manager = client_of(site, "manager")
    for cluster, status in ((world.b, 403), (site.hidden, 404)):
        refused = post_form(
            manager,
            "/compte/inviter",
            "/compte/inviter",
            {"email": f"intrus{cluster}@x.fr", "role": "manager", "cluster": str(cluster)},
        )
        assert refused.status_code == status
    as_admin = post_form(
        manager, "/compte/inviter", "/compte/inviter", {"email": "chef@x.fr", "role": "admin"}
    )
    assert as_admin.status_code == 403
    other_org = post_form(
        manager,
        "/compte/inviter",
        "/compte/inviter",
        {"email": "salarie@legoff.fr", "role": "member", "organisation": str(world.org_b)},
    )
    assert other_org.status_code == 404
    assert smtp_server.messages == []
    bad = post_form(
        manager, "/compte/inviter", "/compte/inviter", {"email": "pas-une-adresse", "role": "manager"}
    )
    assert bad.status_code == 422
    refusal = "« Adresse électronique » : format invalide (saisi : « pas-une-adresse »)"
    assert refusal in html.unescape(bad.text)
    sent = post_form(
        manager,
        "/compte/inviter",
        "/compte/inviter",
        {"email": "adjointe@meca.fr", "name": "Adjointe", "role": "manager", "cluster": str(world.a)},
    )
    assert sent.status_code == 303
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "adjointe@meca.fr"
    assert message["Reply-To"] == EMAILS["manager"]
    assert "gestionnaire de structure" in message.get_content()
    again = post_form(
        manager,
        "/compte/inviter",
        "/compte/inviter",
        {"email": "adjointe@meca.fr", "role": "manager", "cluster": str(world.a)},
    )
    assert again.status_code == 409


def test_invitation_by_mail_from_the_users_page_to_the_first_sign_in(site: Web, smtp_server: Any) -> None:
    admin = client_of(site, "admin")
    sent = post_form(
        admin,
        "/compte/inviter",
        "/compte/inviter",
        {"email": "Financeuse@Region.fr", "role": "funder", "funder": "Région Test"},
    )
    assert sent.status_code == 303, re.findall(r'class="alert[^>]*>([^<]*)', sent.text)
    assert "Invitation envoyée à financeuse@region.fr" in admin.get(sent.headers["location"]).text
    listed = admin.get("/admin/utilisateurs?q=financeuse").text
    assert "Invitation en attente" in listed
    (message,) = smtp_server.wait_for(1)
    path = link_in(message)
    visitor = site.client()
    page = visitor.get(path)
    assert page.status_code == 200
    assert "Activer votre compte" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    token = csrf(page.text)
    differ = visitor.post(path, data={"csrf_token": token, "password": PASSWORD, "confirm": PASSWORD + "!"})
    assert differ.status_code == 422
    assert "Les deux mots de passe diffèrent" in differ.text
    short = visitor.post(path, data={"csrf_token": token, "password": "court", "confirm": "court"})
    assert short.status_code == 422
    assert "attendu entre 12" in short.text
    done = visitor.post(
        path, data={"csrf_token": token, "password": PASSWORD, "confirm": PASSWORD}, follow_redirects=False
    )
    assert (done.status_code, done.headers["location"]) == (303, "/connexion?fait=invitation")
    assert "Votre compte est actif" in visitor.get("/connexion?fait=invitation").text
    assert visitor.get(path).status_code == 404  # used up
    signed = visitor.post(
        "/connexion",
        data={
            "email": "financeuse@region.fr",
            "password": PASSWORD,
            "csrf_token": csrf(visitor.get("/connexion").text),
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert "Actif" in admin.get("/admin/utilisateurs?q=financeuse").text


def test_forgotten_password_by_mail_ends_every_session(site: Web, smtp_server: Any) -> None:
    elsewhere = client_of(site, "manager_other")  # a session on another browser
    visitor = site.client()
    form = visitor.get("/connexion").text
    assert 'href="/compte/mot-de-passe-oublie"' in form
    unknown = post_form(
        visitor,
        "/compte/mot-de-passe-oublie",
        "/compte/mot-de-passe-oublie",
        {"email": "personne@nulle.part"},
    )
    known = post_form(
        visitor,
        "/compte/mot-de-passe-oublie",
        "/compte/mot-de-passe-oublie",
        {"email": EMAILS["manager_other"]},
    )
    assert unknown.status_code == known.status_code == 200
    notice = "Si un compte actif correspond à cette adresse"
    assert notice in unknown.text
    assert notice in known.text
    assert unknown.text.replace("personne@nulle.part", "").count(notice) == 1
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == EMAILS["manager_other"]
    assert len(smtp_server.messages) == 1  # nothing for the unknown address
    path = link_in(message)
    page = visitor.get(path)
    assert "Nouveau mot de passe" in page.text
    new = "a new long passphrase"
    done = visitor.post(
        path, data={"csrf_token": csrf(page.text), "password": new, "confirm": new}, follow_redirects=False
    )
    assert done.status_code == 303
    assert elsewhere.get("/gestion", follow_redirects=False).status_code == 303  # signed out
    who = user_id(site, EMAILS["manager_other"])
    with session_scope(site.app.state.engine) as session:
        assert session.scalars(select(WebSession).where(WebSession.user_id == who)).all() == []
    assert sign_in(site.client(), "manager_other").status_code == 401  # type: ignore[attr-defined]
    again = site.client()
    token = csrf(again.get("/connexion").text)
    ok = again.post(
        "/connexion",
        data={"email": EMAILS["manager_other"], "password": new, "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_reset_requests_are_throttled_and_forms_need_their_token(site: Web) -> None:
    visitor = site.client()
    visitor.get("/compte/mot-de-passe-oublie")
    assert visitor.post("/compte/mot-de-passe-oublie", data={"email": "x@y.fr"}).status_code == 403
    for _ in range(links.MAX_RESETS):
        answer = post_form(
            visitor,
            "/compte/mot-de-passe-oublie",
            "/compte/mot-de-passe-oublie",
            {"email": "rien@nulle.part"},
        )
        assert answer.status_code == 200
    throttled = post_form(
        visitor, "/compte/mot-de-passe-oublie", "/compte/mot-de-passe-oublie", {"email": "rien@nulle.part"}
    )
    assert throttled.status_code == 429
    assert "trop de demandes de réinitialisation" in throttled.text
    bad = post_form(
        visitor, "/compte/mot-de-passe-oublie", "/compte/mot-de-passe-oublie", {"email": "pas une adresse"}
    )
    assert bad.status_code == 422
    fake = "/compte/mot-de-passe/" + "x" * 43
    missing = visitor.get(fake)
    assert missing.status_code == 404
    assert "lien invalide, expiré ou déjà utilisé" in missing.text
    assert visitor.post(fake, data={"password": "p" * 20, "confirm": "p" * 20}).status_code == 403


def test_users_list_filters_pages_and_role_change(site: Web) -> None:
    admin = client_of(site, "admin")
    managers = admin.get("/admin/utilisateurs?role=manager").text
    assert EMAILS["manager"] in managers
    assert EMAILS["funder"] not in managers
    assert admin.get("/admin/utilisateurs?role=chef").status_code == 422
    assert "« Rôle » : rôle 'chef' inconnu" in html.unescape(admin.get("/admin/utilisateurs?role=chef").text)
    assert admin.get("/admin/utilisateurs?page=0").status_code == 422
    assert admin.get("/admin/utilisateurs/999999").status_code == 404
    member = user_id(site, EMAILS["member"])
    page = f"/admin/utilisateurs/{member}"
    world: Any = site.world
    wrong = post_form(admin, page, f"{page}/role", {"role": "manager"})
    assert wrong.status_code == 422
    assert "role=manager" in wrong.text
    changed = post_form(admin, page, f"{page}/role", {"role": "manager", "clusters": [str(world.a)]})
    assert changed.status_code == 303
    assert "Rôle enregistré" in admin.get(changed.headers["location"]).text
    as_manager = client_of(site, "member")  # its password is the same: now a manager of A
    assert as_manager.get(f"/gestion/{world.a}").status_code == 200
    back = post_form(admin, page, f"{page}/role", {"role": "member", "organisation": str(world.org_a)})
    assert back.status_code == 303
    assert as_manager.get(f"/gestion/{world.a}").status_code == 403  # the session's role follows
    own = user_id(site, EMAILS["admin"])
    mine = post_form(admin, f"/admin/utilisateurs/{own}", f"/admin/utilisateurs/{own}/desactiver", {})
    assert mine.status_code == 409


def test_reviewers_are_listed_invited_and_given_their_role(site: Web, smtp_server: Any) -> None:
    admin = client_of(site, "admin")
    assert 'value="reviewer"' in admin.get("/compte/inviter").text
    sent = post_form(
        admin, "/compte/inviter", "/compte/inviter", {"email": "experte@eval.fr", "role": "reviewer"}
    )
    assert sent.status_code == 303, re.findall(r'class="alert[^>]*>([^<]*)', sent.text)
    (message,) = smtp_server.wait_for(1)
    assert "« évaluateur »" in message.get_content()
    listed = admin.get("/admin/utilisateurs?role=reviewer")
    assert listed.status_code == 200
    assert "experte@eval.fr" in listed.text
    assert "Évaluateur" in listed.text
    assert "Reviewer" in client_of(site, "admin").get("/admin/utilisateurs?lang=en").text
    expert = user_id(site, "experte@eval.fr")
    page = f"/admin/utilisateurs/{expert}"
    assert admin.get(page).status_code == 200
    funder = user_id(site, EMAILS["funder"])
    moved = post_form(admin, page, f"/admin/utilisateurs/{funder}/role", {"role": "reviewer"})
    assert moved.status_code == 303
    assert "Évaluateur" in admin.get(f"/admin/utilisateurs/{funder}").text
    back = {"role": "funder", "funder": "DATAR"}
    assert post_form(admin, page, f"/admin/utilisateurs/{funder}/role", back).status_code == 303


def test_deactivation_ends_the_sessions_of_the_user(site: Web) -> None:
    admin = client_of(site, "admin")
    funder = client_of(site, "funder")
    target = user_id(site, EMAILS["funder"])
    page = f"/admin/utilisateurs/{target}"
    assert post_form(admin, page, f"{page}/desactiver", {}).status_code == 303
    assert SESSION_COOKIE in funder.cookies
    assert "Se connecter" in funder.get("/").text
    assert sign_in(site.client(), "funder").status_code == 401  # type: ignore[attr-defined]
    assert "Inactif" in admin.get(page).text
    assert post_form(admin, page, f"{page}/reactiver", {}).status_code == 303
    assert sign_in(site.client(), "funder").status_code == 303  # type: ignore[attr-defined]


def test_the_audit_log_filters_and_exports_its_current_view(site: Web) -> None:
    admin = client_of(site, "admin")
    world: Any = site.world
    full = admin.get("/admin/journal")
    assert full.status_code == 200
    assert "Journal d'audit" in full.text
    view = f"?objet=clusters&structure={world.a}"
    one = admin.get(f"/admin/journal{view}").text
    assert "1 entrée trouvée" in one
    assert f'href="/admin/journal.csv{view.replace("&", "&amp;")}"' in one
    sheet = load_workbook(io.BytesIO(admin.get(f"/admin/journal.xlsx{view}").content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("N°", "Date et heure (UTC)", "Auteur")
    assert [(r[5], r[7]) for r in rows[1:]] == [("clusters", world.a)]
    text = admin.get(f"/admin/journal.csv{view}").content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert table[0][5] == "Objet"
    assert len(table) == 2
    assert "Mécanique Rhône" in table[1][9]
    for query, message in (
        ("?du=31/02/2024", "« Du » : date invalide"),
        ("?utilisateur=abc", "« N° d'utilisateur » : 'abc' n'est pas un numéro"),
        ("?du=2025-01-02&au=2025-01-01", "la fin précède le début"),
    ):
        answer = admin.get(f"/admin/journal{query}")
        assert answer.status_code == 422, query
        assert message in html.unescape(answer.text)
    future = admin.get("/admin/journal?du=2099-01-01").text
    assert re.search(r'role="status">0 entr', future)


def test_a_detection_run_started_from_the_page_reaches_the_observatory(
    site: Web, observatory_home: Path, grappe_home: Path
) -> None:
    admin = client_of(site, "admin")
    store = observatory_home.parent / "store"
    refused = post_form(
        admin,
        "/admin/detection",
        "/admin/detection",
        {"store": str(store), "level": "ze", "sectors": "section", "name": "é", "permutations": "0"},
    )
    assert refused.status_code == 422
    assert "nom de sauvegarde" in refused.text
    started = post_form(
        admin,
        "/admin/detection",
        "/admin/detection",
        {
            "store": str(store),
            "level": "commune",
            "sectors": "division",
            "name": "page-run",
            "permutations": "0",
        },
    )
    assert started.status_code == 303
    job = finished_job(site.app.state.engine, "page-run")
    assert job.status == "done", job.message
    assert job.result == "page-run"
    assert job.started_by == f"user:{user_id(site, EMAILS['admin'])}"
    assert (grappe_home / "observatory" / "page-run").is_symlink()
    status = admin.get("/admin/detection").text
    assert "Terminée" in status
    assert 'href="/observatoire/page-run"' in status
    assert "page-run" in site.client().get("/observatoire").text
    missing = post_form(
        admin,
        "/admin/detection",
        "/admin/detection",
        {"store": "/nulle/part", "level": "ze", "sectors": "section", "name": "x", "permutations": "0"},
    )
    assert missing.status_code == 422
    assert "dossier introuvable" in missing.text
