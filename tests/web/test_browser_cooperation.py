"""Cooperation pages in a real browser: a manager records a project and moves it along, a member
registers to an event until it is full, the manager reads the network (axe-core, no foreign
request, screenshots: see test_browser).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from test_browser import Site, Tab, _tab, browser, pytestmark, serve
from webkit import EMAILS, PASSWORD, build_web, dbkit

from grappe.cooperation import service
from grappe.cooperation.actions import service as actions
from grappe.cooperation.actions.schemas import EventIn, RegistrationIn
from grappe.cooperation.schemas import DealIn, PartnerIn, ProjectIn
from grappe.registry import LOCAL_ADMIN
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.storage.sql import session_scope

__all__ = ["browser", "pytestmark"]  # the Chromium fixture and the skip markers, shared

SOON = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=15)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The test world with a project, a deal and an event of A of two seats, one taken."""
    db = dbkit.new_database("sqlite", tmp_path_factory.mktemp("browser-cooperation"))
    try:
        web = build_web(db)
        w: Any = web.world
        with session_scope(db.engine, actor=LOCAL_ADMIN) as s:
            memberships.add_membership(
                s, LOCAL_ADMIN, w.a, MembershipCreate(organisation_id=w.org_free, joined=dt.date(2021, 1, 1))
            )
            service.create_project(
                s,
                LOCAL_ADMIN,
                w.a,
                ProjectIn(
                    title="Usinage propre",
                    kind="rd_innovation",
                    partners=[PartnerIn(organisation_id=w.org_a), PartnerIn(organisation_id=w.org_free)],
                ),
            )
            service.declare_deal(
                s,
                LOCAL_ADMIN,
                w.a,
                DealIn(buyer=w.org_a, seller=w.org_free, year=2024, amount_eur=Decimal(5000)),
            )
            event = actions.create_event(
                s,
                LOCAL_ADMIN,
                w.a,
                EventIn(
                    kind="breakfast",
                    title="Petit déjeuner usinage",
                    starts_at=SOON,
                    ends_at=SOON + dt.timedelta(hours=2),
                    capacity=2,
                ),
            ).id
            actions.register(s, LOCAL_ADMIN, event, RegistrationIn(organisation_id=w.org_free))
        yield from serve(web)
    finally:
        db.drop()


@pytest.fixture
def tab(browser: object, site: Site) -> Iterator[Tab]:
    yield from _tab(browser, site)


def _sign_in(tab: Tab, who: str, target: str) -> None:
    page: Any = tab.page
    page.goto(tab.base + target)
    page.wait_for_url(re.compile(r"/connexion\?suite="))
    page.fill("#f-email", EMAILS[who])
    page.fill("#f-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(tab.base + target)


def test_manager_records_a_project_and_reads_the_network(tab: Tab, site: Site) -> None:
    page: Any = tab.page
    cluster = site.web.world.a  # type: ignore[attr-defined]
    _sign_in(tab, "manager", f"/cooperation/{cluster}/projets")
    assert "Usinage propre" in page.inner_text("main")
    tab.check("cooperation-projects")

    page.click("main a:has-text('Nouveau projet')")
    page.fill("#f-title", "Capteurs connectés")
    tab.check("cooperation-project-form")
    page.click("main button:has-text('Créer le projet')")
    page.wait_for_url(re.compile(r"/cooperation/projets/\d+$"))
    page.select_option("#f-status", "drafting")
    page.click("main button:has-text('Enregistrer le statut')")
    page.wait_for_url(re.compile(r"/cooperation/projets/\d+$"))
    assert "montage" in page.inner_text("main ol")
    tab.check("cooperation-project")

    page.goto(f"{tab.base}/cooperation/{cluster}/affaires")
    assert "Volume annuel d'affaires" in page.inner_text("main")
    tab.check("cooperation-business")

    page.goto(f"{tab.base}/cooperation/{cluster}/reseau")
    picture = page.locator("figure.network-picture img")
    picture.wait_for()
    page.wait_for_function("document.querySelector('figure.network-picture img').naturalWidth > 0")
    page.click("thead a:has-text('Intermédiarité')")
    page.wait_for_url(re.compile(r"sort=betweenness"))
    tab.check("cooperation-network")

    page.goto(f"{tab.base}/cooperation/{cluster}")
    assert "Financement des projets" in page.inner_text("main")
    tab.check("cooperation-figures")


def test_member_registers_until_the_event_is_full(tab: Tab, site: Site) -> None:
    page: Any = tab.page
    cluster = site.web.world.a  # type: ignore[attr-defined]
    _sign_in(tab, "member", f"/cooperation/{cluster}/evenements")
    tab.check("cooperation-events")
    page.click("main a:has-text('Petit déjeuner usinage')")
    page.wait_for_url(re.compile(r"/cooperation/evenements/\d+$"))
    page.fill("#f-seats", "2")
    page.click('main button:has-text("M\'inscrire")')
    assert "complet" in page.inner_text("[role=alert]")
    # the refusal answers 422 on purpose (the browser logs it): the only error expected
    assert tab.errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
    tab.errors.clear()
    tab.check("cooperation-event-full")
    page.fill("#f-seats", "1")
    page.click('main button:has-text("M\'inscrire")')
    assert "Inscription enregistrée." in page.inner_text("[role=status]")
    assert "Décolletage Dupont" in page.inner_text("main table")
    tab.check("cooperation-event-registered")
