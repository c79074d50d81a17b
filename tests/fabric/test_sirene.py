"""Import of SIRENE stock files: real Bas-Rhin file, every quarantine reason, CSV dialects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from fabrickit import SIRENE_COLUMNS, sirene_row, siret, write_csv, write_parquet

from grappe.fabric import ESTABLISHMENT_COLUMNS, FabricStore
from grappe.fabric.schema import arrow_schema
from grappe.fabric.sniff import sniff
from grappe.refdata.territories import to_lambert93


def _rows(store: FabricStore) -> pa.Table:
    files = [str(f) for f in store.establishment_files()]
    con = duckdb.connect()
    try:
        return con.sql(f"SELECT * FROM read_parquet({files}) ORDER BY siret").to_arrow_table()
    finally:
        con.close()


def test_real_bas_rhin_latin1(real_data: Path, tmp_path: Path) -> None:
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([real_data / "sirene_bas_rhin_2019_geocoded_latin1.csv"])
    assert report.format == "sirene"
    assert report.kind == "establishments"
    assert report.rows_read == 3929
    assert report.rows_read == report.rows_stored + report.rows_quarantined
    rows = _rows(store)
    assert rows.schema == arrow_schema("establishments")
    assert rows.num_rows == report.rows_stored
    by_siret = {r["siret"]: r for r in rows.to_pylist()}
    first = by_siret["02638021200147"]  # first line of the file
    assert first["siren"] == "026380212"
    assert first["nic"] == "00147"
    assert first["naf"] == "71.12B"
    assert first["commune"] == "67551"
    assert first["created"] == dt.date(2016, 1, 1)
    assert first["active"] is True
    assert first["closed"] is None
    assert first["size_band"] is None  # empty in the file
    assert first["name"] == "SOCIETE IMMOBILIERE D'ETUDES ET GESTION"
    # latitude 48.584507, longitude 7.66201 in the file, projected as PROJ does
    x, y = to_lambert93([7.66201], [48.584507])
    assert (first["x"], first["y"]) == pytest.approx((x[0], y[0]), abs=1e-3)
    second = by_siret["03859715900011"]
    assert second["size_band"] is None  # NN: unknown headcount
    assert second["naf"] == "81.10Z"
    sniffed = sniff(real_data / "sirene_bas_rhin_2019_geocoded_latin1.csv")
    assert (sniffed.encoding, sniffed.delimiter, len(sniffed.columns)) == ("cp1252", ",", 92)


def test_lambert_columns_match_pyproj(tmp_path: Path) -> None:
    columns = (*SIRENE_COLUMNS[:11], "latitude", "longitude")
    rows = [sirene_row(i, latitude=str(45 + i / 10), longitude=str(6 + i / 7)) for i in range(5)]
    store = FabricStore.open(tmp_path / "store")
    store.import_files([write_csv(tmp_path / "geo.csv", rows, columns)])
    got = _rows(store)
    x, y = to_lambert93([6 + i / 7 for i in range(5)], [45 + i / 10 for i in range(5)])
    assert got["x"].to_pylist() == pytest.approx(list(x), abs=1e-3)
    assert got["y"].to_pylist() == pytest.approx(list(y), abs=1e-3)


# One row per defect: (overrides, column, value, reason). Row i of the file is line i + 2.
DEFECTS: list[tuple[dict[str, str], str, str, str]] = [
    ({"siret": "1234"}, "siret", "1234", "SIRET mal formé (14 chiffres attendus)"),
    ({"siren": "999999999"}, "siren", "999999999",
     "SIREN différent des 9 premiers chiffres du SIRET"),
    ({"nic": "99999"}, "nic", "99999", "NIC différent des 5 derniers chiffres du SIRET"),
    ({"siret": "12345678900015", "siren": "123456789", "nic": "00015"}, "siren", "123456789",
     "clé de contrôle du SIREN invalide"),
    ({"siret": "73282932000075", "siren": "732829320", "nic": "00075"}, "siret",
     "73282932000075", "clé de contrôle du SIRET invalide"),
    ({"etatAdministratifEtablissement": "X"}, "etatAdministratifEtablissement", "X",
     "état administratif inconnu (A ou F attendu)"),
    ({"nomenclatureActivitePrincipaleEtablissement": "NAFRev1",
      "activitePrincipaleEtablissement": "28.7H"},
     "nomenclatureActivitePrincipaleEtablissement", "NAFRev1",
     "nomenclature d'activité autre que NAFRev2"),
    ({"activitePrincipaleEtablissement": ""}, "activitePrincipaleEtablissement", "",
     "code NAF manquant"),
    ({"activitePrincipaleEtablissement": "99.99Z"}, "activitePrincipaleEtablissement", "99.99Z",
     "code NAF inconnu"),
    ({"codeCommuneEtablissement": "", "codePaysEtrangerEtablissement": "99109"},
     "codePaysEtrangerEtablissement", "99109", "établissement hors France"),
    ({"codeCommuneEtablissement": ""}, "codeCommuneEtablissement", "", "commune manquante"),
    ({"codeCommuneEtablissement": "74999"}, "codeCommuneEtablissement", "74999",
     "commune inconnue"),
    ({"trancheEffectifsEtablissement": "07"}, "trancheEffectifsEtablissement", "07",
     "tranche d'effectifs inconnue"),
    ({"dateCreationEtablissement": "2001-13-45"}, "dateCreationEtablissement", "2001-13-45",
     "date illisible (attendu AAAA-MM-JJ ou JJ/MM/AAAA)"),
    ({"dateCreationEtablissement": "1899-12-31"}, "dateCreationEtablissement", "1899-12-31",
     "date antérieure à 1900"),
    ({"dateCreationEtablissement": "2999-01-01"}, "dateCreationEtablissement", "2999-01-01",
     "date dans le futur"),
    ({"etatAdministratifEtablissement": "F", "dateDebut": "1999-01-01"}, "dateDebut",
     "1999-01-01", "date de fermeture antérieure à la création"),
    ({"coordonneeLambertAbscisseEtablissement": "9x9"},
     "coordonneeLambertAbscisseEtablissement", "9x9", "coordonnée illisible"),
    ({"coordonneeLambertOrdonneeEtablissement": ""}, "coordonneeLambertAbscisseEtablissement",
     "967000.5", "coordonnée incomplète (x et y attendus)"),
    ({"coordonneeLambertOrdonneeEtablissement": "100"},
     "coordonneeLambertOrdonneeEtablissement", "100",
     "coordonnée hors de la France métropolitaine (Lambert-93)"),
]


def test_every_quarantine_reason_with_line_column_value(tmp_path: Path) -> None:
    good = [sirene_row(1000 + i) for i in range(3)]
    bad = [sirene_row(i, **overrides) for i, (overrides, *_rest) in enumerate(DEFECTS)]
    duplicate = dict(good[0])
    rows = [*good, *bad, duplicate]
    path = write_csv(tmp_path / "bad.csv", rows)
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([path])
    assert (report.rows_read, report.rows_stored) == (len(rows), 3)
    assert report.rows_quarantined == len(DEFECTS) + 1
    quarantine = store.quarantine(report.source_id).to_pylist()
    assert [q["line"] for q in quarantine] == list(range(5, 5 + len(DEFECTS) + 1))
    for q, (_overrides, column, value, reason) in zip(quarantine, DEFECTS, strict=False):
        assert (q["column"], q["value"] or "", q["reason"]) == (column, value, reason), q
        assert q["file"] == str(path.resolve())
    last = quarantine[-1]
    assert (last["line"], last["reason"], last["value"]) == (
        len(rows) + 1, "SIRET en double dans le fichier", good[0]["siret"])
    assert sorted(_rows(store)["siret"].to_pylist()) == sorted(r["siret"] for r in good)


def test_la_poste_exception_and_closed_establishment(tmp_path: Path) -> None:
    la_poste = "35600000049837"  # digit sum 45: valid although its Luhn sum is not
    closed = sirene_row(2, etatAdministratifEtablissement="F", dateDebut="2015-06-30")
    rows = [
        sirene_row(1, siret=la_poste, siren=la_poste[:9], nic=la_poste[9:]),
        closed,
        sirene_row(3, siret="35600000049838", siren="356000000", nic="49838"),
    ]
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([write_csv(tmp_path / "poste.csv", rows)])
    assert report.rows_stored == 2
    assert store.quarantine()["reason"].to_pylist() == ["clé de contrôle du SIRET invalide"]
    stored = {r["siret"]: r for r in _rows(store).to_pylist()}
    assert la_poste in stored
    assert stored[closed["siret"]]["active"] is False
    assert stored[closed["siret"]]["closed"] == dt.date(2015, 6, 30)


def test_arrondissement_and_old_commune_codes_map_to_current(tmp_path: Path) -> None:
    rows = [sirene_row(1, codeCommuneEtablissement="75101"),
            sirene_row(2, codeCommuneEtablissement="01003")]
    store = FabricStore.open(tmp_path / "store")
    store.import_files([write_csv(tmp_path / "c.csv", rows)])
    assert sorted(_rows(store)["commune"].to_pylist()) == ["01165", "75056"]


@pytest.mark.parametrize(("delimiter", "encoding", "bom"), [
    (",", "utf-8", False), (";", "utf-8", True), (";", "latin-1", False), ("\t", "utf-8", False),
])
def test_dialects_are_detected(tmp_path: Path, delimiter: str, encoding: str, bom: bool) -> None:
    rows = [sirene_row(i, denominationUsuelleEtablissement=f"Décolletage Genève; n°{i}")
            for i in range(4)]
    path = write_csv(tmp_path / "d.csv", rows, delimiter=delimiter, encoding=encoding, bom=bom)
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([path])
    assert (report.rows_read, report.rows_stored) == (4, 4)
    assert sorted(_rows(store)["name"].to_pylist()) == sorted(
        r["denominationUsuelleEtablissement"] for r in rows)


def test_forced_delimiter_and_encoding(tmp_path: Path) -> None:
    rows = [sirene_row(i, denominationUsuelleEtablissement="Crème brûlée") for i in range(2)]
    path = write_csv(tmp_path / "f.csv", rows, delimiter="|", encoding="latin-1")
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([path], delimiter="|", encoding="latin1", format="sirene")
    assert report.rows_stored == 2
    assert set(_rows(store)["name"].to_pylist()) == {"Crème brûlée"}


def test_parquet_stock_and_siren_nic_without_siret(tmp_path: Path) -> None:
    rows = [sirene_row(i) for i in range(3)] + [sirene_row(9, nic="0001")]
    columns = [c for c in SIRENE_COLUMNS if c != "siret"]
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([write_parquet(tmp_path / "s.parquet", rows, columns)])
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (4, 3, 1)
    (q,) = store.quarantine().to_pylist()
    assert (q["line"], q["column"], q["value"], q["reason"]) == (
        4, "nic", "0001", "NIC mal formé (5 chiffres attendus)")
    assert sorted(_rows(store)["siret"].to_pylist()) == sorted(r["siret"] for r in rows[:3])
    assert list(_rows(store).schema.names) == list(ESTABLISHMENT_COLUMNS)


def test_malformed_lines_go_to_quarantine_with_their_line(tmp_path: Path) -> None:
    header = ",".join(SIRENE_COLUMNS)
    good = [",".join(sirene_row(i)[c] for c in SIRENE_COLUMNS) for i in range(4)]
    bad_naf = ",".join(sirene_row(7, activitePrincipaleEtablissement="XX")[c]
                       for c in SIRENE_COLUMNS)
    lines = [header, good[0], "1,2,3", good[1], good[2] + ",extra", 'a,"b"c,d' + "," * 11,
             bad_naf, good[3]]
    path = tmp_path / "m.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([path])
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (7, 3, 4)
    got = [(q["line"], q["reason"]) for q in store.quarantine().to_pylist()]
    assert got == [
        (3, "ligne CSV malformée : nombre de champs incorrect"),
        (5, "ligne CSV malformée : nombre de champs incorrect"),
        (6, "ligne CSV malformée : guillemets"),
        (7, "code d'une nomenclature antérieure à la NAF rév. 2"),
    ]
    assert store.quarantine().to_pylist()[0]["value"] == "1,2,3"


def test_blank_lines_and_quoted_line_breaks_keep_physical_lines(tmp_path: Path) -> None:
    header = ",".join(SIRENE_COLUMNS)

    def line(i: int, **overrides: str) -> str:
        row = sirene_row(i, **overrides)
        return ",".join(f'"{row[c]}"' if "\n" in row[c] else row[c] for c in SIRENE_COLUMNS)

    lines = [header, line(0), "", line(1, denominationUsuelleEtablissement="A\nB\nC"), "4,5",
             "", line(2, codeCommuneEtablissement="00000"), line(3)]
    path = tmp_path / "b.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([path])
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (5, 3, 2)
    got = [(q["line"], q["reason"]) for q in store.quarantine().to_pylist()]
    assert got == [(7, "ligne CSV malformée : nombre de champs incorrect"),
                   (9, "commune inconnue")]
    assert "A\nB\nC" in _rows(store)["name"].to_pylist()


def test_gzip_csv(tmp_path: Path) -> None:
    import gzip

    plain = write_csv(tmp_path / "z.csv", [sirene_row(i) for i in range(3)]
                      + [sirene_row(5, siret="1")])
    packed = tmp_path / "z.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([packed])
    assert (report.rows_stored, report.rows_quarantined) == (3, 1)
    assert store.quarantine()["line"].to_pylist() == [5]


def test_helpers_make_valid_identifiers() -> None:
    assert siret("732829320", "0007") == "73282932000074"
