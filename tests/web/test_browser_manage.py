"""The cluster manager's flow in a real browser: sign in, import members with a bad row, record a
payment, see the dunning list (axe-core, no foreign request, screenshots: see test_browser).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from test_browser import Site, Tab, _tab, browser, pytestmark, serve
from webkit import EMAILS, FEE_YEAR, PASSWORD, add_fee_calls, build_web, dbkit

__all__ = ["browser", "pytestmark"]  # the Chromium fixture and the skip markers, shared


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The test world with fee calls, served on loopback (the manager's flow writes to it)."""
    db = dbkit.new_database("sqlite", tmp_path_factory.mktemp("browser-manage"))
    try:
        web = build_web(db)
        world: Any = web.world
        add_fee_calls(db.engine, [world.a])
        yield from serve(web)
    finally:
        db.drop()


@pytest.fixture
def tab(browser: object, site: Site) -> Iterator[Tab]:
    yield from _tab(browser, site)


def test_manager_imports_members_records_a_payment_and_reads_the_dunning_list(tab: Tab, site: Site) -> None:
    page: Any = tab.page
    cluster = site.web.world.a  # type: ignore[attr-defined]
    page.goto(tab.base + "/gestion")
    page.wait_for_url(re.compile(r"/connexion\?suite=/gestion$"))
    page.fill("#f-email", EMAILS["manager"])
    page.fill("#f-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(tab.base + "/gestion")
    tab.check("manage-home")

    page.click("main a:has-text('Mécanique Rhône')")
    page.wait_for_url(f"{tab.base}/gestion/{cluster}")
    assert page.locator(".chart rect.chart__bar").count() > 0
    tab.check("manage-dashboard")

    page.click("nav a:has-text('Adhérents')")
    page.wait_for_url(f"{tab.base}/gestion/{cluster}/adherents")
    tab.check("manage-members")
    members = (
        "siren;nom;date_adhesion\n"
        f"{dbkit.siren(7007)};Fonderie Rhône;2024-01-15\n"
        "12345;Mauvais;2024-01-15\n"
    )
    page.set_input_files(
        "#f-file", files=[{"name": "adherents.csv", "mimeType": "text/csv", "buffer": members.encode()}]
    )
    page.click("main button:has-text('Importer')")
    page.wait_for_url(f"{tab.base}/gestion/{cluster}/adherents/import")
    assert "Rapport d'import du fichier adherents.csv" in page.inner_text("h1")
    assert "12345" in page.inner_text("tbody")
    tab.check("manage-import-report")

    page.goto(f"{tab.base}/gestion/{cluster}/relances")
    assert "Décolletage Dupont" in page.inner_text("main")
    tab.check("manage-dunning")

    page.goto(f"{tab.base}/gestion/{cluster}/cotisations?annee={FEE_YEAR}")
    page.click("summary:has-text('Enregistrer un paiement')")
    tab.check("manage-fees")
    page.fill("input[name=amount]", "150,00")
    page.click("button:has-text('Enregistrer le paiement de Décolletage Dupont')")
    page.wait_for_url(re.compile(rf"/cotisations\?annee={FEE_YEAR}$"))
    assert "payé" in page.inner_text("tbody")
    tab.check("manage-fees-paid")

    page.click("nav a:has-text('Relances')")
    page.wait_for_url(f"{tab.base}/gestion/{cluster}/relances")
    assert "Aucune cotisation en retard." in page.inner_text("main")
    tab.check("manage-dunning-empty")
