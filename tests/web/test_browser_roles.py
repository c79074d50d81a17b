"""The member's, the funder's and the rest of the manager's flows in a real browser, and the
directory's map (axe-core, no foreign request, screenshots: see test_browser)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fabric_kit import write_fabric
from test_browser import Site, Tab, _tab, browser, playwright_sync, pytestmark, serve
from webkit import EMAILS, FEE_YEAR, PASSWORD, add_fee_calls, build_web, dbkit

__all__ = ["browser", "pytestmark"]  # the Chromium fixture and the skip markers, shared


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The test world with fee calls, served on loopback."""
    db = dbkit.new_database("sqlite", tmp_path_factory.mktemp("browser-roles"))
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


def sign_in(tab: Tab, who: str, target: str) -> None:
    """Open ``target``, sign in on the form it leads to, and come back to it."""
    page: Any = tab.page
    page.goto(tab.base + target)
    page.wait_for_url(re.compile(r"/connexion\?suite="))
    page.fill("#f-email", EMAILS[who])
    page.fill("#f-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(tab.base + target)


def test_member_reads_its_profile_and_its_cluster_directory(tab: Tab, site: Site) -> None:
    page: Any = tab.page
    sign_in(tab, "member", "/membre")
    assert page.inner_text("h1") == "Décolletage Dupont"
    assert "Anne Dupont" in page.inner_text("#contacts ~ .table-wrap")
    assert page.locator("main form").count() == 0  # nothing a member may change here
    tab.check("member-home")
    page.click("a:has-text('Annuaire des adhérents de Mécanique Rhône')")
    page.wait_for_url(f"{tab.base}/membre/structures/{site.web.world.a}")  # type: ignore[attr-defined]
    body = page.inner_text("tbody")
    assert "Anne Dupont" in body
    assert "Caché" not in body  # no consent, not in the directory
    tab.check("member-directory")


def test_funder_opens_its_clusters(tab: Tab, site: Site) -> None:
    page: Any = tab.page
    sign_in(tab, "funder", "/financeur")
    assert page.locator(".chart rect.chart__bar").count() == 1  # DATAR funds one cluster
    assert "Granit Bretagne" not in page.inner_text("main")
    tab.check("funder-home")
    page.click("tbody a:has-text('Mécanique Rhône')")
    page.wait_for_url(f"{tab.base}/financeur/structures/{site.web.world.a}")  # type: ignore[attr-defined]
    assert "Chiffres clés" in page.inner_text("main")
    assert page.locator(".chart rect.chart__bar").count() > 0
    tab.check("funder-cluster")


def test_manager_downloads_a_fee_call_and_sees_prospects_on_a_map(
    tab: Tab, site: Site, grappe_home: Path
) -> None:
    write_fabric(grappe_home)  # the fabric store the prospects are read from
    page: Any = tab.page
    cluster = site.web.world.a  # type: ignore[attr-defined]
    fees = f"/gestion/{cluster}/cotisations?annee={FEE_YEAR}"
    sign_in(tab, "manager", f"/gestion/{cluster}/cotisations")  # the sign-in comes back to the path
    page.goto(tab.base + fees)
    tab.check("manage-fees-letters")
    with page.expect_download() as download:
        page.click("a:has-text('Appel de Décolletage Dupont (PDF)')")
    letter = download.value
    assert re.fullmatch(rf"appel-{FEE_YEAR}-\d{{6}}\.pdf", letter.suggested_filename)
    assert Path(letter.path()).read_bytes().startswith(b"%PDF")
    with page.expect_download() as download:
        page.click(f"a:has-text('Lettres de relance {FEE_YEAR} (PDF)')")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    page.click("nav a:has-text('Prospects')")
    page.wait_for_url(f"{tab.base}/gestion/{cluster}/prospects")
    page.wait_for_selector(".map__main path.map__outline", state="attached")
    page.wait_for_selector(".map__main path.map__circle--strong", state="attached")
    assert page.is_hidden(".map-fallback")
    assert "Usinage Récent" in page.inner_text("tbody")
    tab.check("manage-prospects")

    page.click("nav a:has-text('Labels et gouvernance')")
    page.wait_for_url(f"{tab.base}/gestion/{cluster}/gouvernance")
    assert "Grappe d'entreprises" in page.inner_text("main")
    tab.check("manage-governance")
    page.goto(f"{tab.base}/gestion/{cluster}/adherents")
    page.click("a:has-text('Contacts de Décolletage Dupont')")
    page.wait_for_url(re.compile(r"/organisations/\d+/contacts$"))
    page.fill("#f-full_name", "Marc Petit")
    page.fill("#f-email", "marc@dupont.fr")
    page.click("button:has-text('Ajouter le contact')")
    page.wait_for_url(re.compile(r"/organisations/\d+/contacts$"))
    assert "Marc Petit" in page.inner_text("tbody")
    tab.check("manage-contacts")


def test_directory_map_follows_the_filters(tab: Tab) -> None:
    page: Any = tab.page
    page.goto(tab.base + "/annuaire")
    page.wait_for_selector(".map__main path.map__circle", state="attached")
    assert page.is_hidden(".map-fallback")
    tab.check("directory-map")
    page.select_option("#f-region", "53")
    page.wait_for_url(re.compile(r"region=53"))
    page.wait_for_function("document.querySelectorAll('tbody tr').length === 1")
    # the swapped results start their own map, on the filtered points
    playwright_sync.expect(page.locator(".map__main path.map__circle")).to_have_count(1)
    tab.check("directory-map-filtered")
