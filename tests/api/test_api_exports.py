"""GET /clusters/{id}/members/export: no live formula, and a control character is no 500."""

from __future__ import annotations

import csv
import io

import pytest
from apikit import Api, dbkit
from openpyxl import load_workbook
from sqlalchemy import update

from grappe.kit.export import FORMULA_STARTS
from grappe.registry.models import Organisation
from grappe.storage.sql import session_scope

ATTACKS = [
    "=CMD|' /C calc'!A0",
    '=HYPERLINK("http://evil.example","cliquez ici")',
    "+33 1 23 45 67 89",
    "-Tiret SA",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "＠SUM(A1)",
]


@pytest.mark.parametrize("fmt", ["csv", "csv-excel", "xlsx"])
def test_member_export_is_safe_over_http(api: Api, fmt: str) -> None:
    h = api.headers("manager")
    a = api.world.a  # type: ignore[attr-defined]
    upload = io.StringIO(newline="")
    writer = csv.writer(upload, delimiter=";")
    writer.writerow(["siren", "nom", "date_adhesion"])
    writer.writerows([dbkit.siren(8200 + i), name, "2024-01-02"] for i, name in enumerate(ATTACKS))
    imported = api.client.post(
        f"/clusters/{a}/members/import",
        headers=h,
        files={"file": ("m.csv", upload.getvalue().encode(), "text/csv")},
    )
    assert imported.json()["inserted"] == len(ATTACKS)
    # a control character stored in a name broke the whole XLSX export (500)
    with session_scope(api.app.state.engine) as s:
        s.execute(
            update(Organisation).where(Organisation.siren == dbkit.siren(8200)).values(name="A\x01B")
        )

    response = api.client.get(f"/clusters/{a}/members/export", headers=h, params={"format": fmt})
    assert response.status_code == 200, response.text
    if fmt != "xlsx":
        excel = fmt == "csv-excel"
        assert response.content.startswith(b"\xef\xbb\xbf") is excel  # the BOM Excel needs
        text = response.content.decode("utf-8-sig")
        rows: list[list[object]] = list(
            csv.reader(io.StringIO(text, newline=""), delimiter=";" if excel else ",")
        )
        assert rows[0][2] == ("nom" if excel else "name")
    else:
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    starts = [v for row in rows for v in row if isinstance(v, str) and v[:1] and v[0] in FORMULA_STARTS]
    assert starts == []
    names = sorted(str(r[2]) for r in rows[1:])
    assert names == sorted(["Décolletage Dupont", "A\ufffdB", *("'" + n for n in ATTACKS[1:])])
