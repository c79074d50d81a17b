"""The REST API: auth, roles, errors mapped to 4xx, optimistic locking (409), import/export."""

from __future__ import annotations

import pytest
from apikit import Api, dbkit


def test_health_and_openapi(api: Api) -> None:
    assert api.client.get("/health").json() == {"status": "ok"}
    paths = api.client.get("/openapi.json").json()["paths"]
    assert {
        "/directory",
        "/clusters/{cluster_id}/members",
        "/fee-calls/{fee_call_id}/payments",
        "/clusters/{cluster_id}/prospects",
    } <= set(paths)


def test_public_reads_the_directory_only(api: Api) -> None:
    page = api.client.get("/directory", params={"region": "84"}).json()
    assert [e["acronym"] for e in page["items"]] == ["MECA"]
    a = api.world.a  # type: ignore[attr-defined]
    response = api.client.get(f"/clusters/{a}/members")
    assert response.status_code == 403
    assert response.json()["error"] == "PermissionDeniedError"
    assert "public" in response.json()["detail"]


def test_bad_token_is_401(api: Api) -> None:
    response = api.client.get("/clusters", headers={"Authorization": "Bearer grp_nope"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("manager", 200),
        ("funder", 200),
        ("manager_other", 403),
        ("funder_other", 403),
        ("member", 403),
        ("public", 403),
    ],
)
def test_member_list_by_role(api: Api, who: str, status: int) -> None:
    a = api.world.a  # type: ignore[attr-defined]
    response = api.client.get(f"/clusters/{a}/members", headers=api.headers(who))
    assert response.status_code == status
    if status == 200:
        assert [m["name"] for m in response.json()["items"]] == ["Décolletage Dupont"]


def test_errors_are_4xx_with_a_body(api: Api) -> None:
    h = api.headers("admin")
    assert api.client.get("/clusters/999999", headers=h).status_code == 404
    bad = api.client.post(
        "/clusters", headers=h, json={"name": "X", "territories": [{"level": "commune", "code": "99999"}]}
    )
    assert bad.status_code == 422
    assert "99999" in bad.json()["detail"]
    assert api.client.post("/clusters", headers=h, json={"nom": "X"}).status_code == 422
    assert api.client.get("/clusters/99999999999999999999", headers=h).status_code == 422
    assert api.client.get("/directory", params={"size": "énorme"}).status_code == 422


def test_stale_version_is_409(api: Api) -> None:
    h = api.headers("manager")
    a = api.world.a  # type: ignore[attr-defined]
    first = api.client.patch(f"/clusters/{a}", headers=h, json={"version": 1, "website": "a"})
    assert first.status_code == 200
    assert first.json()["version"] == 2
    second = api.client.patch(f"/clusters/{a}", headers=h, json={"version": 1, "website": "b"})
    assert second.status_code == 409
    assert api.client.get(f"/clusters/{a}", headers=h).json()["website"] == "a"


def test_import_and_export_over_http(api: Api) -> None:
    h = api.headers("manager")
    a = api.world.a  # type: ignore[attr-defined]
    csv = f"siren;nom;date_adhesion\n{dbkit.siren(7001)};Nouvelle;2024-01-02\n123;Mauvaise;2024-01-02\n"
    response = api.client.post(
        f"/clusters/{a}/members/import", headers=h, files={"file": ("m.csv", csv.encode(), "text/csv")}
    )
    assert response.status_code == 200
    report = response.json()
    assert (report["inserted"], report["rejected"], report["issues"][0]["line"]) == (1, 1, 3)
    export = api.client.get(f"/clusters/{a}/members/export", headers=h, params={"format": "csv"})
    assert export.status_code == 200
    assert "Nouvelle" in export.content.decode("utf-8-sig")


def test_fee_flow_over_http(api: Api) -> None:
    h = api.headers("manager")
    a = api.world.a  # type: ignore[attr-defined]
    put = api.client.put(
        f"/clusters/{a}/fee-schedules",
        headers=h,
        json={"year": 2024, "rules": [{"membership_type": "adherent", "amount_eur": "120"}]},
    )
    assert put.status_code == 200
    issued = api.client.post(f"/clusters/{a}/fee-calls", headers=h, params={"year": 2024})
    assert issued.json()["issued"] == 1
    call = api.client.get(f"/clusters/{a}/fee-calls", headers=h).json()["items"][0]
    paid = api.client.post(
        f"/fee-calls/{call['id']}/payments", headers=h, json={"amount_eur": "120", "paid_on": "2024-02-01"}
    )
    assert paid.json()["status"] == "paid"
    assert api.client.get(f"/clusters/{a}/dunning", headers=h).json() == {"total": 0, "items": []}
    funder = api.client.get(f"/clusters/{a}/figures", headers=api.headers("funder"))
    assert funder.status_code == 200
    assert funder.json()["members"] == 1
