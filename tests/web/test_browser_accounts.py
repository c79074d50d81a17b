"""Accounts by mail in a real browser: the administrator invites a person, the mail is read from
the local SMTP server, the person follows its link, chooses a password and signs in; the
forgotten-password form (axe-core, no foreign request, screenshots: see test_browser).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from test_browser import Site, Tab, _tab, browser, pytestmark, serve
from webkit import EMAILS, PASSWORD, build_web, dbkit

from grappe.config import get_settings

__all__ = ["browser", "pytestmark"]  # the Chromium fixture and the skip markers, shared

NEW_PASSWORD = "une phrase de passe assez longue"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The test world served on loopback (the flow writes to it: an invited user)."""
    db = dbkit.new_database("sqlite", tmp_path_factory.mktemp("browser-accounts"))
    try:
        yield from serve(build_web(db))
    finally:
        db.drop()


@pytest.fixture
def tab(browser: object, site: Site) -> Iterator[Tab]:
    yield from _tab(browser, site)


@pytest.fixture
def mail_links_here(site: Site, smtp_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The SMTP server, with the links of grappe's mail pointing at the test server."""
    monkeypatch.setenv("GRAPPE_BASE_URL", site.base)
    get_settings.cache_clear()
    return smtp_server


def link_of(message: Any, base: str) -> str:
    found = re.search(
        re.escape(base) + r"/compte/(?:invitation|mot-de-passe)/[A-Za-z0-9_-]{43}", message.get_content()
    )
    assert found, message.get_content()
    return found.group(0)


def test_admin_invites_a_person_who_activates_its_account_and_signs_in(
    tab: Tab, site: Site, mail_links_here: Any
) -> None:
    page: Any = tab.page
    world: Any = site.web.world
    page.goto(tab.base + "/admin")
    page.wait_for_url(re.compile(r"/connexion\?suite=/admin$"))
    page.fill("#f-email", EMAILS["admin"])
    page.fill("#f-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(tab.base + "/admin")
    tab.check("admin-home")

    page.click("main a:has-text('Utilisateurs')")
    page.wait_for_url(tab.base + "/admin/utilisateurs")
    tab.check("admin-users")
    page.click("main a:has-text('Inviter une personne')")
    page.wait_for_url(tab.base + "/compte/inviter")
    tab.check("admin-invite")
    page.fill("#f-email", "claire@meca.fr")
    page.fill("#f-name", "Claire Martin")
    page.select_option("#f-role", "manager")
    page.select_option("#f-cluster", str(world.a))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/compte/inviter\?envoye="))
    assert "Invitation envoyée à claire@meca.fr" in page.inner_text("[role=status]")
    tab.check("admin-invite-sent")

    (message,) = mail_links_here.wait_for(1)
    assert message["To"] == "claire@meca.fr"
    link = link_of(message, tab.base)
    page.click("button:has-text('Se déconnecter')")
    page.wait_for_url(tab.base + "/")

    page.goto(link)
    assert "Activer votre compte" in page.inner_text("h1")
    assert "claire@meca.fr" in page.inner_text("main")
    tab.check("invitation-link")
    page.fill("#f-password", NEW_PASSWORD)
    page.fill("#f-confirm", NEW_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(tab.base + "/connexion?fait=invitation")
    assert "Votre compte est actif" in page.inner_text("[role=status]")
    tab.check("invitation-done")
    page.fill("#f-email", "claire@meca.fr")
    page.fill("#f-password", NEW_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(tab.base + "/")
    assert "Connecté : claire@meca.fr." in page.inner_text("footer")
    page.goto(f"{tab.base}/gestion/{world.a}")
    assert "Mécanique Rhône" in page.inner_text("h1")
    tab.check("invited-manager-dashboard")


def test_forgotten_password_form_answers_alike(tab: Tab, mail_links_here: Any) -> None:
    page: Any = tab.page
    page.goto(tab.base + "/connexion")
    page.click("a:has-text('Mot de passe oublié')")
    page.wait_for_url(tab.base + "/compte/mot-de-passe-oublie")
    tab.check("forgot-password")
    page.fill("#f-email", EMAILS["funder"])
    page.click("main button[type=submit]")
    assert "Si un compte actif correspond" in page.inner_text("[role=status]")
    tab.check("forgot-password-sent")
    (message,) = mail_links_here.wait_for(1)
    page.goto(link_of(message, tab.base))
    assert "Nouveau mot de passe" in page.inner_text("h1")
    tab.check("reset-link")
