"""Zones d'emploi 2020: import of INSEE's composition table, validation, atomic writes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import openpyxl
import pyarrow.compute as pc
import pytest
from _scripts import load_script

from grappe.config import get_settings
from grappe.errors import FileFormatError, InputError
from grappe.refdata import territories as t
from grappe.refdata._files import data_path

HEADER = ("CODGEO", "LIBGEO", "ZE2020", "LIBZE2020", "ZE2020_PARTIE_REG", "DEP", "REG")


@pytest.fixture(scope="module")
def ze_home(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The real INSEE table imported once into a data directory of its own."""
    home = tmp_path_factory.mktemp("ze_home")
    result = t.import_ze(real_data / "insee_communes_ze2020_geo2022.xlsx", home=home)
    return home, result


@pytest.fixture
def imported(ze_home: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("GRAPPE_HOME", str(ze_home[0]))
    get_settings.cache_clear()
    return ze_home[1]


def _xlsx(path: Path, rows: list[tuple[object, ...]], sheet: str = t.ZE_SHEET,
          header: tuple[str, ...] = HEADER) -> Path:
    workbook = openpyxl.Workbook()
    sheet_ = workbook.active
    assert sheet_ is not None
    sheet_.title = sheet
    for line in ("Zones d'emploi 2020", "France", "Géographie", "Insee", "Libellés"):
        sheet_.append((line,))
    sheet_.append(header)
    for row in rows:
        sheet_.append(row)
    workbook.save(path)
    return path


def test_import_real_table(imported: dict) -> None:
    assert imported["rows"] == 34_955
    assert imported["zones"] == 306
    assert imported["metropolitan_zones"] == 287
    assert imported["unknown_communes"] == 0
    assert 34_800 < imported["communes"] <= imported["rows"]
    assert imported["communes_without_zone"] < 120  # overseas collectivités, recent de-mergers
    zones = t.zones_emploi()
    assert zones.schema.names == ["commune", "ze", "ze_name"]
    assert zones.num_rows == imported["communes"]
    assert len(pc.unique(zones["ze"])) == 306


def test_levels_names_and_centroids_with_ze(imported: dict) -> None:
    levels = {r["commune"]: r for r in t.commune_levels().to_pylist()}
    assert levels["01001"]["ze"] == "8405"
    assert levels["75056"]["ze"] == levels["92012"]["ze"]
    # Cluster places of the synthetic generator sit in their expected zones.
    assert t.names("ze")[levels["74010"]["ze"]] == "Annecy"
    assert t.names("ze")["8405"] == "Bourg en Bresse"
    ze = t.centroids("ze")
    assert ze.num_rows == 306
    assert ze["lon"].null_count == 0


def test_import_maps_old_codes_and_reports_unknown(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "ze.xlsx", [
        ("01001", "L'Abergement", "8405", "Bourg en Bresse", None, "01", "84"),
        ("74011", "Annecy-le-Vieux", "8409", "Annecy", None, "74", "84"),
        ("74010", "Annecy", "8409", "Annecy", None, "74", "84"),
        ("99999", "Nulle part", "8409", "Annecy", None, "99", "84"),
        (None, None, None, None, None, None, None),
    ])
    result = t.import_ze(path)
    assert result["rows"] == 4
    assert result["communes"] == 2
    assert result["zones"] == 2
    assert result["unknown_communes"] == 1
    assert result["unknown_codes"] == ["99999"]
    zones = t.zones_emploi().to_pylist()
    assert zones == [{"commune": "01001", "ze": "8405", "ze_name": "Bourg en Bresse"},
                     {"commune": "74010", "ze": "8409", "ze_name": "Annecy"}]
    # Importing again gives the same table.
    assert t.import_ze(path) == result
    assert t.zones_emploi().to_pylist() == zones


def test_bad_ze_code_names_line_and_column_and_keeps_old_file(tmp_path: Path) -> None:
    good = _xlsx(tmp_path / "good.xlsx", [("01001", "A", "8405", "Bourg", None, "01", "84")])
    t.import_ze(good)
    before = t.ze_path().read_bytes()
    bad = _xlsx(tmp_path / "bad.xlsx", [
        ("01001", "A", "8405", "Bourg", None, "01", "84"),
        ("01002", "B", "84X", "Bourg", None, "01", "84"),
    ])
    with pytest.raises(FileFormatError, match=r"ligne 8, colonne ZE2020 : '84X'"):
        t.import_ze(bad)
    assert t.ze_path().read_bytes() == before
    assert list(t.ze_path().parent.glob(".ze2020-*")) == []


def test_bad_commune_code_is_a_format_error(tmp_path: Path) -> None:
    bad = _xlsx(tmp_path / "bad.xlsx", [("1001", "A", "8405", "Bourg", None, "01", "84")])
    with pytest.raises(FileFormatError, match=r"ligne 7, colonne CODGEO : '1001'"):
        t.import_ze(bad)


def test_wrong_sheet_or_header_or_file(tmp_path: Path) -> None:
    other = _xlsx(tmp_path / "other.xlsx", [], sheet="Feuil1")
    with pytest.raises(FileFormatError, match="Composition_communale"):
        t.import_ze(other)
    header = _xlsx(tmp_path / "header.xlsx", [], header=("CODE", "NOM"))
    with pytest.raises(FileFormatError, match="CODGEO"):
        t.import_ze(header)
    empty = _xlsx(tmp_path / "empty.xlsx", [])
    with pytest.raises(FileFormatError, match="aucune ligne"):
        t.import_ze(empty)
    csv = tmp_path / "ze.xlsx"
    csv.write_text("CODGEO;ZE2020\n01001;8405\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="xlsx"):
        t.import_ze(csv)
    with pytest.raises(InputError, match="introuvable"):
        t.import_ze(tmp_path / "missing.xlsx")
    assert not t.ze_path().exists()


# --------------------------------------------------------------------------- packaged zones
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_zones_emploi.py"
PACKAGED = data_path("zones_emploi.parquet")


def test_packaged_zones_cover_every_current_commune_but_the_overseas_collectivites() -> None:
    assert not t.ze_imported()
    zones = t.zones_emploi()
    assert zones.schema.names == ["commune", "ze", "ze_name"]
    assert len(pc.unique(zones["ze"])) == 306
    current = {r["code"]: r["zone"] for r in t.communes().select(["code", "zone"]).to_pylist()}
    covered = set(zones["commune"].to_pylist())
    assert covered <= set(current)
    missing = set(current) - covered
    assert {current[c] for c in missing} == {"com"}
    assert len(covered) == 34_875
    assert len(missing) == 94
    by_commune = dict(zip(zones["commune"].to_pylist(), zones["ze"].to_pylist(), strict=True))
    # A commune whose 2022 code is now an old code (Conques-en-Rouergue, 12076 -> 12218)
    # gets its zone through the commune aliases.
    assert t.normalize_commune("12076") == "12218"
    assert "12076" not in by_commune
    assert t.names("ze")[by_commune["12218"]] == "Rodez"
    # Communes re-created since 2022 (L'Oie, Sainte-Florence) take their EPCI's zone.
    assert by_commune["85165"] == by_commune["85212"] == "5213"
    assert t.names("ze")[by_commune["74010"]] == "Annecy"


def test_imported_vintage_takes_precedence_over_the_packaged_one(tmp_path: Path) -> None:
    packaged = t.zones_emploi().num_rows
    path = _xlsx(tmp_path / "ze.xlsx", [("01001", "L'Abergement", "8499", "Nouvelle", None,
                                         "01", "84")])
    t.import_ze(path)
    assert t.ze_source() == "imported"
    assert t.zones_emploi().num_rows == 1
    assert t.names("ze") == {"8499": "Nouvelle"}
    assert t.commune_levels()["ze"].null_count == t.communes().num_rows - 1
    t.ze_path().unlink()
    assert t.ze_source() == "packaged"
    assert t.zones_emploi().num_rows == packaged


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script("build_zones_emploi")


def test_two_builds_give_the_same_bytes_as_the_package(
    script: ModuleType, real_data: Path, tmp_path: Path
) -> None:
    source = real_data / "insee_communes_ze2020_geo2022.xlsx"
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        stats = script.build(tmp_path / name, source)
    one, two = (tmp_path / n / "zones_emploi.parquet" for n in ("one", "two"))
    assert one.read_bytes() == two.read_bytes() == PACKAGED.read_bytes()
    assert (stats["merged_rows"], stats["communes_from_epci"], stats["unknown_communes"]) == (
        92, 7, 0)
    recorded = json.loads(data_path("PROVENANCE.json").read_text("utf-8"))["files"]
    rebuilt = json.loads((tmp_path / "one" / "PROVENANCE.json").read_text("utf-8"))["files"]
    entry = rebuilt["zones_emploi.parquet"]
    assert entry == recorded["zones_emploi.parquet"]
    source_entry = entry["sources"][0]
    assert source_entry["file"] == "real/insee_communes_ze2020_geo2022.xlsx"
    assert "INSEE" in source_entry["origin"]
    assert "Etalab 2.0" in source_entry["licence"]
    assert source_entry["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()


def test_check_mode_compares_with_the_package(real_data: Path, tmp_path: Path) -> None:
    env = {**os.environ, "GRAPPE_SHARED_DATA": str(real_data.parent)}
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True,
                          text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "identical to a rebuild" in done.stdout
    # A changed source is caught: the check compares bytes and provenance.
    (tmp_path / "real").mkdir()
    changed = _xlsx(tmp_path / "real" / "insee_communes_ze2020_geo2022.xlsx",
                    [("01001", "L'Abergement", "8405", "Bourg en Bresse", None, "01", "84")])
    done = subprocess.run([sys.executable, str(SCRIPT), "--check", "--source", str(changed)],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode != 0
    assert "differs from a rebuild" in done.stderr
