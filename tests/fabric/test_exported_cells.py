"""Files grappe exported re-import unchanged: the formula quote of an export is removed on import
(CONTRACTS.md, "CSV that grappe reads")."""

from __future__ import annotations

from pathlib import Path

import duckdb
from fabrickit import SIRENE_COLUMNS, sirene_row

from grappe.fabric import FabricStore
from grappe.kit import export

NAMES = [
    '=HYPERLINK("http://evil.example","x")',
    "-Dupont & fils",
    "+33 Services",
    "@home",
    "\tTabulée",
    "＝Pleine chasse",
    "'-déjà une apostrophe",
    "'Dupont",  # an apostrophe before no formula start is text: kept
    "Normale",
]
NAME_COLUMNS = ("denominationUsuelleEtablissement", "enseigne1Etablissement",
                "denominationUniteLegale")


def _stored(store: FabricStore, sql: str, files: list[Path]) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    try:
        return con.execute(sql.format(files=[str(f) for f in files])).fetchall()
    finally:
        con.close()


def test_exported_sirene_names_round_trip(tmp_path: Path) -> None:
    rows = []
    for n, name in enumerate(NAMES):
        row = sirene_row(n)
        # each name column in turn (the stored name is the first of them that is set)
        row.update(dict.fromkeys(NAME_COLUMNS, ""))
        row[NAME_COLUMNS[n % 3]] = name
        rows.append(row)
    columns = [*SIRENE_COLUMNS, *NAME_COLUMNS[1:]]
    path = export.write(tmp_path / "sirene.csv", rows, columns=columns)
    text = path.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text
    assert "''-déjà" in text
    store = FabricStore.open(tmp_path / "store")
    [report] = store.import_files([path])
    assert (report.rows_stored, report.rows_quarantined) == (len(NAMES), 0)
    stored = dict(_stored(store, "SELECT siret, name FROM read_parquet({files})",
                          store.establishment_files()))
    assert [stored[r["siret"]] for r in rows] == NAMES


def test_exported_table_cells_round_trip(tmp_path: Path) -> None:
    # A count typed "+12" in a spreadsheet is a text cell: the export quotes it.
    rows = [
        {"territory_level": "departement", "territory_code": "74", "naf": "25.62A",
         "year": "2020", "establishments": "+12", "employees": "+40"},
        {"territory_level": "departement", "territory_code": "69", "naf": "25.62A",
         "year": "2020", "establishments": "7", "employees": "15"},
    ]
    path = export.write(tmp_path / "table.csv", rows)
    assert "'+12" in path.read_text(encoding="utf-8")
    store = FabricStore.open(tmp_path / "store")
    [report] = store.import_files([path], format="table")
    assert (report.rows_stored, report.rows_quarantined) == (2, 0)
    stored = _stored(store, "SELECT territory_code, establishments, employees "
                            "FROM read_parquet({files}) ORDER BY 1", store.aggregate_files())
    assert stored == [("69", 7, 15), ("74", 12, 40)]
