"""SQL building blocks: Luhn keys against a Python reference, Lambert-93 against PROJ, sniffing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from fabrickit import luhn_key
from hypothesis import given, settings
from hypothesis import strategies as st

from grappe.fabric.sniff import detect_encoding, sniff, sniff_delimiter
from grappe.fabric.sqlkit import lambert93, siren_key_ok, siret_key_ok
from grappe.refdata.territories import to_lambert93


def _luhn_ok(digits: str) -> bool:
    return luhn_key(digits[:-1]) == digits[-1]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text("0123456789", min_size=14, max_size=14), min_size=1, max_size=50))
def test_luhn_sql_matches_python(sirets: list[str]) -> None:
    con = duckdb.connect()
    con.register("t", pa.table({"s": sirets}))
    got = con.execute(f"SELECT {siret_key_ok('CAST(s AS BIGINT)')}, "
                      f"{siren_key_ok('CAST(left(s, 9) AS BIGINT)')} FROM t").fetchall()
    expected = [
        (sum(map(int, s)) % 5 == 0 if s.startswith("356000000") else _luhn_ok(s), _luhn_ok(s[:9]))
        for s in sirets
    ]
    assert got == expected


def test_lambert93_sql_matches_proj() -> None:
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(-5.5, 9.8, 500), rng.uniform(41.2, 51.2, 500)
    x_sql, y_sql = lambert93("lon", "lat")
    con = duckdb.connect()
    con.register("t", pa.table({"lon": lon, "lat": lat}))
    got = np.array(con.execute(f"SELECT {x_sql}, {y_sql} FROM t").fetchall())
    x, y = to_lambert93(lon, lat)
    assert np.abs(got[:, 0] - x).max() < 1e-3
    assert np.abs(got[:, 1] - y).max() < 1e-3


def test_encoding_and_delimiter_detection(tmp_path: Path) -> None:
    assert detect_encoding("é".encode(), is_complete=True) == "utf-8"
    assert detect_encoding("é".encode()[:1], is_complete=False) == "utf-8"  # cut character
    assert detect_encoding("é".encode("latin-1"), is_complete=True) == "cp1252"
    assert detect_encoding("l’Œuvre".encode("cp1252"), is_complete=True) == "cp1252"
    assert sniff_delimiter("a;b;c,d") == ";"
    assert sniff_delimiter("a\tb\tc") == "\t"
    path = tmp_path / "h.csv"
    path.write_bytes("\ufeffsiret;nom\n1;é\n".encode())
    sniffed = sniff(path)
    assert (sniffed.columns, sniffed.delimiter, sniffed.encoding) == (("siret", "nom"), ";", "utf-8")


def test_duplicate_header_columns_are_refused(tmp_path: Path) -> None:
    from grappe.errors import FileFormatError

    path = tmp_path / "d.csv"
    path.write_text("a,b,a\n1,2,3\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="ligne 1 : colonnes en double dans l'en-tête : a"):
        sniff(path)
