"""The new forms in a real browser: a manager creates an event, then an application with several
budget lines (a line added by the script, a refused line shown on its row), and the same budget
without JavaScript (axe-core, no foreign request, screenshots: see test_browser)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from test_browser import Site, Tab, _tab, browser, pytestmark, serve
from test_browser_cooperation import _sign_in
from webkit import build_web, dbkit

from grappe.calls import service as calls
from grappe.calls.schemas import CallIn, CriterionIn
from grappe.registry import LOCAL_ADMIN
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.storage.sql import session_scope

__all__ = ["browser", "pytestmark"]  # the Chromium fixture and the skip markers, shared

#: The browser logs a refused form's answer (422): the one console error these flows expect.
REFUSED = "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The test world, Solo SARL a second member of A, and a published call for clusters."""
    db = dbkit.new_database("sqlite", tmp_path_factory.mktemp("browser-coopforms"))
    try:
        web = build_web(db)
        w: Any = web.world
        with session_scope(db.engine, actor=LOCAL_ADMIN) as s:
            memberships.add_membership(
                s, LOCAL_ADMIN, w.a, MembershipCreate(organisation_id=w.org_free, joined=dt.date(2021, 1, 1))
            )
            calls.create_call(
                s,
                LOCAL_ADMIN,
                CallIn(
                    title="Appel DATAR",
                    funder="DATAR",
                    budget_eur=Decimal(100000),
                    opens_on=dt.date(2020, 1, 1),
                    closes_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
                    applicant_kind="cluster",
                    criteria=[CriterionIn(name="Stratégie", weight=Decimal(1))],
                    published=True,
                ),
            )
        yield from serve(web)
    finally:
        db.drop()


@pytest.fixture
def tab(browser: object, site: Site) -> Iterator[Tab]:
    yield from _tab(browser, site)


@pytest.fixture
def tab_without_js(browser: object, site: Site) -> Iterator[Tab]:
    yield from _tab(browser, site, javascript=False)


def _open_call(tab: Tab) -> None:
    page: Any = tab.page
    page.goto(f"{tab.base}/appels")
    page.click("main a:has-text('Appel DATAR')")
    page.wait_for_url(re.compile(r"/appels/\d+$"))
    page.goto(page.url + "/candidature")


def test_manager_creates_an_event_then_a_budget_of_several_lines(tab: Tab, site: Site) -> None:
    page: Any = tab.page
    w: Any = site.web.world
    _sign_in(tab, "manager", f"/cooperation/{w.a}/evenements")
    page.fill("#f-title", "Visite de l'usine")
    page.select_option("#f-kind", "company_visit")
    page.fill("#f-starts_at", "2030-03-05T09:00")
    page.fill("#f-ends_at", "2030-03-05T12:00")
    page.fill("#f-capacity", "12")
    page.fill("#f-price", "15,50")
    tab.check("coopforms-event-form")
    page.click('main button:has-text("Créer l\'événement")')
    page.wait_for_url(re.compile(r"/cooperation/evenements/\d+$"))
    assert "0 prises sur 12" in page.inner_text("main")
    tab.check("coopforms-event")

    _open_call(tab)
    assert page.locator("[data-budget-row]").count() == 3
    page.click("main button:has-text('Ajouter une ligne')")
    assert page.locator("[data-budget-row]").count() == 4
    assert page.evaluate("document.activeElement.id") == "f-partner-4"
    page.click("#f-partner-2 >> xpath=ancestor::*[@data-budget-row] >> button:has-text('Retirer la ligne')")
    assert page.locator("[data-budget-row]").count() == 3
    assert page.locator("#f-partner-3").count() == 1  # renumbered
    page.fill("#f-title", "Achats groupés")
    page.fill("#f-partner-1", str(w.org_a))
    page.fill("#f-amount-1", "1000")
    page.fill("#f-partner-3", str(w.org_free))
    page.fill("#f-amount-3", "beaucoup")
    tab.check("coopforms-application-form")
    page.click("main button:has-text('Créer le brouillon')")
    page.wait_for_selector("#f-row-3-error")
    assert "montant invalide" in page.inner_text("#f-row-3-error")
    assert page.get_attribute("#f-amount-3", "aria-invalid") == "true"
    assert tab.errors == [REFUSED]
    tab.errors.clear()
    tab.check("coopforms-application-refused")
    page.fill("#f-amount-3", "2 000")
    page.click("main button:has-text('Créer le brouillon')")
    page.wait_for_url(re.compile(r"/candidatures/\d+$"))
    budget = page.inner_text("main table")
    assert "Décolletage Dupont" in budget
    assert "Solo SARL" in budget
    tab.check("coopforms-application")


def test_the_budget_lines_work_without_javascript(tab_without_js: Tab, site: Site) -> None:
    tab = tab_without_js
    page: Any = tab.page
    w: Any = site.web.world
    _sign_in(tab, "manager", f"/cooperation/{w.a}/evenements")
    _open_call(tab)
    assert page.locator("[data-budget-row]").count() == 3
    assert not page.is_visible("main button:has-text('Ajouter une ligne')")
    page.fill("#f-title", "Recrutement commun")
    page.fill("#f-partner-1", str(w.org_free))
    page.fill("#f-amount-1", "500")
    page.fill("#f-partner-2", str(w.org_a))
    page.fill("#f-amount-2", "700")
    page.click("main button:has-text('Créer le brouillon')")
    page.wait_for_url(re.compile(r"/candidatures/\d+$"))
    assert "1\u202f200,00\xa0€" in page.inner_text("main")
    tab.check("coopforms-application-without-js")
