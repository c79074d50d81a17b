"""The cluster manager's pages, route x role with signed-in users, and their forms (CSRF, tenancy)."""

from __future__ import annotations

import html
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from openpyxl import load_workbook
from webkit import FEE_YEAR as YEAR
from webkit import Web, add_fee_calls, build_web, csrf, dbkit, sign_in

from grappe.registry import LOCAL_ADMIN
from grappe.registry.fees import service as fees
from grappe.storage.sql import session_scope
from grappe.web.manage import chart

siren = dbkit.siren


@dataclass
class Managed:
    """The web application with fee calls in clusters A (``calls_a``) and B (``call_b``)."""

    web: Web
    a: int
    b: int
    membership_b: int
    calls_a: dict[str, int]  # organisation name -> fee call id
    call_b: int

    def client_of(self, who: str) -> Any:
        """A client signed in as ``who`` (``public``: not signed in)."""
        client = self.web.client()
        if who != "public":
            assert sign_in(client, who).status_code == 303  # type: ignore[attr-defined]
        return client


@pytest.fixture(scope="module")
def managed(database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Managed]:
    db = dbkit.new_database(database.backend, tmp_path_factory.mktemp("manage"))
    try:
        web = build_web(db)
        world: Any = web.world
        add_fee_calls(db.engine, [world.a, world.b])
        with session_scope(db.engine, actor=LOCAL_ADMIN) as session:
            calls_a = {c.organisation: c.id for c in fees.list_calls(session, LOCAL_ADMIN, world.a)}
            call_b = fees.list_calls(session, LOCAL_ADMIN, world.b)[0].id
            from grappe.registry.memberships import service as memberships

            membership_b = memberships.list_members(session, LOCAL_ADMIN, world.b).items[0].membership_id
        yield Managed(web, world.a, world.b, membership_b, calls_a, call_b)
    finally:
        db.drop()


PAGES = [
    "/gestion/{c}",
    "/gestion/{c}/adherents",
    "/gestion/{c}/adherents?q=dup&anciens=1&page=1",
    "/gestion/{c}/adherents/nouveau",
    "/gestion/{c}/adherents.csv",
    "/gestion/{c}/adherents.xlsx",
    "/gestion/{c}/cotisations?annee=2024",
    "/gestion/{c}/relances",
]


@pytest.mark.parametrize("page", PAGES)
def test_each_page_by_role(managed: Managed, page: str) -> None:
    own, other = page.format(c=managed.a), page.format(c=managed.b)
    manager = managed.client_of("manager")
    assert manager.get(own).status_code == 200
    # another tenant's public cluster is known to exist but refused; a private one does not exist
    assert manager.get(other).status_code == 403
    assert managed.client_of("manager_other").get(own).status_code == 403
    assert manager.get(page.format(c=managed.web.hidden)).status_code == 404
    # a member of A and a funder know the cluster, but do not run it
    for who in ("member", "funder"):
        answer = managed.client_of(who).get(own)
        assert answer.status_code in {403, 404}, (who, answer.status_code)
        assert "Décolletage Dupont" not in answer.text or page.endswith("nouveau")
    public = managed.client_of("public").get(own, follow_redirects=False)
    assert public.status_code == 303
    assert public.headers["location"].startswith("/connexion?suite=/gestion/")


def test_the_manager_home_lists_its_clusters_only(managed: Managed) -> None:
    page = managed.client_of("manager").get("/gestion")
    assert page.status_code == 200
    assert "Mécanique Rhône" in page.text
    assert "Granit Bretagne" not in page.text
    assert managed.client_of("member").get("/gestion").status_code == 403
    assert managed.client_of("public").get("/gestion", follow_redirects=False).status_code == 303


def test_the_dashboard_shows_key_figures_and_a_chart(managed: Managed) -> None:
    page = managed.client_of("manager").get(f"/gestion/{managed.a}").text
    assert "Chiffres clés" in page
    assert '<svg viewBox="0 0 640 240"' in page
    assert 'class="chart__bar"' in page
    assert "<script>" not in page


def post_form(client: Any, page: str, action: str, data: dict[str, str], **kwargs: Any) -> Any:
    """Post a form of a page with that page's CSRF token."""
    token = csrf(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False, **kwargs)


def test_forms_refuse_a_missing_csrf_token(managed: Managed) -> None:
    manager = managed.client_of("manager")
    call = managed.calls_a["Décolletage Dupont"]
    refused = manager.post(f"/gestion/appels/{call}/paiement", data={"amount": "1", "paid_on": "2024-03-01"})
    assert refused.status_code == 403
    assert "Formulaire expiré" in refused.text
    fees_page = manager.get(f"/gestion/{managed.a}/cotisations?annee={YEAR}").text
    assert "0,00\xa0€" in fees_page  # nothing paid


def test_another_tenants_objects_answer_404_to_forms(managed: Managed) -> None:
    manager = managed.client_of("manager")
    page = f"/gestion/{managed.a}/cotisations"
    payment = post_form(
        manager, page, f"/gestion/appels/{managed.call_b}/paiement", {"amount": "1", "paid_on": "2024-03-01"}
    )
    assert payment.status_code == 404
    leave = post_form(
        manager,
        page,
        f"/gestion/adhesions/{managed.membership_b}/depart",
        {"version": "1", "left": "2024-05-01"},
    )
    assert leave.status_code == 404
    added = post_form(
        manager,
        page,
        f"/gestion/{managed.web.hidden}/adherents/nouveau",
        {"name": "Intruse", "joined": "2024-01-01"},
    )
    assert added.status_code == 404
    imported = post_form(
        manager,
        page,
        f"/gestion/{managed.web.hidden}/adherents/import",
        {},
        files={"file": ("m.csv", b"siren;nom\n" + siren(8008).encode() + b";Intruse\n", "text/csv")},
    )
    assert imported.status_code == 404
    b_members = managed.client_of("manager_other").get(f"/gestion/{managed.b}/adherents").text
    assert "Intruse" not in b_members
    assert "Carrières Le Goff" in b_members


def test_a_payment_moves_a_call_out_of_the_dunning_list(managed: Managed) -> None:
    manager = managed.client_of("manager")
    dunning = f"/gestion/{managed.a}/relances"
    assert "Décolletage Dupont" in manager.get(dunning).text
    call = managed.calls_a["Décolletage Dupont"]
    too_much = post_form(
        manager, dunning, f"/gestion/appels/{call}/paiement", {"amount": "1 000,00", "paid_on": "2024-03-01"}
    )
    assert too_much.status_code == 422
    assert "reste dû 150.00 €" in too_much.text
    back = f"/gestion/{managed.a}/cotisations?annee={YEAR}"
    paid = post_form(
        manager,
        dunning,
        f"/gestion/appels/{call}/paiement",
        {"amount": "150,00", "paid_on": "2024-03-01", "back": back},
    )
    assert (paid.status_code, paid.headers["location"]) == (303, back)
    assert "payé" in manager.get(back).text
    assert "Décolletage Dupont" not in manager.get(dunning).text


def test_add_search_export_and_leave(managed: Managed) -> None:
    manager = managed.client_of("manager")
    members = f"/gestion/{managed.a}/adherents"
    form = f"{members}/nouveau"
    bad = post_form(manager, form, form, {"name": "Usinage Martin", "siren": "123", "joined": "2024-02-30"})
    assert bad.status_code == 422
    assert "SIREN ou SIRET" in bad.text or "Date d'adhésion" in bad.text
    added = post_form(
        manager, form, form, {"name": "Usinage Martin", "siren": siren(9009), "joined": "2024-02-01"}
    )
    assert added.status_code == 303
    found = manager.get(f"{members}?q=martin")
    assert "Usinage Martin" in found.text
    assert "Décolletage Dupont" not in found.text
    by_siren = manager.get(f"{members}?q={siren(9009)[:5]}")
    assert "Usinage Martin" in by_siren.text
    export = manager.get(f"/gestion/{managed.a}/adherents.xlsx?q=martin")
    names = [row[2] for row in load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True)]
    assert names[1:] == ["Usinage Martin"]
    csv = manager.get(f"/gestion/{managed.a}/adherents.csv?q=martin").content.decode("utf-8")
    assert csv.startswith("\ufeffsiren;siret;nom;")  # for people: the French Excel CSV
    assert "Usinage Martin" in csv
    assert "Décolletage Dupont" not in csv
    page = manager.get(f"{members}?q=martin").text
    version = page.split('name="version" value="')[1].split('"')[0]
    membership = page.split('action="/gestion/adhesions/')[1].split("/")[0]
    left = post_form(
        manager,
        members,
        f"/gestion/adhesions/{membership}/depart",
        {"version": version, "left": "2024-06-30", "reason": "cessation", "back": f"{members}?q=martin"},
    )
    assert left.status_code == 303
    assert "Usinage Martin" not in manager.get(f"{members}?q=martin").text
    former = manager.get(f"{members}?q=martin&anciens=1").text
    assert "Usinage Martin" in former
    assert "30 juin 2024" in former


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("joined", "2099-01-01", "« Date d'adhésion » : date hors limites : 2099-01-01, attendue du"),
        ("name", "N" * 400, "« Nom » : trop long : 400 caractères, 300 au plus"),
        ("name", "", "« Nom » : vide"),
        ("kind", "usine", "(saisi : « usine »)"),
    ],
)
def test_a_refused_form_value_says_why_in_french(
    managed: Managed, field: str, value: str, message: str
) -> None:
    manager = managed.client_of("manager")
    form = f"/gestion/{managed.a}/adherents/nouveau"
    values = {"name": "Usinage Lenoir", "siren": siren(9010), "joined": "2024-02-01", field: value}
    refused = post_form(manager, form, form, values)
    assert refused.status_code == 422
    page = html.unescape(refused.text)
    assert message in page
    assert "datetime" not in page


def test_import_reports_each_bad_row_and_keeps_the_good_ones(managed: Managed) -> None:
    manager = managed.client_of("manager")
    members = f"/gestion/{managed.a}/adherents"
    content = (
        f"siren;nom;date_adhesion\n{siren(7007)};Fonderie Rhône;2024-01-15\n12345;Mauvais SIREN;2024-01-15\n"
    ).encode()
    report = post_form(
        manager, members, f"{members}/import", {}, files={"file": ("adherents.csv", content, "text/csv")}
    )
    assert report.status_code == 200
    assert "Rapport d'import du fichier adherents.csv" in report.text
    assert "12345" in report.text
    assert "Fonderie Rhône" in manager.get(f"{members}?q=fonderie").text
    wrong_type = post_form(
        manager,
        members,
        f"{members}/import",
        {},
        files={"file": ("adherents.xlsx", b"not a zip", "text/plain")},
    )
    assert wrong_type.status_code == 422
    assert "CSV ou XLSX" in wrong_type.text


def test_edit_a_member_organisation(managed: Managed) -> None:
    world: Any = managed.web.world
    manager = managed.client_of("manager")
    own = f"/gestion/{managed.a}/organisations/{world.org_free}"
    form = manager.get(own)
    assert form.status_code == 200
    assert 'value="Solo SARL"' in form.text
    # another tenant's organisation, in one's own cluster's URL or in its own
    assert manager.get(f"/gestion/{managed.a}/organisations/{world.org_b}").status_code == 404
    assert (
        managed.client_of("manager_other")
        .get(f"/gestion/{managed.b}/organisations/{world.org_free}")
        .status_code
        == 404
    )
    fields = {"name": "Solo Usinage SARL", "kind": "firm", "declared_headcount": "8", "version": "1"}
    assert manager.post(own, data=fields).status_code == 403  # no CSRF token
    bad = post_form(manager, own, own, fields | {"declared_headcount": "-3"})
    assert bad.status_code == 422
    assert "Effectif déclaré" in bad.text
    changed = post_form(manager, own, own, fields)
    assert changed.status_code == 303
    assert 'value="Solo Usinage SARL"' in manager.get(own).text
    stale = post_form(manager, own, own, fields | {"name": "Solo encore"})
    assert stale.status_code == 409
    assert 'value="Solo encore"' in stale.text  # the form comes back with what was typed


def test_bar_heights_are_proportional_and_stand_on_the_baseline() -> None:
    drawn = chart.bars([("2023", 2), ("2024", 4), ("2025", 0)])
    low, high, empty = drawn.bars
    assert high.height == 2 * low.height
    assert empty.height == 0
    assert all(bar.y + bar.height == drawn.baseline for bar in drawn.bars)
    assert high.y >= chart.VALUE_ROOM  # room above the tallest bar for its value
    assert chart.bars([]).bars == []
