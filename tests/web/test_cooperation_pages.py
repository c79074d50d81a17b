"""Cooperation pages, route x role (manager, other cluster's manager, member, non-member, funder,
public), and their forms: project status, event registration with its capacity refusal, deals."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import icalendar
import pytest
from openpyxl import load_workbook
from webkit import Web, build_web, csrf, dbkit, sign_in

from grappe.cooperation import service
from grappe.cooperation.actions import service as actions
from grappe.cooperation.actions.schemas import EventIn, RegistrationIn
from grappe.cooperation.schemas import DealIn, FundingIn, PartnerIn, ProjectIn
from grappe.registry import LOCAL_ADMIN
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.storage.sql import session_scope

SOON = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=20)


@dataclass
class Coop:
    """The web application with cooperation records in cluster A (and one in B)."""

    web: Web
    a: int
    b: int
    open_project: int  # A's project, org_a a partner
    secret_project: int  # A's confidential project without org_a
    project_b: int
    event: int  # a public event of A, 2 seats, 1 taken by org_free
    event_b: int
    clients: dict[str, Any] = field(default_factory=dict)

    def client_of(self, who: str) -> Any:
        """A client signed in as ``who`` (``public``: not signed in), one per role (signing in
        hashes a password: slow on purpose)."""
        if who not in self.clients:
            client = self.web.client()
            if who != "public":
                assert sign_in(client, who).status_code == 303  # type: ignore[attr-defined]
            self.clients[who] = client
        return self.clients[who]


@pytest.fixture(scope="module")
def coop(database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coop]:
    db = dbkit.new_database(database.backend, tmp_path_factory.mktemp("coop"))
    try:
        web = build_web(db)
        w: Any = web.world
        with session_scope(db.engine, actor=LOCAL_ADMIN) as s:
            memberships.add_membership(
                s, LOCAL_ADMIN, w.a, MembershipCreate(organisation_id=w.org_free, joined=dt.date(2021, 1, 1))
            )
            open_project = service.create_project(
                s,
                LOCAL_ADMIN,
                w.a,
                ProjectIn(
                    title="Usinage propre",
                    kind="rd_innovation",
                    start=dt.date(2024, 3, 1),
                    partners=[
                        PartnerIn(organisation_id=w.org_a, coordinator=True, budget_eur=Decimal(40000)),
                        PartnerIn(organisation_id=w.org_free),
                    ],
                    fundings=[FundingIn(funder="Bpifrance", programme="fui", amount_eur=Decimal(120000))],
                ),
            ).id
            secret = service.create_project(
                s,
                LOCAL_ADMIN,
                w.a,
                ProjectIn(
                    title="Projet Secret Solo",
                    kind="market",
                    confidential=True,
                    partners=[PartnerIn(organisation_id=w.org_free)],
                ),
            ).id
            project_b = service.create_project(
                s, LOCAL_ADMIN, w.b, ProjectIn(title="Carrière Durable", kind="market")
            ).id
            service.declare_deal(
                s,
                LOCAL_ADMIN,
                w.a,
                DealIn(buyer=w.org_a, seller=w.org_free, year=2024, amount_eur=Decimal(5000), brokered=True),
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
                    place="Lyon",
                ),
            ).id
            actions.register(s, LOCAL_ADMIN, event, RegistrationIn(organisation_id=w.org_free))
            event_b = actions.create_event(
                s,
                LOCAL_ADMIN,
                w.b,
                EventIn(
                    kind="conference",
                    title="Conférence B",
                    starts_at=SOON,
                    ends_at=SOON + dt.timedelta(hours=2),
                ),
            ).id
        yield Coop(web, w.a, w.b, open_project, secret, project_b, event, event_b)
    finally:
        db.drop()


# page -> who gets 200 (the others get 403 or 404; the public is sent to the sign-in form)
PAGES = {
    "/cooperation/{c}": {"manager", "funder"},
    "/cooperation/{c}/projets": {"manager", "member"},
    "/cooperation/{c}/projets?statut=idea&page=1": {"manager", "member"},
    "/cooperation/{c}/projets/nouveau": {"manager"},
    "/cooperation/{c}/evenements": {"manager", "member"},
    "/cooperation/{c}/affaires": {"manager", "member"},
    "/cooperation/{c}/affaires?annee=2024": {"manager", "member"},
    "/cooperation/{c}/reseau": {"manager"},
    "/cooperation/{c}/reseau?couche_projects=1&du=2024-01-01&au=2024-12-31&sort=betweenness": {"manager"},
    "/cooperation/{c}/reseau.svg": {"manager"},
    "/cooperation/{c}/reseau.csv": {"manager"},
    "/cooperation/{c}/reseau.xlsx?sort=-eigenvector": {"manager"},
    "/cooperation/projets/{p}": {"manager", "member"},
    "/cooperation/evenements/{e}": {"manager", "member"},
    "/cooperation/evenements/{e}.ics": {"manager", "member"},
}
ROLES = ("manager", "manager_other", "member", "member_other", "funder", "admin")
#: Lists of a public cluster that anyone signed in may open: they show only what the visitor
#: may read (open data, its own projects), so another tenant gets an empty list, never a record.
FILTERED = {"/cooperation/{c}/projets", "/cooperation/{c}/projets?statut=idea&page=1"}


@pytest.mark.parametrize("page", PAGES)
def test_each_page_by_role(coop: Coop, page: str) -> None:
    own = page.format(c=coop.a, p=coop.open_project, e=coop.event)
    other = page.format(c=coop.b, p=coop.project_b, e=coop.event_b)
    for who in ROLES:
        if who == "member_other":
            continue  # no web account in the test world: its role is walked by the services' tests
        answer = coop.client_of(who).get(own)
        expected = (
            200 if who in PAGES[page] | {"admin"} else (200, 403, 404) if page in FILTERED else (403, 404)
        )
        if expected == 200:
            assert answer.status_code == 200, (who, own, answer.status_code, answer.text[:300])
        else:
            assert answer.status_code in expected, (who, own, answer.status_code)
            for private in ("Décolletage Dupont", "Solo SARL", "Usinage propre", "Petit déjeuner usinage"):
                assert private not in answer.text, (who, own, private)
    # A's manager and member reach nothing of cluster B's records
    for who in ("manager", "member"):
        answer = coop.client_of(who).get(other)
        allowed = (200, 403, 404) if page in FILTERED else (403, 404)
        assert answer.status_code in allowed, (who, other, answer.status_code)
        assert "Carrière Durable" not in answer.text
        assert "Conférence B" not in answer.text
    hidden = coop.client_of("manager").get(page.format(c=coop.web.hidden, p=coop.project_b, e=coop.event_b))
    assert hidden.status_code in (403, 404)
    public = coop.client_of("public").get(own, follow_redirects=False)
    assert public.status_code == 303
    assert public.headers["location"].startswith("/connexion?suite=/cooperation/")


def test_confidential_projects_stay_with_partners_and_managers(coop: Coop) -> None:
    member = coop.client_of("member")  # org_a: not a partner of the confidential project
    listing = member.get(f"/cooperation/{coop.a}/projets").text
    assert "Usinage propre" in listing
    assert "Projet Secret Solo" not in listing
    assert member.get(f"/cooperation/projets/{coop.secret_project}").status_code == 404
    manager = coop.client_of("manager")
    assert "Projet Secret Solo" in manager.get(f"/cooperation/{coop.a}/projets").text
    detail = manager.get(f"/cooperation/projets/{coop.open_project}").text
    for shown in (
        "Décolletage Dupont",
        "Solo SARL",
        "Bpifrance",
        "FUI",
        "40\u202f000,00\xa0€",
        "coordinateur",
    ):
        assert shown in detail
    filtered = manager.get(f"/cooperation/{coop.a}/projets?statut=running").text
    assert "Usinage propre" not in filtered
    bad = manager.get(f"/cooperation/{coop.a}/projets?statut=fini")
    assert bad.status_code == 422
    assert "statut inconnu" in bad.text


def test_a_manager_moves_a_project_along_its_pipeline(coop: Coop) -> None:
    manager = coop.client_of("manager")
    created = manager.post(
        f"/cooperation/{coop.a}/projets/nouveau",
        data={
            "csrf_token": csrf(manager.get(f"/cooperation/{coop.a}/projets/nouveau").text),
            "title": "Capteurs connectés",
            "kind": "rd_innovation",
            "status": "idea",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    url = created.headers["location"]
    page = manager.get(url).text
    refused = manager.post(f"{url}/statut", data={"csrf_token": csrf(page), "status": "funded"})
    assert refused.status_code == 422
    assert "passage de « idée » à « financé » impossible" in refused.text
    moved = manager.post(
        f"{url}/statut", data={"csrf_token": csrf(page), "status": "drafting"}, follow_redirects=False
    )
    assert moved.status_code == 303
    assert "montage" in manager.get(url).text
    # a member reads the project but has no form, and a post is refused
    member = coop.client_of("member")
    assert "Faire avancer le projet" not in member.get(f"/cooperation/projets/{coop.open_project}").text
    token = csrf(member.get(f"/cooperation/projets/{coop.open_project}").text)
    denied = member.post(
        f"/cooperation/projets/{coop.open_project}/statut", data={"csrf_token": token, "status": "drafting"}
    )
    assert denied.status_code == 403
    # no CSRF token, no change
    assert manager.post(f"{url}/statut", data={"status": "labelled"}).status_code == 403


def test_a_member_registers_and_the_capacity_refuses_the_next_seats(coop: Coop) -> None:
    member = coop.client_of("member")
    page = member.get(f"/cooperation/evenements/{coop.event}").text
    assert "1 prises sur 2" in page
    full = member.post(
        f"/cooperation/evenements/{coop.event}/inscription", data={"csrf_token": csrf(page), "seats": "2"}
    )
    assert full.status_code == 422
    assert "complet" in full.text
    assert "1 restante(s)" in full.text
    done = member.post(
        f"/cooperation/evenements/{coop.event}/inscription", data={"csrf_token": csrf(page), "seats": "1"}
    )
    assert done.status_code == 200
    assert "Inscription enregistrée." in done.text
    assert "Décolletage Dupont" in done.text
    calendar = member.get(f"/cooperation/evenements/{coop.event}.ics")
    assert calendar.headers["content-type"].startswith("text/calendar")
    parsed = icalendar.Calendar.from_ical(calendar.content)
    assert [str(e["SUMMARY"]) for e in parsed.walk("VEVENT")] == ["Petit déjeuner usinage"]


def test_deals_volume_and_declaration(coop: Coop) -> None:
    manager = coop.client_of("manager")
    page = manager.get(f"/cooperation/{coop.a}/affaires").text
    assert "Volume annuel d'affaires" in page
    assert "5\u202f000,00\xa0€" in page
    w: Any = coop.web.world
    same = manager.post(
        f"/cooperation/{coop.a}/affaires",
        data={
            "csrf_token": csrf(page),
            "buyer": str(w.org_a),
            "seller": str(w.org_a),
            "year": "2025",
            "amount": "1 200,50",
            "kind": "services",
        },
    )
    assert same.status_code == 422
    assert "acheteur et vendeur sont la même organisation" in same.text
    bad_amount = manager.post(
        f"/cooperation/{coop.a}/affaires",
        data={
            "csrf_token": csrf(page),
            "buyer": str(w.org_a),
            "seller": str(w.org_free),
            "year": "2025",
            "amount": "beaucoup",
            "kind": "services",
        },
    )
    assert bad_amount.status_code == 422
    assert "montant invalide" in bad_amount.text
    done = manager.post(
        f"/cooperation/{coop.a}/affaires",
        data={
            "csrf_token": csrf(page),
            "buyer": str(w.org_free),
            "seller": str(w.org_a),
            "year": "2025",
            "amount": "1200,50",
            "kind": "services",
            "brokered": "1",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "1\u202f200,50\xa0€" in manager.get(f"/cooperation/{coop.a}/affaires?annee=2025").text
    # a member lists its own deals, without the cluster's volume
    mine = coop.client_of("member").get(f"/cooperation/{coop.a}/affaires").text
    assert "Volume annuel d'affaires" not in mine
    assert "Solo SARL" in mine  # the other side of its own deal


def test_the_network_page_and_its_exports(coop: Coop) -> None:
    manager = coop.client_of("manager")
    page = manager.get(f"/cooperation/{coop.a}/reseau?sort=organisation").text
    assert f'<img src="/cooperation/{coop.a}/reseau.svg"' in page
    assert "<script>" not in page
    names = re.findall(r'<th scope="row">([^<]+)', page)
    assert names == sorted(names)
    assert 'aria-sort="ascending"' in page
    svg = manager.get(f"/cooperation/{coop.a}/reseau.svg?couche_projects=1")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    csv_text = manager.get(f"/cooperation/{coop.a}/reseau.csv").content.decode("utf-8-sig")
    header = csv_text.splitlines()[0].split(";")
    assert header[:3] == ["Organisation", "Nature", "Degré (partenaires distincts)"]
    assert "Décolletage Dupont" in csv_text
    workbook = load_workbook(io.BytesIO(manager.get(f"/cooperation/{coop.a}/reseau.xlsx").content))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][0] == "Organisation"
    assert {row[0] for row in rows[1:]} >= {"Décolletage Dupont", "Solo SARL"}
    bad = manager.get(f"/cooperation/{coop.a}/reseau?du=2024-12-31&au=2024-01-01")
    assert bad.status_code == 422
    assert "précède le début" in bad.text
    assert manager.get(f"/cooperation/{coop.a}/reseau?sort=taille").status_code == 422


def test_a_funder_reads_the_figures_only(coop: Coop) -> None:
    funder = coop.client_of("funder")
    page = funder.get(f"/cooperation/{coop.a}")
    assert page.status_code == 200
    assert "120\u202f000,00\xa0€" in page.text  # the FUI funding of the projects
    for name in ("Décolletage Dupont", "Solo SARL", "Usinage propre", "Projet Secret Solo"):
        assert name not in page.text
    assert funder.get(f"/cooperation/{coop.a}/reseau").status_code in (403, 404)
    assert funder.get(f"/cooperation/projets/{coop.open_project}").status_code == 404


@pytest.mark.parametrize("who", ["manager", "member", "funder", "admin"])
def test_the_cooperation_menu_offers_only_pages_the_visitor_may_open(coop: Coop, who: str) -> None:
    client = coop.client_of(who)
    menu = re.compile(r'<nav class="breadcrumb" aria-label="Coopération de la structure">(.*?)</nav>', re.S)
    for page in ("/cooperation/{c}", "/cooperation/{c}/projets"):
        answer = client.get(page.format(c=coop.a))
        if answer.status_code != 200:
            continue
        found = menu.search(answer.text)
        assert found, (who, page)
        offered = re.findall(r'href="([^"]+)"', found.group(1))
        assert offered, (who, page)
        for link in offered:
            assert client.get(link).status_code == 200, (who, page, link)
