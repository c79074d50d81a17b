"""The cooperation writes of the web pages, route x role: links (declare, end), project partners
(add, remove), event creation, shared equipment (add, book), and the application form's several
budget lines with the refusal on the row at fault."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from webkit import Web, build_web, csrf, dbkit, sign_in

from grappe.calls import service as calls
from grappe.calls.schemas import CallIn, CriterionIn
from grappe.cooperation import service
from grappe.cooperation.actions import service as actions
from grappe.cooperation.actions.schemas import EquipmentIn
from grappe.cooperation.schemas import LinkIn, PartnerIn, ProjectIn
from grappe.registry import LOCAL_ADMIN
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.storage.sql import session_scope

ROLES = ("manager", "manager_other", "member", "funder", "admin")


@dataclass
class World:
    """The web application with cooperation records in cluster A and in B."""

    web: Web
    a: int
    b: int
    org_a: int
    org_free: int
    org_b: int
    project: int  # A's, org_a its partner
    project_b: int
    link_b: int  # a link of B's books
    equipment: int  # A's clean room, 50 €/h
    equipment_b: int
    call: int  # a published call for clusters
    clients: dict[str, Any] = field(default_factory=dict)

    def client_of(self, who: str) -> Any:
        """A client signed in as ``who``, one per role (signing in hashes a password)."""
        if who not in self.clients:
            client = self.web.client()
            if who != "public":
                assert sign_in(client, who).status_code == 303  # type: ignore[attr-defined]
            self.clients[who] = client
        return self.clients[who]

    def token(self, who: str, page: str) -> str:
        return csrf(self.client_of(who).get(page).text)


@pytest.fixture(scope="module")
def world(database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db = dbkit.new_database(database.backend, tmp_path_factory.mktemp("coopforms"))
    try:
        web = build_web(db)
        w: Any = web.world
        with session_scope(db.engine, actor=LOCAL_ADMIN) as s:
            memberships.add_membership(
                s, LOCAL_ADMIN, w.a, MembershipCreate(organisation_id=w.org_free, joined=dt.date(2021, 1, 1))
            )
            project = service.create_project(
                s,
                LOCAL_ADMIN,
                w.a,
                ProjectIn(
                    title="Usinage propre",
                    kind="rd_innovation",
                    partners=[PartnerIn(organisation_id=w.org_a)],
                ),
            ).id
            project_b = service.create_project(
                s, LOCAL_ADMIN, w.b, ProjectIn(title="Carrière Durable", kind="market")
            ).id
            # B's link needs two members: org_b and an organisation created by name, then a member
            second_b = (
                service.create_project(
                    s,
                    LOCAL_ADMIN,
                    w.b,
                    ProjectIn(
                        title="Granit poli", kind="market", partners=[PartnerIn(name="Taille Bretonne")]
                    ),
                )
                .partners[0]
                .organisation_id
            )
            assert second_b is not None
            memberships.add_membership(
                s, LOCAL_ADMIN, w.b, MembershipCreate(organisation_id=second_b, joined=dt.date(2021, 1, 1))
            )
            link_b = service.declare_link(
                s,
                LOCAL_ADMIN,
                w.b,
                LinkIn(organisation_a=w.org_b, organisation_b=second_b, kind="co_development"),
            ).id
            equipment = actions.create_equipment(
                s, LOCAL_ADMIN, w.a, EquipmentIn(name="Salle blanche", hourly_rate_eur=Decimal(50))
            ).id
            equipment_b = actions.create_equipment(
                s, LOCAL_ADMIN, w.b, EquipmentIn(name="Scie à granit", hourly_rate_eur=Decimal(80))
            ).id
            call = calls.create_call(
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
            ).id
        yield World(
            web,
            w.a,
            w.b,
            w.org_a,
            w.org_free,
            w.org_b,
            project,
            project_b,
            link_b,
            equipment,
            equipment_b,
            call,
        )
    finally:
        db.drop()


# page -> who gets 200 in A (admin too); the others 403 or 404, the public sent to sign in
PAGES = {
    "/cooperation/{c}/liens": {"manager", "member"},
    "/cooperation/{c}/equipements": {"manager", "member"},
    "/cooperation/equipements/{q}": {"manager", "member"},
    "/cooperation/equipements/{q}?du=2025-01-01&au=2025-01-31": {"manager", "member"},
}


@pytest.mark.parametrize("page", PAGES)
def test_each_new_page_by_role(world: World, page: str) -> None:
    own = page.format(c=world.a, q=world.equipment)
    for who in ROLES:
        answer = world.client_of(who).get(own)
        if who in PAGES[page] | {"admin"}:
            assert answer.status_code == 200, (who, own, answer.text[:300])
        else:
            assert answer.status_code in (403, 404), (who, own)
            assert "Salle blanche" not in answer.text
    other = page.format(c=world.b, q=world.equipment_b)
    for who in ("manager", "member"):
        answer = world.client_of(who).get(other)
        assert answer.status_code in (403, 404), (who, other)
        assert "Scie à granit" not in answer.text
        assert "Carrières Le Goff" not in answer.text
    public = world.client_of("public").get(own, follow_redirects=False)
    assert public.status_code == 303
    assert public.headers["location"].startswith("/connexion?suite=/cooperation/")


def test_the_managers_forms_show_to_managers_only(world: World) -> None:
    manager = world.client_of("manager")
    member = world.client_of("member")
    assert "Créer un événement" in manager.get(f"/cooperation/{world.a}/evenements").text
    assert "Créer un événement" not in member.get(f"/cooperation/{world.a}/evenements").text
    assert "Ajouter un équipement" in manager.get(f"/cooperation/{world.a}/equipements").text
    assert "Ajouter un équipement" not in member.get(f"/cooperation/{world.a}/equipements").text
    assert "Ajouter un partenaire" in manager.get(f"/cooperation/projets/{world.project}").text
    assert "Ajouter un partenaire" not in member.get(f"/cooperation/projets/{world.project}").text


def test_a_manager_declares_then_ends_a_link(world: World) -> None:
    manager = world.client_of("manager")
    page = f"/cooperation/{world.a}/liens"
    token = world.token("manager", page)
    same = manager.post(
        page,
        data={
            "csrf_token": token,
            "organisation_a": str(world.org_a),
            "organisation_b": str(world.org_a),
            "kind": "co_development",
        },
    )
    assert same.status_code == 422
    assert "ne coopère pas avec elle-même" in same.text
    assert 'name="csrf_token"' in same.text  # the form again
    bad = manager.post(
        page,
        data={
            "csrf_token": token,
            "organisation_a": str(world.org_a),
            "organisation_b": str(world.org_free),
            "kind": "co_development",
            "intensity": "9",
        },
    )
    assert bad.status_code == 422
    assert "« Intensité (1 à 5) » : hors limites : 9, attendu de 1 à 5" in unescape(bad.text)
    done = manager.post(
        page,
        data={
            "csrf_token": token,
            "organisation_a": str(world.org_a),
            "organisation_b": str(world.org_free),
            "kind": "supplier_customer",
            "start": "2024-02-01",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    listing = manager.get(page).text
    assert "Décolletage Dupont – Solo SARL" in listing
    assert "confirmé" in listing
    link = int(re.findall(rf"/cooperation/{world.a}/liens/(\d+)/fin", listing)[-1])
    end = f"{page}/{link}/fin"
    # a member reads its own link but may not end it; another cluster's manager finds nothing
    member = world.client_of("member")
    assert "Décolletage Dupont – Solo SARL" in member.get(page).text
    assert member.post(end, data={"csrf_token": world.token("member", page)}).status_code == 403
    other = world.client_of("manager_other")
    other_token = world.token("manager_other", f"/cooperation/{world.b}/liens")
    assert other.post(end, data={"csrf_token": other_token}).status_code == 404
    # B's link through A's address: not found, whatever the manager of A may do in A
    assert manager.post(f"{page}/{world.link_b}/fin", data={"csrf_token": token}).status_code == 404
    assert manager.post(
        f"/cooperation/{world.b}/liens/{link}/fin", data={"csrf_token": token}
    ).status_code in (
        403,
        404,
    )
    early = manager.post(end, data={"csrf_token": token, "end": "2023-01-01"})
    assert early.status_code == 422
    assert "avant le début" in early.text
    assert manager.post(end, data={"end": "2024-12-31"}).status_code == 403  # no CSRF token
    assert (
        manager.post(end, data={"csrf_token": token, "end": "2024-12-31"}, follow_redirects=False).status_code
        == 303
    )
    again = manager.post(end, data={"csrf_token": token})
    assert again.status_code == 409
    assert "déjà terminé" in again.text


def test_a_link_with_its_orientations_and_amount(world: World) -> None:
    manager = world.client_of("manager")
    page = f"/cooperation/{world.a}/liens"
    form = manager.get(page).text
    for code in ("means", "products_markets", "working_club"):
        assert f'name="orientation" type="checkbox" value="{code}"' in form
    token = csrf(form)
    link = {
        "csrf_token": token,
        "organisation_a": str(world.org_free),
        "organisation_b": str(world.org_a),
        "kind": "subcontracting",
        "orientation": ["means", "working_club"],
    }
    for wrong, message in (
        (
            {"orientation": ["means", "marketing"]},
            "« Orientations » : valeur attendue parmi : 'means', 'products_markets' ou 'working_club' "
            "(saisi : « marketing »)",
        ),
        ({"amount": "beaucoup"}, "« Montant (€) » : montant invalide 'beaucoup'"),
        ({"amount": "-5"}, "« Montant (€) » : montant négatif"),
    ):
        refused = manager.post(page, data={**link, **wrong})
        assert refused.status_code == 422, refused.text[:300]
        assert message in unescape(refused.text)
        assert 'value="means" checked' in refused.text  # the typed values kept
    # in English (a client of its own: the language stays in a cookie), amounts written the English way
    english = world.web.client()
    assert sign_in(english, "manager").status_code == 303
    form_en = english.get(f"{page}?lang=en").text
    assert "The link's value in euros, when known" in unescape(form_en)
    assert '<label for="f-orientation-products_markets">products/markets</label>' in form_en
    wrong_en = english.post(page, data={**link, "csrf_token": csrf(form_en), "amount": "45 000,50"})
    assert wrong_en.status_code == 422
    done = manager.post(page, data={**link, "amount": "45 000,50"}, follow_redirects=False)
    assert done.status_code == 303, done.text[:300]
    listing = manager.get(page).text
    row = next(r for r in listing.split("<tr>") if "Solo SARL – Décolletage Dupont" in r)
    assert "moyens, club de travail" in row
    assert "45\u202f000,50\xa0€" in row


def test_a_manager_adds_and_removes_partners(world: World) -> None:
    manager = world.client_of("manager")
    url = f"/cooperation/projets/{world.project}"
    token = world.token("manager", url)
    nothing = manager.post(f"{url}/partenaires", data={"csrf_token": token})
    assert nothing.status_code == 422
    assert "choisissez un adhérent ou indiquez un nom" in nothing.text
    bad = manager.post(
        f"{url}/partenaires",
        data={"csrf_token": token, "organisation": str(world.org_free), "budget": "cher"},
    )
    assert bad.status_code == 422
    assert "montant invalide" in bad.text
    assert f'<option value="{world.org_free}" selected>' in bad.text  # the choice kept
    for data in (
        {"organisation": str(world.org_free), "budget": "12 000,50", "category": "member_firm"},
        {"name": "Laboratoire des Surfaces", "category": "laboratory"},
    ):
        added = manager.post(f"{url}/partenaires", data={"csrf_token": token, **data}, follow_redirects=False)
        assert added.status_code == 303, added.text[:500]
    page = manager.get(url).text
    assert "Solo SARL" in page
    assert "Laboratoire des Surfaces" in page
    assert "12\u202f000,50\xa0€" in page
    partners = re.findall(rf"/cooperation/projets/{world.project}/partenaires/(\d+)/retrait", page)
    assert len(partners) == 3
    # a member reads the project without the forms; its posts are refused, another manager's hidden
    member = world.client_of("member")
    member_token = world.token("member", url)
    removal = f"{url}/partenaires/{partners[-1]}/retrait"
    assert member.post(removal, data={"csrf_token": member_token}).status_code == 403
    assert (
        member.post(f"{url}/partenaires", data={"csrf_token": member_token, "name": "X"}).status_code == 403
    )
    other = world.client_of("manager_other")
    other_token = world.token("manager_other", f"/cooperation/projets/{world.project_b}")
    assert other.post(removal, data={"csrf_token": other_token}).status_code == 404
    # a partner row of another project through this project's address: not found
    b_page = world.client_of("admin").get(f"/cooperation/projets/{world.project_b}").text
    assert "Aucun partenaire" in b_page
    assert (
        manager.post(
            f"/cooperation/projets/{world.project_b}/partenaires/{partners[0]}/retrait",
            data={"csrf_token": token},
        ).status_code
        == 404
    )
    assert manager.post(removal, data={}).status_code == 403  # no CSRF token
    assert manager.post(removal, data={"csrf_token": token}, follow_redirects=False).status_code == 303
    after = manager.get(url).text
    assert "Laboratoire des Surfaces" not in after
    assert "Solo SARL" in after


def test_a_manager_creates_an_event_with_its_capacity(world: World) -> None:
    manager = world.client_of("manager")
    page = f"/cooperation/{world.a}/evenements"
    token = world.token("manager", page)
    form = {
        "csrf_token": token,
        "title": "Visite de l'usine",
        "kind": "company_visit",
        "starts_at": "2030-03-05T09:00",
        "ends_at": "2030-03-05T12:00",
        "capacity": "12",
        "price": "15,50",
        "place": "Oyonnax",
        "public": "1",
    }
    backwards = manager.post(page, data={**form, "ends_at": "2030-03-05T08:00"})
    assert backwards.status_code == 422
    assert "la fin (05/03/2030 08:00) n'est pas après le début (05/03/2030 09:00)" in unescape(backwards.text)
    assert 'value="Visite de l&#39;usine"' in backwards.text  # the form refilled
    for wrong, message in (
        ({"starts_at": "demain"}, "« Début » : date et heure invalides"),
        ({"capacity": "0"}, "« Capacité (places) » : hors limites : 0, attendu de 1"),
        ({"price": "gratuit"}, "montant invalide"),
        ({"kind": "fête"}, "« Nature » : "),
    ):
        refused = manager.post(page, data={**form, **wrong})
        assert refused.status_code == 422, wrong
        assert message in refused.text, wrong
    member = world.client_of("member")
    assert member.post(page, data={**form, "csrf_token": world.token("member", page)}).status_code == 403
    other = world.client_of("manager_other")
    other_token = world.token("manager_other", f"/cooperation/{world.b}/evenements")
    assert other.post(page, data={**form, "csrf_token": other_token}).status_code in (403, 404)
    assert manager.post(page, data={**form, "csrf_token": ""}).status_code == 403
    created = manager.post(page, data=form, follow_redirects=False)
    assert created.status_code == 303
    event = manager.get(created.headers["location"]).text
    assert "Visite de l&#39;usine" in event
    assert "0 prises sur 12" in event
    assert "15,50\xa0€" in event


def test_shared_equipment_added_then_booked(world: World) -> None:
    manager = world.client_of("manager")
    page = f"/cooperation/{world.a}/equipements"
    token = world.token("manager", page)
    bad = manager.post(page, data={"csrf_token": token, "name": "Banc d'essai", "rate": "-3"})
    assert bad.status_code == 422
    assert "Tarif horaire (€)" in bad.text
    member = world.client_of("member")
    member_token = world.token("member", page)
    assert member.post(page, data={"csrf_token": member_token, "name": "X", "rate": "1"}).status_code == 403
    added = manager.post(
        page, data={"csrf_token": token, "name": "Banc d'essai", "rate": "40"}, follow_redirects=False
    )
    assert added.status_code == 303
    bench = added.headers["location"]
    assert "Banc d&#39;essai" in member.get(page).text
    slot = {"starts_at": "2031-01-06T08:00", "ends_at": "2031-01-06T12:00"}
    booked = member.post(f"{bench}/reservation", data={"csrf_token": member_token, **slot})
    assert booked.status_code == 200
    assert "Réservation enregistrée." in booked.text
    window = "?du=2031-01-01&au=2031-01-31"
    mine = member.get(bench + window).text
    assert "06/01/2031 08:00" in mine
    assert "160,00\xa0€" in mine  # 4 hours at 40 €
    clash = manager.post(
        f"{bench}/reservation",
        data={
            "csrf_token": token,
            "organisation": str(world.org_free),
            "starts_at": "2031-01-06T11:00",
            "ends_at": "2031-01-06T13:00",
        },
    )
    assert clash.status_code == 409
    assert "déjà réservé" in clash.text
    assert 'value="2031-01-06T11:00"' in clash.text
    wrong = member.post(
        f"{bench}/reservation",
        data={"csrf_token": member_token, "starts_at": "lundi", "ends_at": slot["ends_at"]},
    )
    assert wrong.status_code == 422
    assert "date et heure invalides" in wrong.text
    # a member books for its own organisation only
    for_other = member.post(
        f"{bench}/reservation", data={"csrf_token": member_token, "organisation": str(world.org_free), **slot}
    )
    assert for_other.status_code == 403
    other = world.client_of("manager_other")
    other_token = world.token("manager_other", f"/cooperation/{world.b}/equipements")
    assert other.post(f"{bench}/reservation", data={"csrf_token": other_token, **slot}).status_code == 404
    assert world.client_of("funder").get(bench).status_code == 404
    assert manager.get(f"{bench}?du=2031-02-01&au=2031-01-01").status_code == 422


def test_the_application_takes_several_budget_lines(world: World) -> None:
    manager = world.client_of("manager")
    url = f"/appels/{world.call}/candidature"
    form = manager.get(url).text
    assert form.count('name="partner"') == 3  # the lines without JavaScript
    token = csrf(form)
    base = {"csrf_token": token, "title": "Achats groupés", "applicant": str(world.a)}
    bad_amount = manager.post(
        url,
        data={
            **base,
            "partner": [str(world.org_a), str(world.org_free), ""],
            "amount": ["1000", "mille", ""],
            "purpose": ["Études", "", ""],
        },
    )
    assert bad_amount.status_code == 422
    assert "Budget : corrigez les lignes signalées." in bad_amount.text
    row = re.search(r'<p class="field__error" id="f-row-(\d+)-error">([^<]+)</p>', bad_amount.text)
    assert row is not None
    assert row.group(1) == "2"
    assert "montant invalide" in row.group(2)
    assert 'value="Études"' in bad_amount.text  # the lines kept
    # the service's refusals land on their row too: an organisation twice, one not found
    twice = manager.post(
        url, data={**base, "partner": [str(world.org_a), "", str(world.org_a)], "amount": ["1", "", "2"]}
    )
    assert twice.status_code == 422
    assert re.search(r'id="f-row-3-error">budget : l&#39;organisation \d+ a deux lignes', twice.text)
    hidden = manager.post(
        url, data={**base, "partner": [str(world.org_a), str(world.org_b)], "amount": ["1", "2"]}
    )
    assert hidden.status_code == 404
    assert re.search(rf'id="f-row-2-error">organisation {world.org_b} introuvable', hidden.text)
    assert "Carrières Le Goff" not in hidden.text
    no_partner = manager.post(url, data={**base, "partner": ["", "x"], "amount": ["5", "1"]})
    assert no_partner.status_code == 422
    assert 'id="f-row-1-error"' in no_partner.text
    assert 'id="f-row-2-error"' in no_partner.text
    # four lines (one added by the script in a browser): all kept
    created = manager.post(
        url,
        data={
            **base,
            "partner": [str(world.org_a), "", str(world.org_free)],
            "amount": ["1 000,50", "", "2000"],
            "purpose": ["Études", "", "Prototype"],
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text[:500]
    page = manager.get(created.headers["location"]).text
    assert "Décolletage Dupont" in page
    assert "Solo SARL" in page
    assert "3\u202f000,50\xa0€" in page  # the requested amount: the sum of the lines
    # a member may not apply for the cluster; the form says so
    assert "Votre rôle ne permet pas" in world.client_of("member").get(url).text
