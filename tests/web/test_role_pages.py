"""The pages of issue 15's other roles, route x role: the manager's contacts, labels and governance,
fee letters as PDF and prospects; the member's space; the funder's clusters; the directory's map."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fabric_kit import write_fabric
from openpyxl import load_workbook
from webkit import FEE_YEAR as YEAR
from webkit import Web, add_fee_calls, build_web, csrf, dbkit, sign_in

from grappe.refdata import sizes
from grappe.registry import LOCAL_ADMIN
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import BodyIn, LabelIn, SeatHolderIn
from grappe.registry.fees import service as fees
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import ContactIn
from grappe.storage.sql import session_scope
from grappe.web.manage.prospects import band_labels

ROLES = ("admin", "manager", "manager_other", "member", "funder", "public")


@dataclass
class Roles:
    """The web application with the objects of clusters A and B that the routes name."""

    web: Web
    a: int
    b: int
    hidden: int
    contact_a: int  # a contact of Décolletage Dupont (member of A)
    contact_b: int  # a contact of Carrières Le Goff (member of B)
    label_a: int
    label_b: int
    holder_a: int
    holder_b: int
    call_a: int
    call_b: int
    clients: dict[str, Any] = field(default_factory=dict)

    def client_of(self, who: str) -> Any:
        """A client signed in as ``who`` (``public``: not signed in), signed in once per module."""
        if who not in self.clients:
            client = self.web.client()
            if who != "public":
                assert sign_in(client, who).status_code == 303  # type: ignore[attr-defined]
            self.clients[who] = client
        return self.clients[who]


def _holder(body: Any) -> int:
    return int(body.holders[0].id)


@pytest.fixture(scope="module")
def roles(database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Roles]:
    db = dbkit.new_database(database.backend, tmp_path_factory.mktemp("roles"))
    try:
        web = build_web(db)
        world: Any = web.world
        add_fee_calls(db.engine, [world.a, world.b])
        with session_scope(db.engine, actor=LOCAL_ADMIN) as session:
            contact_a = organisations.list_contacts(session, LOCAL_ADMIN, world.org_a)[0].id
            contact_b = organisations.add_contact(
                session, LOCAL_ADMIN, world.org_b, ContactIn(full_name="Yann Le Goff", email="y@legoff.bzh")
            ).id
            label_a = clusters.get_cluster(session, LOCAL_ADMIN, world.a).labels[0].id
            label_b = clusters.add_label(
                session, LOCAL_ADMIN, world.b,
                LabelIn(kind="regional", name="Breizh", start=dt.date(2020, 1, 1)),  # type: ignore[arg-type]
            ).id
            seat = [SeatHolderIn(person="Paul Martin", office="président")]
            holder_a = _holder(clusters.set_body(session, LOCAL_ADMIN, world.a, BodyIn(kind="board", seats=5,
                                                                                          holders=seat)))
            holder_b = _holder(clusters.set_body(session, LOCAL_ADMIN, world.b, BodyIn(kind="board", seats=5,
                                                                                          holders=seat)))
            call_a = fees.list_calls(session, LOCAL_ADMIN, world.a)[0].id
            call_b = fees.list_calls(session, LOCAL_ADMIN, world.b)[0].id
        yield Roles(web, world.a, world.b, web.hidden, contact_a, contact_b, label_a, label_b,
                    holder_a, holder_b, call_a, call_b)
    finally:
        db.drop()


@pytest.fixture
def fabric(grappe_home: Path) -> Path:
    """A fabric store in this test's GRAPPE_HOME (where the pages look for it)."""
    return write_fabric(grappe_home)


def post_form(client: Any, page: str, action: str, data: dict[str, str], **kwargs: Any) -> Any:
    """Post a form of a page with that page's CSRF token."""
    token = csrf(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False, **kwargs)


# --- the manager's pages: route x role ----------------------------------------------------------

#: (page of cluster {c}, the object of that cluster it names, if any) -> answers per role for A.
MANAGER_PAGES = [
    "/gestion/{c}/organisations/{o}/contacts",
    "/gestion/{c}/contacts/{contact}",
    "/gestion/{c}/gouvernance",
    f"/gestion/{{c}}/cotisations/appels-{YEAR}.pdf",
    f"/gestion/{{c}}/cotisations/relances-{YEAR}.pdf",
    "/gestion/appels/{call}/appel.pdf",
    "/gestion/appels/{call}/relance.pdf",
    "/gestion/{c}/prospects",
    "/gestion/{c}/prospects?commune=69123&page=1",
    "/gestion/{c}/prospects/carte.geojson",
    "/gestion/{c}/prospects.csv",
    "/gestion/{c}/prospects.xlsx",
]


def _of(roles: Roles, page: str, cluster: str) -> str:
    world: Any = roles.web.world
    own = cluster == "a"
    return page.format(
        c=roles.a if own else roles.b,
        o=world.org_a if own else world.org_b,
        contact=roles.contact_a if own else roles.contact_b,
        call=roles.call_a if own else roles.call_b,
    )


@pytest.mark.parametrize("page", MANAGER_PAGES)
def test_each_manager_page_by_role(roles: Roles, fabric: Path, page: str) -> None:
    del fabric
    own, other = _of(roles, page, "a"), _of(roles, page, "b")
    answers = {who: roles.client_of(who).get(own, follow_redirects=False) for who in ROLES}
    assert answers["manager"].status_code == 200, answers["manager"].text[:300]
    assert answers["admin"].status_code == 200
    if page.endswith(".pdf"):
        assert answers["manager"].content.startswith(b"%PDF")
        assert answers["manager"].headers["content-type"] == "application/pdf"
    # the manager of B, a member of A and a funder of A know A (public), none of them runs it
    for who in ("manager_other", "member", "funder"):
        assert answers[who].status_code in {403, 404}, (who, answers[who].status_code)
        assert "Décolletage Dupont" not in answers[who].text
        assert b"%PDF" not in answers[who].content
    assert answers["public"].status_code == 303
    assert answers["public"].headers["location"].startswith("/connexion?suite=/gestion/")
    # B's objects for A's manager: its cluster is refused, its objects do not exist
    refused = roles.client_of("manager").get(other)
    assert refused.status_code == (404 if "{c}" not in page else 403), refused.status_code
    if "{c}" in page:
        hidden = page.format(c=roles.hidden, o=1, contact=roles.contact_a, call=roles.call_a)
        assert roles.client_of("manager").get(hidden).status_code == 404


def test_cross_tenant_objects_in_ones_own_cluster_url_are_404(roles: Roles, fabric: Path) -> None:
    del fabric
    world: Any = roles.web.world
    manager = roles.client_of("manager")
    assert manager.get(f"/gestion/{roles.a}/organisations/{world.org_b}/contacts").status_code == 404
    assert manager.get(f"/gestion/{roles.a}/contacts/{roles.contact_b}").status_code == 404
    page = f"/gestion/{roles.a}/gouvernance"
    for action, data in [
        (f"/gestion/{roles.a}/contacts/{roles.contact_b}", {"full_name": "X", "version": "1"}),
        (f"/gestion/{roles.a}/contacts/{roles.contact_b}/suppression", {}),
        (f"/gestion/{roles.a}/organisations/{world.org_b}/contacts", {"full_name": "Intrus"}),
        (f"/gestion/{roles.a}/labels/{roles.label_b}/fin", {"end": "2025-01-01"}),
        (f"/gestion/{roles.a}/titulaires/{roles.holder_b}/fin", {"end": "2025-01-01"}),
    ]:
        assert post_form(manager, page, action, data).status_code == 404, action
    # and B's own pages still show them unchanged
    other = roles.client_of("manager_other")
    assert "Yann Le Goff" in other.get(f"/gestion/{roles.b}/organisations/{world.org_b}/contacts").text
    governance_b = other.get(f"/gestion/{roles.b}/gouvernance").text
    assert "Clore le label Breizh" in governance_b
    assert "Clore le mandat de Paul Martin" in governance_b


def test_manager_forms_refuse_a_missing_csrf_token(roles: Roles) -> None:
    manager = roles.client_of("manager")
    world: Any = roles.web.world
    for action, data in [
        (f"/gestion/{roles.a}/organisations/{world.org_a}/contacts", {"full_name": "Sans jeton"}),
        (f"/gestion/{roles.a}/labels", {"kind": "regional", "start": "2024-01-01"}),
        (f"/gestion/{roles.a}/instances/bureau", {"seats": "3"}),
    ]:
        refused = manager.post(action, data=data, follow_redirects=False)
        assert refused.status_code == 403, action
        assert "Formulaire expiré" in refused.text


def test_contacts_add_edit_remove(roles: Roles) -> None:
    world: Any = roles.web.world
    manager = roles.client_of("manager")
    page = f"/gestion/{roles.a}/organisations/{world.org_free}/contacts"
    listed = manager.get(page)
    assert listed.status_code == 200
    assert "Aucun" not in listed.text or "0 contact" in listed.text
    bad = post_form(manager, page, page, {"full_name": "Léa Roux", "email": "pas-un-courriel"})
    assert bad.status_code == 422
    assert "Courriel" in bad.text
    assert 'value="Léa Roux"' in bad.text
    added = post_form(manager, page, page, {"full_name": "Léa Roux", "email": "lea@solo.fr",
                                            "directory_consent": "1"})
    assert (added.status_code, added.headers["location"]) == (303, page)
    text = manager.get(page).text
    assert "Léa Roux" in text
    assert "lea@solo.fr" in text
    contact = text.split(f"/gestion/{roles.a}/contacts/")[1].split('"')[0]
    form = f"/gestion/{roles.a}/contacts/{contact}"
    assert 'value="Léa Roux"' in manager.get(form).text
    changed = post_form(manager, form, form, {"full_name": "Léa Roux-Martin", "role": "directrice",
                                              "email": "lea@solo.fr", "version": "1"})
    assert changed.status_code == 303
    assert "directrice" in manager.get(page).text
    stale = post_form(manager, form, form, {"full_name": "Vieille version", "version": "1"})
    assert stale.status_code == 409
    removed = post_form(manager, page, f"{form}/suppression", {})
    assert removed.status_code == 303
    assert "Léa Roux" not in manager.get(page).text
    assert manager.get(form).status_code == 404


def test_labels_and_governance(roles: Roles) -> None:
    manager = roles.client_of("manager")
    page = f"/gestion/{roles.a}/gouvernance"
    text = manager.get(page).text
    assert "Grappe d'entreprises" in text
    assert "DATAR" in text
    assert "Paul Martin" in text
    bad = post_form(manager, page, f"/gestion/{roles.a}/labels", {"kind": "regional", "start": "2024-13-01"})
    assert bad.status_code == 422
    assert "Début" in bad.text
    added = post_form(manager, page, f"/gestion/{roles.a}/labels",
                      {"kind": "regional", "name": "Auvergne-Rhône Clusters", "funder": "Région AURA",
                       "start": "2023-01-01"})
    assert (added.status_code, added.headers["location"]) == (303, page)
    text = manager.get(page).text
    assert "Auvergne-Rhône Clusters" in text
    label = text.split("Clore le label Auvergne-Rhône Clusters")[0].rsplit("/labels/", 1)[1].split("/")[0]
    before = post_form(manager, page, f"/gestion/{roles.a}/labels/{label}/fin", {"end": "2022-01-01"})
    assert before.status_code == 422
    assert "avant le début" in before.text
    ended = post_form(manager, page, f"/gestion/{roles.a}/labels/{label}/fin", {"end": "2024-12-31"})
    assert ended.status_code == 303
    assert "31 décembre 2024" in manager.get(page).text
    # the bureau: seats first, then its holders, never more holders than seats
    no_body = post_form(manager, page, f"/gestion/{roles.a}/instances/bureau/titulaires", {"person": "Zoé"})
    assert no_body.status_code == 422
    assert post_form(manager, page, f"/gestion/{roles.a}/instances/bureau", {"seats": "1"}).status_code == 303
    seated = post_form(manager, page, f"/gestion/{roles.a}/instances/bureau/titulaires",
                       {"person": "Zoé Blanc", "office": "trésorière",
                        "organisation_id": str(roles.web.world.org_a)})  # type: ignore[attr-defined]
    assert seated.status_code == 303
    full = post_form(manager, page, f"/gestion/{roles.a}/instances/bureau/titulaires", {"person": "Luc"})
    assert full.status_code == 422
    assert "sièges sont occupés" in full.text
    intruder = post_form(manager, page, f"/gestion/{roles.a}/instances/board/titulaires",
                         {"person": "Intrus", "organisation_id": str(roles.web.world.org_b)})  # type: ignore[attr-defined]
    assert intruder.status_code == 404  # another tenant's organisation cannot be named
    text = manager.get(page).text
    assert "Zoé Blanc" in text
    assert "Décolletage Dupont" in text
    holder = text.split("Clore le mandat de Zoé Blanc")[0].rsplit("/titulaires/", 1)[1].split("/")[0]
    assert post_form(manager, page, f"/gestion/{roles.a}/titulaires/{holder}/fin",
                     {"end": dt.date.today().isoformat()}).status_code == 303
    unknown = post_form(manager, page, f"/gestion/{roles.a}/instances/conseil", {"seats": "2"})
    assert unknown.status_code == 422
    assert "Instance" in unknown.text


def test_fee_letters_are_pdf_downloads_and_say_why_not(roles: Roles) -> None:
    manager = roles.client_of("manager")
    calls = manager.get(f"/gestion/{roles.a}/cotisations?annee={YEAR}").text
    assert f"/gestion/{roles.a}/cotisations/appels-{YEAR}.pdf" in calls
    assert f"/gestion/appels/{roles.call_a}/appel.pdf" in calls
    dunning = manager.get(f"/gestion/{roles.a}/relances").text
    assert f"/gestion/appels/{roles.call_a}/relance.pdf" in dunning
    letter = manager.get(f"/gestion/appels/{roles.call_a}/relance.pdf")
    assert letter.content.startswith(b"%PDF")
    assert "attachment" in letter.headers["content-disposition"]
    assert f"relance-{YEAR}-{roles.call_a:06d}.pdf" in letter.headers["content-disposition"]
    none = manager.get(f"/gestion/{roles.a}/cotisations/appels-1999.pdf")
    assert none.status_code == 422
    assert "aucun appel de cotisation à imprimer pour 1999" in none.text


def test_prospects_page_map_and_export(roles: Roles, fabric: Path) -> None:
    del fabric
    manager = roles.client_of("manager")
    page = manager.get(f"/gestion/{roles.a}/prospects").text
    assert "Usinage Récent" in page
    assert "Machines-outils Lyon" in page
    assert "Décolletage Dupont" not in page  # a member is no prospect
    assert "<script>" not in page
    assert 'data-points="/gestion/' in page
    points = json.loads(manager.get(f"/gestion/{roles.a}/prospects/carte.geojson").text)
    by_code = {f["properties"]["href"].rsplit("=", 1)[1]: f for f in points["features"]}
    assert set(by_code) == {"69123"}  # the three prospects are in Lyon
    lyon = by_code["69123"]
    assert lyon["properties"]["mass"] == 3
    assert lyon["properties"]["strong"] is True
    assert "3 prospect(s)" in lyon["properties"]["label"]
    lon, lat = lyon["geometry"]["coordinates"]
    assert 4.7 < lon < 5.0
    assert 45.6 < lat < 45.9
    filtered = manager.get(f"/gestion/{roles.a}/prospects?commune=69266").text
    assert "Usinage Récent" not in filtered
    assert "0 prospect" in filtered
    sheet = manager.get(f"/gestion/{roles.a}/prospects.xlsx").content
    rows = list(load_workbook(io.BytesIO(sheet)).active.iter_rows(values_only=True))
    assert rows[0][0] == "rang"
    assert len(rows) == 4
    csv = manager.get(f"/gestion/{roles.a}/prospects.csv?commune=69123").content.decode("utf-8-sig")
    assert csv.startswith("rang;siret;siren")
    assert "Usinage Récent" in csv


def test_prospects_show_headcount_bands_as_people_read_them(roles: Roles, fabric: Path) -> None:
    del fabric
    french = band_labels("fr")
    # the French words are the reference table's
    assert french == {b["code"]: b["label"] for b in sizes.size_bands().to_pylist()}
    assert band_labels("en")["41"] == "500 to 999 employees"
    assert band_labels("en")["53"] == "10,000 employees or more"
    page = html.unescape(roles.client_of("manager").get(f"/gestion/{roles.a}/prospects").text)
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert any(cell in french.values() for cell in cells), cells
    assert not any(cell in french for cell in cells), cells  # never a bare code such as 41


def test_prospects_without_a_fabric_say_so(roles: Roles) -> None:
    answer = roles.client_of("manager").get(f"/gestion/{roles.a}/prospects")
    assert answer.status_code == 422
    assert "tissu productif vide" in answer.text


# --- the member's space --------------------------------------------------------------------------


def test_member_pages_by_role(roles: Roles) -> None:
    world: Any = roles.web.world
    member = roles.client_of("member")
    home = member.get("/membre")
    assert home.status_code == 200
    assert "Décolletage Dupont" in home.text
    assert "Anne Dupont" in home.text
    assert "Caché" in home.text
    assert f"/membre/structures/{roles.a}" in home.text
    assert "Granit Bretagne" not in home.text
    directory = member.get(f"/membre/structures/{roles.a}")
    assert directory.status_code == 200
    assert "Anne Dupont" in directory.text
    assert "Caché" not in directory.text  # no consent: not in the directory
    # another cluster: known (public) but refused; a private one does not exist
    other = member.get(f"/membre/structures/{roles.b}")
    assert other.status_code == 403
    assert "Carrières Le Goff" not in other.text
    assert member.get(f"/membre/structures/{roles.hidden}").status_code == 404
    for who in ("admin", "manager", "manager_other", "funder"):
        assert roles.client_of(who).get("/membre").status_code == 403, who
    public = roles.client_of("public").get("/membre", follow_redirects=False)
    assert (public.status_code, public.headers["location"]) == (303, "/connexion?suite=/membre")
    # the member's manager pages stay closed
    assert member.get(f"/gestion/{roles.a}/organisations/{world.org_a}/contacts").status_code == 403
    assert "/membre" in member.get("/").text  # the navigation leads there


def test_member_directory_for_other_roles(roles: Roles) -> None:
    page = f"/membre/structures/{roles.a}"
    assert roles.client_of("manager").get(page).status_code == 200  # its managers read it too
    assert roles.client_of("manager_other").get(page).status_code == 403
    public = roles.client_of("public").get(page, follow_redirects=False)
    assert public.status_code == 303


# --- the funder's pages --------------------------------------------------------------------------


def test_funder_pages_by_role(roles: Roles) -> None:
    funder = roles.client_of("funder")
    home = funder.get("/financeur")
    assert home.status_code == 200
    assert "Mécanique Rhône" in home.text  # DATAR grants A's label
    assert "Granit Bretagne" not in home.text  # B is funded by the Région, not by DATAR
    assert "Occitanie" not in home.text
    assert 'class="chart__bar"' in home.text
    one = funder.get(f"/financeur/structures/{roles.a}")
    assert one.status_code == 200
    assert "Chiffres clés" in one.text
    assert "Adhérents en fin d'année" in one.text
    assert funder.get(f"/financeur/structures/{roles.b}").status_code == 403
    assert funder.get(f"/financeur/structures/{roles.hidden}").status_code == 404
    for who in ("admin", "manager", "member"):
        assert roles.client_of(who).get("/financeur").status_code == 403, who
    assert roles.client_of("member").get(f"/financeur/structures/{roles.a}").status_code == 403
    assert roles.client_of("manager_other").get(f"/financeur/structures/{roles.a}").status_code == 403
    assert roles.client_of("public").get("/financeur", follow_redirects=False).status_code == 303
    assert "/financeur" in funder.get("/").text


def test_funder_sees_the_funding_mix(roles: Roles) -> None:
    admin = roles.client_of("admin")
    page = admin.get(f"/financeur/structures/{roles.b}").text
    assert "Région Bretagne" in page
    assert "Financement public" in page
    assert "50\u202f000,00\xa0€" in page or "50 000,00" in page.replace("\u202f", " ").replace("\xa0", " ")


# --- the public directory's map ------------------------------------------------------------------


def test_directory_map_follows_the_filters(roles: Roles) -> None:
    public = roles.client_of("public")
    page = public.get("/annuaire?region=84").text
    assert 'data-points="/annuaire/carte.geojson?region=84"' in page
    assert "<script>" not in page
    everything = json.loads(public.get("/annuaire/carte.geojson").text)["features"]
    hrefs = {f["properties"]["href"] for f in everything}
    assert f"/structures/{roles.a}" in hrefs
    assert f"/structures/{roles.b}" in hrefs
    assert f"/structures/{roles.hidden}" not in hrefs  # not public
    assert len(everything) == 2 + 25  # A, B and the 25 clusters of Occitanie: every page at once
    rhone = json.loads(public.get("/annuaire/carte.geojson?region=84").text)["features"]
    assert [f["properties"]["href"] for f in rhone] == [f"/structures/{roles.a}"]
    lon, lat = rhone[0]["geometry"]["coordinates"]
    assert 4.7 < lon < 5.0
    assert 45.6 < lat < 45.9
    assert "Mécanique Rhône (MECA)" in rhone[0]["properties"]["label"]
    bad = public.get("/annuaire/carte.geojson?size=geant")
    assert bad.status_code == 422


def test_the_new_pages_in_english(roles: Roles, fabric: Path) -> None:
    del fabric
    pages = {
        "manager": [f"/gestion/{roles.a}/gouvernance", f"/gestion/{roles.a}/prospects"],
        "member": ["/membre", f"/membre/structures/{roles.a}"],
        "funder": ["/financeur", f"/financeur/structures/{roles.a}"],
    }
    expected = {
        f"/gestion/{roles.a}/gouvernance": "Labels and governance of",
        f"/gestion/{roles.a}/prospects": "Map of prospects",
        "/membre": "Member area",
        f"/membre/structures/{roles.a}": "Member directory of",
        "/financeur": "Funded clusters",
        f"/financeur/structures/{roles.a}": "Key figures",
    }
    for who, paths in pages.items():
        client = roles.web.client()  # its own: the language cookie stays with it
        assert sign_in(client, who).status_code == 303  # type: ignore[attr-defined]
        for path in paths:
            page = client.get(f"{path}?lang=en")
            assert page.status_code == 200, path
            assert '<html lang="en">' in page.text
            assert expected[path] in page.text, path
