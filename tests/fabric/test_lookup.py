"""The fabric's public look-ups: by SIRET, by SIREN, open establishments in a scope at a date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pytest
from fabrickit import PERIODS_SIRET, sirene_row, write_csv, write_periods

from grappe.errors import EngineError, InputError, UnknownCodeError
from grappe.fabric import (
    ESTABLISHMENT_FIELDS,
    FabricStore,
    Scope,
    by_siren,
    by_siret,
    holds_establishments,
    open_establishments,
)
from grappe.fabric.lookup import DAMAGED
from grappe.refdata import naf

BAS_RHIN = "sirene_bas_rhin_2019_geocoded_latin1.csv"


@pytest.fixture(scope="module")
def bas_rhin(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real Bas-Rhin SIRENE sample imported into a store (its directory)."""
    store = tmp_path_factory.mktemp("bas-rhin") / "store"
    (report,) = FabricStore.open(store).import_files([real_data / BAS_RHIN])
    assert report.rows_stored > 3000
    return store


def _stored(store: Path) -> list[dict[str, object]]:
    """Every stored row, read from the store's files as the fabric's own tests do."""
    files = [str(f) for f in FabricStore.open(store).establishment_files()]
    con = duckdb.connect()
    try:
        return con.sql(f"SELECT * FROM read_parquet({files})").to_arrow_table().to_pylist()
    finally:
        con.close()


def test_siret_lookup_on_the_real_bas_rhin_sample(bas_rhin: Path) -> None:
    found = by_siret(["02638021200147", "03859715900011", "00000000000000"], bas_rhin)
    assert found.schema == ESTABLISHMENT_FIELDS
    assert found["siret"].to_pylist() == ["02638021200147", "03859715900011"]
    first = found.to_pylist()[0]
    assert (first["siren"], first["nic"], first["naf"], first["commune"]) == (
        "026380212", "00147", "71.12B", "67551")
    assert (first["created"], first["active"], first["closed"]) == (dt.date(2016, 1, 1), True, None)
    assert first["name"] == "SOCIETE IMMOBILIERE D'ETUDES ET GESTION"


def test_siren_lookup_gives_every_establishment_of_the_unit(bas_rhin: Path) -> None:
    # 216701128 has six establishments in the file, 026380212 one
    found = by_siren(["216701128", "026380212", "999999999"], bas_rhin)
    assert sorted(set(found["siren"].to_pylist())) == ["026380212", "216701128"]
    assert found["siren"].to_pylist().count("216701128") == 6
    assert found["siret"].to_pylist() == sorted(found["siret"].to_pylist())


def test_open_establishments_in_a_territory_and_sector_scope(bas_rhin: Path) -> None:
    day = dt.date(2015, 1, 1)
    rows = _stored(bas_rhin)
    manufacturing = set(naf.sous_classes().filter(
        pc.equal(naf.sous_classes()["section"], "C"))["code"].to_pylist())

    def open_on(row: dict[str, object], when: dt.date) -> bool:
        created, closed = row["created"], row["closed"]
        assert isinstance(created, dt.date | None)
        assert isinstance(closed, dt.date | None)
        return (created is None or created <= when) and (
            (bool(row["active"]) and closed is None) or (closed is not None and closed > when))

    expected = sorted(r["siret"] for r in rows  # type: ignore[type-var]
                      if open_on(r, day) and r["naf"] in manufacturing
                      and str(r["commune"]).startswith("67"))
    found = open_establishments(day, territory=Scope("departement", ["67"]),
                                sectors=Scope("section", ["C"]), store=bas_rhin)
    assert found["siret"].to_pylist() == expected
    assert 50 < len(expected) < len(rows)
    assert by_siret([], bas_rhin).num_rows == 0
    assert open_establishments(dt.date(1899, 12, 31), store=bas_rhin).num_rows == 0
    # the same date written JJ/MM/AAAA, the scope split in two: the same answer
    by_parts = open_establishments(
        "01/01/2015",
        territory=[Scope("region", ["44"]), Scope("commune", ["67482"])],
        sectors=[Scope("division", [f"{d}" for d in range(10, 34)])],
        store=bas_rhin,
    )
    assert by_parts["siret"].to_pylist() == expected
    # a sous-classe in its compact spelling
    decolletage = open_establishments(day, sectors=Scope("sous-classe", ["2562A"]), store=bas_rhin)
    assert set(decolletage["naf"].to_pylist()) <= {"25.62A"}


def test_scope_errors_are_french_and_name_the_value(bas_rhin: Path) -> None:
    with pytest.raises(InputError, match="niveau territorial inconnu : 'canton'"):
        open_establishments(dt.date(2015, 1, 1), territory=Scope("canton", ["6701"]), store=bas_rhin)
    with pytest.raises(InputError, match="niveau NAF inconnu : 'famille'"):
        open_establishments(dt.date(2015, 1, 1), sectors=Scope("famille", ["25"]), store=bas_rhin)
    with pytest.raises(UnknownCodeError):
        open_establishments(dt.date(2015, 1, 1), sectors=Scope("division", ["34"]), store=bas_rhin)
    with pytest.raises(InputError, match=r"code NAF '25\.62A' de niveau sous-classe, pas division"):
        open_establishments(dt.date(2015, 1, 1), sectors=Scope("division", ["25.62A"]),
                            store=bas_rhin)
    with pytest.raises(InputError, match="date invalide : '31/02/2015'"):
        open_establishments("31/02/2015", store=bas_rhin)


def test_one_row_per_siret_the_latest_period(tmp_path: Path) -> None:
    store = tmp_path / "store"
    FabricStore.open(store).import_files([write_periods(tmp_path / "p.parquet")], format="sirene")
    (latest,) = by_siret([PERIODS_SIRET], store).to_pylist()
    assert (latest["valid_from"], latest["active"], latest["naf"]) == (
        dt.date(2015, 5, 1), False, "25.62B")
    (open_then,) = open_establishments(dt.date(2005, 6, 1), store=store).to_pylist()
    assert (open_then["valid_from"], open_then["naf"]) == (dt.date(2001, 1, 1), "25.62A")
    assert open_establishments(dt.date(2016, 1, 1), store=store).num_rows == 0


def test_a_store_never_created_answers_empty_and_stays_absent(tmp_path: Path) -> None:
    absent = tmp_path / "nowhere"
    assert not holds_establishments(absent)
    assert by_siret(["02638021200147"], absent).schema == ESTABLISHMENT_FIELDS
    assert open_establishments(dt.date(2020, 1, 1), store=absent).num_rows == 0
    assert not absent.exists()
    FabricStore.open(absent)
    assert not holds_establishments(absent)  # created, but no establishments yet


def test_a_damaged_file_is_one_french_line(tmp_path: Path) -> None:
    store = FabricStore.open(tmp_path / "store")
    store.import_files([write_csv(tmp_path / "s.csv", [sirene_row(1), sirene_row(2)])])
    assert holds_establishments(store)
    store.establishment_files()[0].write_bytes(b"PAR1 not parquet")
    with pytest.raises(EngineError) as caught:
        by_siren(["123450013"], store)
    assert str(caught.value) == DAMAGED
    assert str(tmp_path) not in str(caught.value)
