"""Safe CSV/XLSX export: formula starts neutralised in text cells only, numbers kept, any text written."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from grappe.errors import InputError
from grappe.kit import export
from grappe.kit.export import EXCEL_FR, FORMULA_STARTS, PROGRAMS, safe_text, unquote

ATTACKS = [
    "=CMD|' /C calc'!A0",
    '=HYPERLINK("http://evil.example","cliquez")',
    "+33 1 23 45 67 89",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(A1)",
    "'=already quoted",
]
# Characters that matter here: formula starts, the quote, those XML forbids, lone surrogates.
TRICKY = st.sampled_from(
    [*FORMULA_STARTS, "'", "\x00", "\x01", "\x0b", "\x1f", "\ufffe", "\uffff", "\ud800", "\n", " ", "é"]
)
TEXTS = st.one_of(st.text(), st.text(TRICKY), st.text(st.characters(exclude_categories=[])))
INTS = st.integers(min_value=-(10**15), max_value=10**15)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
CELLS = st.one_of(TEXTS, INTS, FLOATS, st.none())
TABLES = st.lists(st.lists(CELLS, min_size=3, max_size=3), max_size=8)
COLUMNS = ["a", "b", "c"]
# texts an export keeps as they are (no character XML forbids)
LEGAL = TEXTS.map(lambda text: export._ILLEGAL.sub("", text))


def _dangerous(text: str) -> bool:
    return bool(text) and text[0] in FORMULA_STARTS


def _csv_cells(text: str, dialect: export.CsvDialect) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter))


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = []
    for row in sheet.iter_rows():
        assert all(c.data_type != "f" for c in row), "a formula cell was written"
        rows.append([c.value for c in row])
    return rows


@pytest.mark.parametrize("attack", ATTACKS)
def test_every_known_attack_is_neutralised_and_reimports(attack: str) -> None:
    assert safe_text(attack) == "'" + attack
    assert unquote(safe_text(attack)) == attack


def test_plain_text_and_quotes_are_left_alone() -> None:
    assert safe_text("Décolletage Dupont") == "Décolletage Dupont"
    assert safe_text("'Dupont") == "'Dupont"
    assert unquote("'Dupont") == "'Dupont"  # an apostrophe a user typed stays
    assert safe_text("a=b") == "a=b"


@given(LEGAL)
def test_unquote_inverts_safe_text(text: str) -> None:
    exported = safe_text(text)
    assert not _dangerous(exported)
    assert unquote(exported) == text


@given(TEXTS)
def test_safe_text_never_starts_a_formula_nor_holds_xml_illegal_characters(text: str) -> None:
    exported = safe_text(text)
    assert not _dangerous(exported)
    assert not export._ILLEGAL.search(exported)
    exported.encode("utf-8")  # lone surrogates are gone too


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TABLES, st.sampled_from([PROGRAMS, EXCEL_FR]))
def test_csv_text_is_neutralised_and_numbers_stay_numbers(
    rows: list[list[Any]], dialect: export.CsvDialect
) -> None:
    out = io.StringIO()
    export.write_csv(out, rows, columns=COLUMNS, dialect=dialect)
    written = _csv_cells(out.getvalue(), dialect)
    assert written[0] == COLUMNS
    assert len(written) == len(rows) + 1
    for given_row, cells in zip(rows, written[1:], strict=True):
        for value, cell in zip(given_row, cells, strict=True):
            if value is None:
                assert cell == ""
            elif isinstance(value, str):
                assert not _dangerous(cell)
                assert cell == safe_text(value)
            elif isinstance(value, int):
                assert int(cell) == value  # a negative number is not quoted
            else:
                assert float(cell.replace(dialect.decimal, ".")) == value  # full precision


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TABLES)
def test_xlsx_text_is_neutralised_numbers_stay_numbers_and_nothing_breaks(
    rows: list[list[Any]],
) -> None:
    out = io.BytesIO()
    export.write_xlsx(out, rows, columns=COLUMNS)
    written = _xlsx_rows(out.getvalue())
    assert written[0] == COLUMNS
    assert len(written) == len(rows) + 1
    for given_row, cells in zip(rows, written[1:], strict=True):
        for value, cell in zip(given_row, cells, strict=True):
            if value is None:
                assert cell is None
            elif isinstance(value, str):
                # XML reads a carriage return back as a line feed; an empty text is no cell
                expected = safe_text(value).replace("\r\n", "\n").replace("\r", "\n")
                assert (cell or "") == expected
                assert not _dangerous(cell or "")
            else:
                if abs(value) > export.XLSX_MAX_NUMBER:
                    assert cell == safe_text(repr(value))
                    continue
                assert isinstance(cell, int | float)
                assert not isinstance(cell, bool)
                # openpyxl writes 16 significant digits (Excel itself keeps 15)
                assert cell == (value if isinstance(value, int) else pytest.approx(value, rel=1e-15))


def test_frames_and_arrow_tables_keep_their_types() -> None:
    frame = pd.DataFrame(
        {
            "name": ["=a", "b", "=a", None],
            "delta": [-1.5, 2.0, float("nan"), 0.1 + 0.2],
            "count": [-1, 2, 3, 4],
            "strong": [True, False, True, False],
            "day": pd.to_datetime(["2024-01-01", "2024-02-01", None, "2024-03-01"]),
        }
    )
    out = io.StringIO()
    export.write_csv(out, frame)
    assert out.getvalue().split("\r\n")[:-1] == [
        "name,delta,count,strong,day",
        "'=a,-1.5,-1,true,2024-01-01",
        "b,2.0,2,false,2024-02-01",
        "'=a,,3,true,",
        ",0.30000000000000004,4,false,2024-03-01",
    ]
    french = io.StringIO()
    export.write_csv(french, frame, dialect=EXCEL_FR, labels={"name": "Nom", "strong": "Fort"})
    assert french.getvalue().split("\r\n")[:2] == [
        "Nom;delta;count;Fort;day",
        "'=a;-1,5;-1;oui;2024-01-01",
    ]
    book = io.BytesIO()
    export.write_xlsx(book, frame, labels={"name": "Nom"}, number_formats={"delta": "0.00"})
    sheet = load_workbook(book).worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == ["Nom", "delta", "count", "strong", "day"]
    assert sheet[1][0].font.b
    assert [c.value for c in sheet[2]] == ["'=a", -1.5, -1, True, dt.datetime(2024, 1, 1)]
    assert (sheet["B2"].number_format, sheet["E2"].number_format) == ("0.00", export.DATE_FORMAT)
    table = pa.table(
        {
            "rank": pa.array([1, None], pa.int32()),
            "name": ["+x", None],
            "on": [dt.date(2020, 1, 2), None],
        }
    )
    arrow = io.StringIO()
    export.write_csv(arrow, table)
    assert arrow.getvalue() == "rank,name,on\r\n1,'+x,2020-01-02\r\n,,\r\n"


def test_python_values_of_rows() -> None:
    rows = [
        {"n": "@x", "m": Decimal("-90.50"), "d": dt.date(2024, 1, 2), "f": float("inf")},
        {"n": "a\x01b", "m": None, "d": None, "f": -0.5},
    ]
    out = io.StringIO()
    export.write_csv(out, rows, dialect=EXCEL_FR)
    assert out.getvalue().split("\r\n")[1:3] == ["'@x;-90,50;2024-01-02;inf", "a\ufffdb;;;-0,5"]
    book = io.BytesIO()
    export.write_xlsx(book, rows)
    written = _xlsx_rows(book.getvalue())
    # Excel has no infinity: written as text, so that the file stays valid
    assert written[1] == ["'@x", -90.5, dt.datetime(2024, 1, 2), "inf"]
    assert written[2] == ["a\ufffdb", None, None, -0.5]


def test_write_by_suffix_and_xlsx_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [["=1", 1]]
    csv_path = export.write(tmp_path / "t.csv", rows, columns=["a", "b"], format="csv-excel")
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbfa;b\r\n'=1;1")
    assert export.write(tmp_path / "t.csv", rows, columns=["a", "b"]).read_bytes() == b"a,b\r\n'=1,1\r\n"
    # the format named wins over the suffix
    export.write(tmp_path / "t.csv", rows, columns=["a", "b"], format="xlsx")
    assert _xlsx_rows((tmp_path / "t.csv").read_bytes())[1] == ["'=1", 1]
    export.write(tmp_path / "t.xlsx", rows, columns=["a", "b"])
    assert _xlsx_rows((tmp_path / "t.xlsx").read_bytes())[1] == ["'=1", 1]
    with pytest.raises(InputError, match=r"extension \.ods non prise en charge"):
        export.write(tmp_path / "t.ods", rows, columns=["a", "b"])
    with pytest.raises(InputError, match=r"dossier .* introuvable"):
        export.write(tmp_path / "nowhere" / "t.csv", rows, columns=["a", "b"])
    with pytest.raises(InputError, match="c'est un dossier"):
        export.write_xlsx(tmp_path, rows, columns=["a", "b"])
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 2)
    with pytest.raises(InputError, match="au plus 1 sous l'en-tête"):
        export.write(tmp_path / "big.xlsx", rows * 2, columns=["a", "b"])


def test_a_csv_file_has_the_bytes_of_the_stream_writer(tmp_path: Path) -> None:
    # Files go through DuckDB, streams through pandas: the same bytes, edge cases included.
    frame = pd.DataFrame({
        "text": ["", None, "a,b", 'q"r', "x\ny", "c\rd", " lead", "=1+1", "é"],
        "number": [1.0, np.nan, np.inf, -0.0, 1e-7, 1e16, 0.1, 2.5, 1 / 3],
        "flag": [True, False] * 4 + [True],
        "count": pd.array([1, None, 3, 4, 5, 6, 7, 8, 9], dtype="Int64"),
    })
    stream = io.StringIO()
    export.write_csv(stream, frame)
    export.write_csv(tmp_path / "out.csv", frame)
    assert (tmp_path / "out.csv").read_bytes() == stream.getvalue().encode("utf-8")
    assert "'=1+1" in stream.getvalue()  # the formula rule holds on both paths


def test_json_records_hold_no_nan_nor_infinity(tmp_path: Path) -> None:
    frame = pd.DataFrame({"name": ["Cluses", "Oyonnax", None], "lq": [1.5, np.nan, np.inf],
                          "significant": [True, False, True], "rank": [1, 2, 3]})
    expected = [{"name": "Cluses", "lq": 1.5, "significant": True, "rank": 1},
                {"name": "Oyonnax", "lq": None, "significant": False, "rank": 2},
                {"name": None, "lq": None, "significant": True, "rank": 3}]
    export.write_json(tmp_path / "out.json", frame)
    assert json.loads((tmp_path / "out.json").read_text("utf-8")) == expected
    stream = io.StringIO()
    export.write_json(stream, frame)
    assert json.loads(stream.getvalue()) == expected
