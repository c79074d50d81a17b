"""The network endpoint (measures page, summary, change, files) and the services endpoints."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import networkx as nx
from apikit import Api

from grappe.cooperation import service
from grappe.cooperation.models import LinkKind, ProjectKind
from grappe.cooperation.schemas import LinkIn, PartnerIn, ProjectIn
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.registry.policy import LOCAL_ADMIN
from grappe.storage.sql import session_scope


def _network(api: Api) -> Any:
    """A's members org_a and org_free: a 2023 project with both, a 2024 link between them."""
    w: Any = api.world
    with session_scope(api.app.state.engine) as session:
        memberships.add_membership(
            session,
            LOCAL_ADMIN,
            w.a,
            MembershipCreate(organisation_id=w.org_free, joined=dt.date(2021, 1, 1)),
        )
        service.create_project(
            session,
            LOCAL_ADMIN,
            w.a,
            ProjectIn(
                title="Capteurs",
                kind=ProjectKind.RD_INNOVATION,
                start=dt.date(2023, 2, 1),
                end=dt.date(2023, 11, 30),
                partners=[PartnerIn(organisation_id=w.org_a), PartnerIn(organisation_id=w.org_free)],
            ),
        )
        service.declare_link(
            session,
            LOCAL_ADMIN,
            w.a,
            LinkIn(
                organisation_a=w.org_a,
                organisation_b=w.org_free,
                kind=LinkKind.SUPPLIER_CUSTOMER,
                start=dt.date(2024, 2, 1),
                end=dt.date(2024, 6, 30),
            ),
        )
    return w


def test_the_network_page_lists_measures_with_its_summary_and_change(api: Api) -> None:
    w = _network(api)
    manager = api.headers("manager")
    url = f"/clusters/{w.a}/cooperation/network"
    page = api.client.get(url, headers=manager)
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 2
    assert len(body["items"]) == 2
    assert {row["organisation_id"] for row in body["items"]} == {w.org_a, w.org_free}
    assert all(row["degree"] == 1 and row["weighted_degree"] == 2.0 for row in body["items"])
    assert body["summary"]["ties"] == 1
    assert body["summary"]["density"] == 1.0
    assert body["change"] is None
    one = api.client.get(url, headers=manager, params={"limit": 1, "offset": 1, "order": "organisation"})
    assert [r["organisation"] for r in one.json()["items"]] == ["Solo SARL"]
    assert one.json()["total"] == 2

    compared = api.client.get(
        url,
        headers=manager,
        params={"layers": "links", "from": "2024-01-01", "to": "2024-12-31", "compare_to": 2023},
    ).json()
    change = compared["change"]
    # only links count: 2023 had none (the project is another layer), 2024 has one
    assert (change["ties"], change["density"]) == ({"before": 0, "after": 1}, {"before": 0.0, "after": 1.0})
    assert set(change["joined"]) == {w.org_a, w.org_free}
    assert change["ties_new"] == 1
    assert (change["before_start"], change["before_end"]) == ("2023-01-01", "2023-12-31")
    assert compared["layers"] == ["links"]


def test_network_input_errors_are_french_422(api: Api) -> None:
    w = _network(api)
    manager, url = api.headers("manager"), f"/clusters/{w.a}/cooperation/network"
    for params, words in (
        ({"layers": "projects,amis"}, "couche inconnue : amis"),
        ({"order": "taille"}, "ordre « taille » inconnu"),
        ({"compare_to": 2023}, "période analysée doit avoir un début et une fin"),
        ({"from": "2024-12-31", "to": "2024-01-01"}, "précède le début"),
    ):
        answer = api.client.get(url, headers=manager, params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert words in answer.json()["detail"], answer.text
    assert api.client.get(f"{url}/pdf", headers=manager).status_code == 422


def test_network_files_download(api: Api) -> None:
    w = _network(api)
    manager, url = api.headers("manager"), f"/clusters/{w.a}/cooperation/network"
    graphml = api.client.get(f"{url}/graphml", headers=manager)
    assert graphml.status_code == 200
    assert graphml.headers["content-type"].startswith("application/graphml+xml")
    assert "attachment" in graphml.headers["content-disposition"]
    graph = nx.parse_graphml(graphml.text)
    assert graph.number_of_nodes() == 2
    assert graph.number_of_edges() == 1
    gexf = api.client.get(f"{url}/gexf", headers=manager)
    assert gexf.status_code == 200
    assert b"<gexf" in gexf.content
    svg = api.client.get(f"{url}/svg", headers=manager, params={"layers": "projects"})
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    assert "Réseau de coopération" in svg.text
    png = api.client.get(f"{url}/png", headers=manager)
    assert png.status_code == 200
    assert png.content.startswith(b"\x89PNG")


def test_only_the_managers_read_the_network(api: Api) -> None:
    w = _network(api)
    url = f"/clusters/{w.a}/cooperation/network"
    # the members, the funders and the public read figures at most, never who works with whom
    for role in ("member", "funder", "funder_other", "public", "manager_other", "member_other"):
        for suffix in ("", "/svg"):
            answer = api.client.get(url + suffix, headers=api.headers(role))
            assert answer.status_code in (403, 404), (role, suffix, answer.status_code)
            assert "Solo SARL" not in answer.text
    # another cluster's network: refused (B is in the public directory: 403, as for its records)
    other = api.client.get(f"/clusters/{w.b}/cooperation/network", headers=api.headers("manager"))
    assert other.status_code == 403


def test_services_sold_through_the_api_feed_the_cluster_funding(api: Api) -> None:
    w: Any = api.world
    manager = api.headers("manager")
    offer = api.client.post(
        f"/clusters/{w.a}/services",
        headers=manager,
        json={"name": "Diagnostic export", "unit": "jour", "unit_price_eur": "450"},
    )
    assert offer.status_code == 201, offer.text
    sale = api.client.post(
        f"/services/{offer.json()['id']}/sales",
        headers=manager,
        json={"organisation_id": w.org_a, "sold_on": "2025-03-14", "quantity": "2"},
    )
    assert sale.status_code == 201
    assert Decimal(sale.json()["amount_eur"]) == Decimal(900)
    cluster = api.client.get(f"/clusters/{w.a}", headers=manager).json()
    assert [(f["year"], f["source"], Decimal(f["amount_eur"])) for f in cluster["fundings"]] == [
        (2025, "services", Decimal(900))
    ]
    mine = api.client.get(f"/clusters/{w.a}/sales", headers=api.headers("member")).json()
    assert mine["total"] == 1
    assert mine["items"][0]["organisation_id"] == w.org_a
    revenue = api.client.get(f"/clusters/{w.a}/services/revenue", headers=api.headers("funder"))
    assert revenue.status_code == 200
    assert Decimal(revenue.json()["years"][0]["amount_eur"]) == Decimal(900)
    refused = api.client.post(
        f"/services/{offer.json()['id']}/sales",
        headers=manager,
        json={"organisation_id": w.org_a, "sold_on": "2025-03-14", "quantity": "0"},
    )
    assert refused.status_code == 422
    assert "quantity" in refused.text
    cancelled = api.client.delete(f"/sales/{sale.json()['id']}", headers=manager)
    assert cancelled.status_code == 204
    cluster = api.client.get(f"/clusters/{w.a}", headers=manager).json()
    assert [Decimal(f["amount_eur"]) for f in cluster["fundings"]] == [Decimal(0)]
