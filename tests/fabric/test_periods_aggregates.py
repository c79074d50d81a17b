"""Import of SIRENE history periods, URSSAF wide files and generic aggregated tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from fabrickit import write_periods

from grappe.fabric import FabricStore, open_establishments
from grappe.fabric.schema import arrow_schema
from grappe.refdata import naf


def _read(files: list[Path]) -> pa.Table:
    con = duckdb.connect()
    try:
        return con.sql(f"SELECT * FROM read_parquet({[str(f) for f in files]})").to_arrow_table()
    finally:
        con.close()


def test_real_lyon_periods_and_open_at_date(real_data: Path, tmp_path: Path) -> None:
    path = real_data / "sirene_lyon4e_periodes.parquet"
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([path])
    assert report.format == "sirene-periods"
    assert report.rows_read == 58228
    assert report.rows_read == report.rows_stored + report.rows_quarantined
    rows = _read(store.establishment_files())
    assert rows.schema == arrow_schema("establishments")
    assert rows.num_rows == report.rows_stored
    con = duckdb.connect()
    con.register("stored", rows)
    con.register("forms", naf.accepted_forms())
    # periods kept: a NAF rév. 2 code, a start date and a known state
    expected = con.execute(f"""
        SELECT count(*), count(DISTINCT siret) FROM read_parquet('{path}') AS p
        JOIN forms ON forms.raw = p.code_ape
        WHERE dateDebut IS NOT NULL AND etat IN ('A', 'F')""").fetchall()[0]
    got = con.execute("SELECT count(*), count(DISTINCT siret) FROM stored").fetchall()[0]
    assert got == expected
    # every stored period maps the arrondissement 69384 to the commune of Lyon
    assert con.execute("SELECT DISTINCT commune FROM stored").fetchall() == [("69123",)]
    # open at a date, through the store and directly on the raw file restricted to
    # periods with a NAF rév. 2 code: the same establishments
    for day in ("2010-06-30", "2020-01-01", "2024-12-31"):
        stored = (open_establishments(day, store=store).num_rows,)
        raw = con.execute(f"""
            SELECT count(DISTINCT siret) FROM read_parquet('{path}') AS p
            JOIN forms ON forms.raw = p.code_ape
            WHERE etat = 'A' AND dateDebut <= DATE '{day}'
              AND (dateFin IS NULL OR dateFin >= DATE '{day}')""").fetchall()[0]
        assert stored == raw
    assert open_establishments(dt.date(2020, 1, 1), store=store).num_rows == 7527
    reasons = {r["reason"] for r in store.quarantine().to_pylist()}
    assert reasons == {"code d'une nomenclature antérieure à la NAF rév. 2", "code NAF manquant",
                       "état administratif inconnu (A ou F attendu)",
                       "début de période manquant", "code NAF inconnu"}


def test_created_and_closed_of_periods(tmp_path: Path) -> None:
    store = FabricStore.open(tmp_path / "store")
    store.import_files([write_periods(tmp_path / "p.parquet")], format="sirene")
    rows = sorted(_read(store.establishment_files()).to_pylist(), key=lambda r: r["valid_from"])
    assert [r["naf"] for r in rows] == ["25.62A", "25.62B", "25.62B"]
    assert {r["created"] for r in rows} == {dt.date(2001, 1, 1)}
    assert {r["closed"] for r in rows} == {dt.date(2015, 5, 1)}
    assert [r["active"] for r in rows] == [True, True, False]
    assert [r["size_band"] for r in rows] == ["11", None, None]
    for day, expected in (("2000-01-01", 0), ("2009-12-31", 1), ("2015-04-30", 1),
                          ("2015-05-01", 0)):
        assert open_establishments(day, store=store).num_rows == expected, day


def test_real_urssaf_rouen(real_data: Path, tmp_path: Path) -> None:
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([real_data / "urssaf_commune_ape_ze2815_rouen.csv"])
    assert (report.format, report.kind) == ("urssaf", "aggregates")
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (9338, 9338, 0)
    rows = _read(store.aggregate_files())
    assert rows.schema == arrow_schema("aggregates")
    con = duckdb.connect()
    con.register("a", rows)
    years = con.execute("SELECT min(year), max(year), count(DISTINCT year) FROM a").fetchall()
    assert years == [(2006, 2022, 17)]
    assert con.execute("SELECT DISTINCT territory_level FROM a").fetchall() == [("commune",)]
    # first data line: 76005, APE 4399A, nothing in 2006, then 1;1 (2007) and 1;3 (2008)
    got = con.execute("SELECT year, establishments, employees FROM a "
                      "WHERE territory_code = '76005' AND naf = '43.99A' ORDER BY year").fetchall()
    assert got[:2] == [(2007, 1, 1.0), (2008, 1, 3.0)]
    # totals equal the sums of the wide file
    raw = con.execute(f"""
        SELECT sum(TRY_CAST("Nombre d'établissements 2022" AS BIGINT))
        FROM read_csv('{real_data / "urssaf_commune_ape_ze2815_rouen.csv"}', delim = ';',
                      all_varchar = true)""").fetchall()[0]
    assert con.execute("SELECT sum(establishments) FROM a WHERE year = 2022").fetchall()[0] == raw


def test_urssaf_bad_lines(tmp_path: Path) -> None:
    header = ("Code commune;Code APE;Nombre d'établissements 2020;Effectifs salariés 2020;"
              "Nombre d'établissements 2021;Effectifs salariés 2021")
    lines = [header, "76540;2562A;3;12;4;15", "76999;2562A;1;1;;", "76540;9999Z;1;1;;",
             "76451;2562A;x;1;;", "76451;2562B;2;-1;;", "76451;2562B;2;1;;", "76451;2229A;;;;4"]
    path = tmp_path / "u.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([path], format="urssaf")
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (7, 1, 6)
    got = [(q["line"], q["column"], q["value"], q["reason"])
           for q in store.quarantine().to_pylist()]
    assert got == [
        (3, "Code commune", "76999", "commune inconnue"),
        (4, "Code APE", "9999Z", "code NAF inconnu"),
        (5, "Nombre d'établissements 2020", "x", "nombre d'établissements illisible"),
        (6, "Effectifs salariés 2020", "-1", "effectif salarié négatif"),
        (7, "Code APE", "76451 2562B", "couple commune x APE en double dans le fichier"),
        (8, "Effectifs salariés 2021", "4", "effectif sans nombre d'établissements"),
    ]
    rows = sorted(_read(store.aggregate_files()).to_pylist(), key=lambda r: r["year"])
    assert [(r["territory_code"], r["naf"], r["year"], r["establishments"], r["employees"])
            for r in rows] == [("76540", "25.62A", 2020, 3, 12.0),
                               ("76540", "25.62A", 2021, 4, 15.0)]


def test_generic_table_levels_and_errors(tmp_path: Path) -> None:
    rows = [
        "territory_level,territory_code,naf,year,establishments,employees",
        "commune,74081,25.62A,2020,10,120.5",
        "commune,75101,C,2020,3,",          # arrondissement -> Paris
        "commune,75056,c,2020,2,7",         # merged with the line above
        "departement,74,2562,2021,40,300",
        "region,84,25,2021,50,",
        "epci,200000172,25.6,2021,5,9",
        "canton,7401,25.62A,2020,1,1",
        "departement,7A,25.62A,2020,1,1",
        "region,84,ZZ,2020,1,1",
        "region,84,25,1899,1,1",         # before MIN_YEAR
        "region,84,26,2020,-3,1",
        "region,84,27,2020,2.5,1",
        "region,84,28,2020,2,beaucoup",
        "region,84,25,2021,1,1",
        "ze,8401,25,2021,1,1",           # packaged zones d'emploi: no import needed
    ]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([path])
    assert report.format == "table"
    assert (report.rows_read, report.rows_stored) == (15, 7)
    got = [(q["line"], q["column"], q["reason"]) for q in store.quarantine().to_pylist()]
    assert got == [
        (8, "territory_level",
         "niveau territorial inconnu (commune, epci, ze, departement, region)"),
        (9, "territory_code", "code territorial inconnu pour ce niveau"),
        (10, "naf", "code NAF inconnu"),
        (11, "year", f"année invalide (entier de 1900 à {dt.date.today().year} attendu)"),
        (12, "establishments", "nombre d'établissements négatif"),
        (13, "establishments", "nombre d'établissements non entier"),
        (14, "employees", "effectif salarié illisible"),
        (15, "territory_code", "ligne en double (même territoire, NAF et année)"),
    ]
    stored = {(r["territory_level"], r["territory_code"], r["naf"], r["year"]):
              (r["establishments"], r["employees"])
              for r in _read(store.aggregate_files()).to_pylist()}
    assert stored == {
        ("commune", "74081", "25.62A", 2020): (10, 120.5),
        ("commune", "75056", "C", 2020): (5, None),
        ("departement", "74", "25.62", 2021): (40, 300.0),
        ("region", "84", "25", 2021): (50, None),
        ("epci", "200000172", "25.6", 2021): (5, 9.0),
        ("ze", "8401", "25", 2021): (1, 1.0),
    }
    info = store.info()
    assert info.rows_by_level == {"commune": 2, "departement": 1, "epci": 1, "region": 1,
                                  "ze": 1}
    assert info.years == (2020, 2021)


def test_generic_table_with_zones_emploi(real_data: Path, tmp_path: Path) -> None:
    from grappe.refdata import territories

    territories.import_ze(real_data / "insee_communes_ze2020_geo2022.xlsx")
    table = pa.table({"territory_level": ["ze", "ze"], "territory_code": ["8405", "9999"],
                      "naf": ["25.62A", "25.62A"], "year": ["2021", "2021"],
                      "establishments": ["12", "1"]})
    pacsv.write_csv(table, tmp_path / "ze.csv")
    pq.write_table(table.set_column(3, "year", pa.array([2020, 2020], pa.int32())),
                   tmp_path / "ze.parquet")
    store = FabricStore.open(tmp_path / "store")
    reports = store.import_files([tmp_path / "ze.csv", tmp_path / "ze.parquet"], format="table")
    assert [(r.rows_stored, r.rows_quarantined) for r in reports] == [(1, 1), (1, 1)]
    quarantined = store.quarantine(reports[1].source_id).to_pylist()
    assert [(q["line"], q["value"]) for q in quarantined] == [(2, "9999")]
    rows = sorted(_read(store.aggregate_files()).to_pylist(), key=lambda r: r["year"])
    assert [(r["territory_code"], r["year"], r["establishments"], r["employees"])
            for r in rows] == [("8405", 2020, 12, None), ("8405", 2021, 12, None)]

