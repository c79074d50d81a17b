"""Bounds at the API's edge: what the columns cannot hold is a 422 in French, never a 5xx."""

from __future__ import annotations

import datetime as dt

from apikit import Api, dbkit, issue_fee_calls

from grappe.registry import bounds


def _refused(response: object, message: str) -> None:
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    assert message in response.text  # type: ignore[attr-defined]


def test_out_of_bounds_bodies_are_422(api: Api) -> None:
    h = api.headers("admin")
    a, org_free = api.world.a, api.world.org_free  # type: ignore[attr-defined]
    _refused(
        api.client.post(
            "/users",
            headers=h,
            json={"email": "x@y.fr", "role": "manager", "clusters": [17814974899458158407083622400]},
        ),
        "attendu de 1 à 2147483647",
    )
    _refused(
        api.client.post("/organisations", headers=h, json={"name": "A" * 100_000}),
        "trop long : 100000 caractères, 300 au plus",
    )
    _refused(
        api.client.post("/organisations", headers=h, json={"name": "Bad\u0001Name"}),
        "caractère de contrôle U+0001 interdit",
    )
    _refused(
        api.client.post(
            f"/clusters/{a}/members", headers=h, json={"organisation_id": org_free, "joined": "0001-01-01"}
        ),
        bounds.PAST.problem(dt.date(1, 1, 1)),  # type: ignore[arg-type]
    )
    _refused(
        api.client.post(f"/clusters/{a}/fee-calls", headers=h, params={"year": 2200}), "année hors limites"
    )


def test_payments_dated_out_of_bounds_or_above_the_due_are_422(api: Api) -> None:
    h = api.headers("admin")
    call = issue_fee_calls(api, h, "100")["items"][0]["id"]
    url = f"/fee-calls/{call}/payments"
    _refused(
        api.client.post(url, headers=h, json={"amount_eur": "100", "paid_on": "9999-12-31"}),
        "date hors limites : 9999-12-31",
    )
    _refused(
        api.client.post(url, headers=h, json={"amount_eur": "1500", "paid_on": "2024-02-01"}),
        "demande 100.00 €, déjà payé 0.00 €, reste dû 100.00 €",
    )
    paid = api.client.post(url, headers=h, json={"amount_eur": "100", "paid_on": "2024-02-01"})
    assert paid.status_code == 200
    assert paid.json()["status"] == "paid"


def test_import_reports_a_too_long_name_and_keeps_the_good_rows(api: Api) -> None:
    h = api.headers("admin")
    a = api.world.a  # type: ignore[attr-defined]
    content = (
        "siren;nom;date_adhesion\n"
        f"{dbkit.siren(8001)};{'N' * 100_000};2024-01-10\n"
        f"{dbkit.siren(8002)};Bonne;2024-01-10\n"
    ).encode()
    response = api.client.post(
        f"/clusters/{a}/members/import", headers=h, files={"file": ("m.csv", content, "text/csv")}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["inserted"] == 1
    [issue] = report["issues"]
    assert (issue["line"], issue["column"], issue["reason"]) == (
        2,
        "nom",
        "trop long : 100000 caractères, 300 au plus",
    )
