"""Fee letters (PDF) and the dunning export over HTTP: media types, content, roles."""

from __future__ import annotations

import io

from apikit import Api
from pypdf import PdfReader


def test_letters_and_dunning_export_over_http(api: Api) -> None:
    h = api.headers("manager")
    a = api.world.a  # type: ignore[attr-defined]
    schedule = {
        "year": 2024,
        "letterhead": "Mécanique Rhône\n69100 Villeurbanne",
        "rules": [{"membership_type": "adherent", "amount_eur": "1200"}],
    }
    assert api.client.put(f"/clusters/{a}/fee-schedules", headers=h, json=schedule).status_code == 200
    assert api.client.post(f"/clusters/{a}/fee-calls", headers=h, params={"year": 2024}).status_code == 200
    call = api.client.get(f"/clusters/{a}/fee-calls", headers=h).json()["items"][0]

    one = api.client.get(f"/fee-calls/{call['id']}/letter", headers=h, params={"kind": "call"})
    assert one.status_code == 200, one.text
    assert one.headers["content-type"] == "application/pdf"
    text = " ".join(PdfReader(io.BytesIO(one.content)).pages[0].extract_text().split())
    assert call["organisation"] in text
    assert "1 200,00 €" in text
    assert "69100 Villeurbanne" in text

    batch = api.client.get(
        f"/clusters/{a}/fee-letters", headers=h, params={"year": 2024, "kind": "reminder", "on": "2030-01-02"}
    )
    assert batch.status_code == 200, batch.text
    assert "Relance" in PdfReader(io.BytesIO(batch.content)).pages[0].extract_text()
    early = api.client.get(
        f"/fee-calls/{call['id']}/letter", headers=h, params={"kind": "reminder", "on": "2000-01-01"}
    )
    assert early.status_code in (400, 422)
    assert "non dépassée" in early.json()["detail"]

    export = api.client.get(
        f"/clusters/{a}/dunning/export", headers=h, params={"format": "csv", "on": "2030-01-02"}
    )
    assert export.headers["content-type"].startswith("text/csv")
    header, row = export.text.splitlines()
    assert header.startswith(
        "fee_call_id,organisation,contact_email,year,amount_eur,paid_eur,outstanding_eur"
    )
    assert ",1200.00,0.00,1200.00," in row
    excel = api.client.get(
        f"/clusters/{a}/dunning/export", headers=h, params={"format": "csv-excel", "on": "2030-01-02"}
    )
    assert excel.headers["content-disposition"].endswith(f'relances-{a}.csv"')
    assert excel.content.decode("utf-8-sig").startswith("appel;adhérent;")

    for role in ("member", "funder", "manager_other"):
        denied = api.client.get(
            f"/fee-calls/{call['id']}/letter", headers=api.headers(role), params={"kind": "call"}
        )
        assert denied.status_code in (403, 404), role
