"""Ending a cooperation link and removing a project partner over HTTP: who may, and the refusals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from apikit import Api, build_api, dbkit

from grappe.cooperation import service
from grappe.cooperation.models import LinkKind, ProjectKind
from grappe.cooperation.schemas import LinkIn, PartnerIn, ProjectIn
from grappe.registry import LOCAL_ADMIN
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.storage.sql import session_scope


@dataclass
class Books:
    """The API over cluster A's link (org_a – org_free, from 2024-02-01) and projects of A and B."""

    api: Api
    link: int
    project: int  # A's: org_a and an unnamed partner from Lyon
    project_b: int  # B's: org_b
    partners: dict[str, int]  # partner row ids: "org_a", "unnamed", "org_b"


@pytest.fixture
def books(database: Any, tmp_path: Path) -> Iterator[Books]:
    db = dbkit.new_database(database.backend, tmp_path)
    try:
        api = build_api(db)
        w: Any = api.world
        with session_scope(db.engine, actor=LOCAL_ADMIN) as s:
            memberships.add_membership(
                s, LOCAL_ADMIN, w.a, MembershipCreate(organisation_id=w.org_free, joined=dt.date(2021, 1, 1))
            )
            link = service.declare_link(
                s,
                LOCAL_ADMIN,
                w.a,
                LinkIn(
                    organisation_a=w.org_a,
                    organisation_b=w.org_free,
                    kind=LinkKind.SUPPLIER_CUSTOMER,
                    start=dt.date(2024, 2, 1),
                ),
            ).id
            project = service.create_project(
                s,
                LOCAL_ADMIN,
                w.a,
                ProjectIn(
                    title="Usinage propre",
                    kind=ProjectKind.RD_INNOVATION,
                    partners=[PartnerIn(organisation_id=w.org_a), PartnerIn(town="Lyon")],
                ),
            )
            project_b = service.create_project(
                s,
                LOCAL_ADMIN,
                w.b,
                ProjectIn(
                    title="Granit poli",
                    kind=ProjectKind.MARKET,
                    partners=[PartnerIn(organisation_id=w.org_b)],
                ),
            )
        partners = {
            "org_a": next(p.id for p in project.partners if p.organisation_id == w.org_a),
            "unnamed": next(p.id for p in project.partners if p.organisation_id is None),
            "org_b": project_b.partners[0].id,
        }
        yield Books(api, link, project.id, project_b.id, partners)
    finally:
        db.drop()


def test_a_manager_ends_a_link_on_a_day(books: Books) -> None:
    api, w = books.api, cast(Any, books.api.world)
    end = f"/cooperation/links/{books.link}/end"
    # the member reads its own link but may not end it; another cluster's manager finds nothing
    own = api.client.get(f"/clusters/{w.a}/cooperation/links", headers=api.headers("member")).json()
    assert own["total"] == 1
    refused = api.client.post(end, headers=api.headers("member"), json={"end": "2024-12-31"})
    assert refused.status_code == 403, refused.text
    assert "mettre fin à un lien" in refused.json()["detail"]
    for who in ("manager_other", "public"):
        hidden = api.client.post(end, headers=api.headers(who), json={"end": "2024-12-31"})
        assert hidden.status_code == 404, (who, hidden.text)
        assert "introuvable" in hidden.json()["detail"]
    bad = api.client.post(end, headers=api.headers("manager"), json={"end": "31/12/2024"})
    assert bad.status_code == 422
    assert bad.json()["detail"] == "requête invalide — end (corps) : date attendue (AAAA-MM-JJ)"
    early = api.client.post(end, headers=api.headers("manager"), json={"end": "2023-12-31"})
    assert early.status_code == 422
    assert "avant le début" in early.json()["detail"]
    ended = api.client.post(end, headers=api.headers("manager"), json={"end": "2024-12-31"})
    assert ended.status_code == 200, ended.text
    assert (ended.json()["start"], ended.json()["end"]) == ("2024-02-01", "2024-12-31")
    again = api.client.post(end, headers=api.headers("manager"), json={})
    assert again.status_code == 409
    assert again.json()["detail"] == f"lien {books.link} déjà terminé (le 31 décembre 2024)"
    unknown = api.client.post("/cooperation/links/999999/end", headers=api.headers("admin"), json={})
    assert unknown.status_code == 404


def test_ending_without_a_day_ends_today(books: Books) -> None:
    api = books.api
    ended = api.client.post(f"/cooperation/links/{books.link}/end", headers=api.headers("admin"), json={})
    assert ended.status_code == 200, ended.text
    assert ended.json()["end"] == dt.date.today().isoformat()


def test_a_manager_removes_a_project_partner(books: Books) -> None:
    api = books.api
    url = f"/cooperation/projects/{books.project}/partners"
    unnamed = f"{url}/{books.partners['unnamed']}"
    # the partner member reads the project but may not change it; the others find nothing
    read = api.client.get(f"/cooperation/projects/{books.project}", headers=api.headers("member"))
    assert read.status_code == 200
    refused = api.client.delete(unnamed, headers=api.headers("member"))
    assert refused.status_code == 403, refused.text
    assert "retirer un partenaire" in refused.json()["detail"]
    for who in ("manager_other", "funder", "public"):
        hidden = api.client.delete(unnamed, headers=api.headers(who))
        assert hidden.status_code == 404, (who, hidden.text)
    # B's partner row through A's project, and an id that is no partner row: not found
    for partner in (books.partners["org_b"], 2_000_000):
        missing = api.client.delete(f"{url}/{partner}", headers=api.headers("manager"))
        assert missing.status_code == 404
        assert missing.json()["detail"].startswith(f"partenaire {partner}")
    assert api.client.delete(f"{url}/0", headers=api.headers("manager")).status_code == 422
    removed = api.client.delete(unnamed, headers=api.headers("manager"))
    assert removed.status_code == 200, removed.text
    assert [p["id"] for p in removed.json()["partners"]] == [books.partners["org_a"]]
    assert api.client.delete(unnamed, headers=api.headers("manager")).status_code == 404
    kept = api.client.get(f"/cooperation/projects/{books.project_b}", headers=api.headers("admin")).json()
    assert [p["id"] for p in kept["partners"]] == [books.partners["org_b"]]
