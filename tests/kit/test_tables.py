"""The small-table reader: separators, encodings, XLSX cells, exported quotes, refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from grappe.errors import InputError
from grappe.kit import export
from grappe.kit.tables import parse_decimal, read_rows, unique_rows


def test_csv_with_bom_semicolons_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("\ufeffParticipant ; Unavailable slots\nAlpha; 1 2\n\n Bêta ;\n", encoding="utf-8")
    rows = read_rows(path, ("participant",), ("unavailable_slots",))
    assert [(r.line, r.values) for r in rows] == [
        (2, {"participant": "Alpha", "unavailable_slots": "1 2"}),
        (4, {"participant": "Bêta", "unavailable_slots": ""}),
    ]


def test_windows_1252_is_read_when_the_bytes_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("nom,montant\nSociété d’Œuvre,12 500,50\n".replace(",12 500,50", ',"12 500,50"')
                     .encode("cp1252"))
    (row,) = read_rows(path, ("nom", "montant"))
    assert row.values == {"nom": "Société d’Œuvre", "montant": "12 500,50"}


def test_xlsx_cells_read_as_shown_and_exported_quotes_removed(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(["application", "score", "date"])
    sheet.append([export.safe_text("=A1"), 3.0, dt.date(2026, 12, 3)])
    sheet.append([None, None, None])
    sheet.append(["B", 2.5, None])
    book.save(path)
    rows = read_rows(path, ("application", "score"), ("date",))
    assert [(r.line, r.values) for r in rows] == [
        (2, {"application": "=A1", "score": "3", "date": "2026-12-03"}),
        (4, {"application": "B", "score": "2.5", "date": ""}),
    ]


def test_refusals_name_the_file_and_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("from,vers\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_rows(path, ("from", "to"))
    assert "t.csv, ligne 1 : colonne(s) to manquante(s) ; colonnes trouvées : from, vers" in str(caught.value)
    empty = tmp_path / "vide.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="fichier vide"):
        read_rows(empty, ("from",))
    (tmp_path / "t.ods").write_bytes(b"x")
    with pytest.raises(InputError, match=r"extension \.ods non prise en charge"):
        read_rows(tmp_path / "t.ods", ("from",))
    with pytest.raises(InputError, match="introuvable"):
        read_rows(tmp_path / "absent.csv", ("from",))


@pytest.mark.parametrize(("text", "value"), [
    ("12 500,50", Decimal("12500.50")), ("0.75", Decimal("0.75")), ("-3", Decimal("-3")),
    ("1\u202f000", Decimal("1000")),
])
def test_numbers_as_people_type_them(text: str, value: Decimal) -> None:
    assert parse_decimal(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "nan", "inf"])
def test_what_is_not_a_finite_number_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"\A"):  # any message: the caller words its own
        parse_decimal(text)


def test_identifiers_keep_their_first_row(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("application,score\nA,1\n,2\nA,3\nB,4\n", encoding="utf-8")
    kept, issues = unique_rows(path, read_rows(path, ("application",)), "application")
    assert [r.line for r in kept] == [2, 5]
    assert [i.message for i in issues] == [
        "t.csv, ligne 3, colonne application ('') : identifiant vide",
        "t.csv, ligne 4, colonne application ('A') : en double (déjà ligne 2)",
    ]
