"""`grappe detect` through Typer's CliRunner: the table, the files, the map, the errors."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _candidates_fabric import synthetic_store
from typer.testing import CliRunner

from grappe.cli import _console, app
from grappe.detection.aggregate import aggregate
from grappe.detection.ranking import DEFAULT_MIN_EMPLOYMENT, DEFAULT_MIN_ESTABLISHMENTS
from grappe.detection.sector_groups import traded_sectors
from grappe.fabric.synth import PlantedCluster
from grappe.refdata import territories

FABRIC_ROWS = 100_000


@pytest.fixture(scope="module")
def fabric(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[PlantedCluster]]:
    return synthetic_store(tmp_path_factory.getbasetemp())


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["detect", *args])
    return result.exit_code, result.stdout, result.stderr


def test_prints_the_top_candidates_at_ze_level(
    fabric: tuple[Path, list[PlantedCluster]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_console.console, "_width", 220)  # a wide terminal: one line per row
    # No `grappe refdata import-ze`: the zones d'emploi 2020 ship with the package.
    assert not territories.ze_imported()
    code, out, err = run("--store", str(fabric[0]), "--level", "ze", "--top", "10",
                         "--permutations", "99", "--seed", "3")
    assert code == 0, err
    for header in ("rang", "territoire", "secteur", "QL", "étoiles", "p ajustée", "score"):
        assert header in out
    # the title states the scope: traded sectors only by default (issue 16)
    printed = len(re.findall(r"^│ +\d+ │", out, re.M))  # at most the 10 asked for
    assert 0 < printed <= 10
    assert f"Grappes potentielles : les {printed} meilleurs candidats (niveau ze, activités exposées)" in out
    # the two largest planted clusters lead at this size
    assert "Décolletage" in out
    assert "Oyonnax" in out


def test_writes_every_format_and_a_map(
    fabric: tuple[Path, list[PlantedCluster]], tmp_path: Path
) -> None:
    common = ("--store", str(fabric[0]), "--level", "epci", "--permutations", "99")
    out_csv = tmp_path / "candidats.csv"
    code, _, err = run(*common, "--out", str(out_csv), "--map", str(tmp_path / "carte.svg"))
    assert code == 0, err
    frame = pd.read_csv(out_csv, dtype={"territory_code": str, "sector": str})
    assert frame["rank"].iloc[0] == 1
    # the default minimum mass: exactly the cells with 10 employer establishments and 50 jobs
    counts = aggregate(fabric[0], "epci", "sous-classe")
    assert counts.employer_establishments is not None
    heavy = (counts.employer_establishments >= DEFAULT_MIN_ESTABLISHMENTS).multiply(
        counts.employment >= DEFAULT_MIN_EMPLOYMENT).tocsc()
    traded = traded_sectors(counts.sectors.tolist(), None)
    assert 5 <= len(frame) == heavy[:, traded].sum()
    assert (frame["employer_establishments"] >= DEFAULT_MIN_ESTABLISHMENTS).all()
    assert (frame["employment"] >= DEFAULT_MIN_EMPLOYMENT).all()
    assert frame["basis"].eq("employment").all()
    assert frame["reasons"].str.contains("établissements employeurs").all()
    assert frame["traded"].all()  # local sectors are left out by default
    assert "candidats écrits" in err
    assert "Carte écrite" in err
    assert (tmp_path / "carte.svg").read_text(encoding="utf-8").startswith("<?xml")
    out_geojson = tmp_path / "candidats.json"
    code, _, err = run(*common, "--out", str(out_geojson), "--format", "geojson")
    assert code == 0, err
    collection = json.loads(out_geojson.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert collection["features"][0]["properties"]["rank"] == 1
    assert len(collection["features"]) == len(frame)
    assert min(f["properties"]["employer_establishments"] for f in collection["features"]) >= (
        DEFAULT_MIN_ESTABLISHMENTS)
    # a lower minimum, given on the command line, keeps more candidates, none below it
    code, out, err = run(*common, "--format", "json", "--min-establishments", "3",
                         "--min-employment", "10")
    assert code == 0, err
    lower = pd.DataFrame(json.loads(out))
    assert len(lower) > len(frame)
    assert (lower["employer_establishments"] >= 3).all()
    assert (lower["employment"] >= 10).all()
    # the same seed gives the same file
    first = frame.to_csv(index=False)
    code, _, err = run(*common, "--out", str(out_csv))
    assert code == 0, err
    again = pd.read_csv(out_csv, dtype={"territory_code": str, "sector": str})
    assert again.to_csv(index=False) == first


def test_include_local_and_cluster_categories(
    fabric: tuple[Path, list[PlantedCluster]], tmp_path: Path
) -> None:
    from grappe.refdata import clusters

    common = ("--store", str(fabric[0]), "--level", "departement", "--permutations", "0")
    out = tmp_path / "tout.csv"
    # every presence (the fabric is 1/150 of France): local sectors of any size come back
    code, _, err = run(*common, "--include-local", "--min-establishments", "0",
                       "--min-employment", "0", "--out", str(out))
    assert code == 0, err
    frame = pd.read_csv(out, dtype={"territory_code": str, "sector": str})
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    assert (frame["traded"] == frame["sector"].map(clusters.traded)).all()
    assert {"85.20Z", "43.22A"} <= set(frame.loc[~frame["traded"], "sector"])
    out = tmp_path / "grappes.json"
    code, _, err = run(*common, "--sectors", "clusters", "--out", str(out))
    assert code == 0, err
    records = json.loads(out.read_text(encoding="utf-8"))
    assert {r["sector"] for r in records} <= set(clusters.members())
    assert all(r["traded"] is True for r in records)
    assert any(r["sector_name"] == "Travail des métaux, décolletage et outillage" for r in records)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--level", "canton"), "--level 'canton' : valeur inconnue"),
        (("--sectors", "rayon"), "--sectors 'rayon' : valeur inconnue"),
        (("--engine", "oracle"), "--engine 'oracle' : valeur inconnue"),
        (("--alpha", "2"), "--alpha 2.0 : attendu un taux"),
        (("--format", "ods"), "format='ods' is not one of"),
        (("--format", "parquet"), "--format parquet : indiquez un fichier avec --out"),
        (("--map", "carte.pdf"), "--map carte.pdf : extension attendue .png ou .svg"),
        (("--at", "2024-13-01"), "--at '2024-13-01' : date invalide"),
    ],
)
def test_wrong_options_fail_with_a_clear_message(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    code, _, err = run("--store", str(tmp_path), "--level", "epci", *args)
    assert code == 2
    assert message in " ".join(err.split())


def test_missing_store(tmp_path: Path) -> None:
    code, _, err = run("--store", str(tmp_path / "nowhere"), "--level", "epci")
    assert code == 2
    assert "magasin introuvable" in err


def test_xlsx_and_french_excel_csv_for_people(
    fabric: tuple[Path, list[PlantedCluster]], tmp_path: Path
) -> None:
    import openpyxl

    common = ("--store", str(fabric[0]), "--level", "ze", "--permutations", "0")
    code, out, err = run(*common, "--format", "csv")
    assert code == 0, err
    programs = pd.read_csv(io.StringIO(out), dtype={"territory_code": str, "sector": str})
    assert len(programs) >= 5
    # XLSX: French headers, frozen header row, number formats, names beside the codes
    book_path = tmp_path / "candidats.xlsx"
    code, _, err = run(*common, "--out", str(book_path))  # the suffix says xlsx
    assert code == 0, err
    sheet = openpyxl.load_workbook(book_path).active
    assert sheet is not None
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[:7] == ["Rang", "Niveau territorial", "Code territoire", "Territoire",
                          "Niveau sectoriel", "Code secteur", "Secteur"]
    assert len(header) == len(programs.columns)
    assert all(c.font.bold for c in sheet[1])
    first = dict(zip(header, sheet[2], strict=True))
    assert first["Territoire"].value == programs["territory_name"].iloc[0]
    assert first["Secteur"].value == programs["sector_name"].iloc[0]
    assert first["Score"].value == pytest.approx(programs["score"].iloc[0], rel=1e-12)
    assert first["Score"].number_format == "0.0000"
    assert first["Part de PME"].number_format == "0.0%"
    assert first["Activité exposée"].value is True
    assert sheet.max_row == len(programs) + 1
    # --top keeps the best in the file too
    code, _, err = run(*common, "--out", str(book_path), "--format", "xlsx", "--top", "3")
    assert code == 0, err
    assert openpyxl.load_workbook(book_path).active.max_row == 4  # type: ignore[union-attr]
    assert "3 candidats écrits" in err
    # the French Excel CSV: ';', decimal comma, BOM, French headers, oui/non
    excel = tmp_path / "candidats.csv"
    code, _, err = run(*common, "--out", str(excel), "--format", "csv-excel")
    assert code == 0, err
    raw = excel.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(excel, sep=";", decimal=",", encoding="utf-8-sig",
                       dtype={"Code territoire": str, "Code secteur": str})
    assert list(back.columns)[:4] == ["Rang", "Niveau territorial", "Code territoire", "Territoire"]
    assert set(back["Activité exposée"]) == {"oui"}
    np.testing.assert_allclose(back["Score"], programs["score"], rtol=1e-12)
    # formats that need a file
    code, _, err = run(*common, "--format", "xlsx")
    assert code == 2
    assert "--format xlsx : indiquez un fichier avec --out" in err


def test_xlsx_past_excel_rows_is_refused_naming_top_or_csv(tmp_path: Path) -> None:
    from grappe.detection.candidates import XLSX_HINT
    from grappe.detection.indicators import write_frame
    from grappe.errors import InputError
    from grappe.kit.export import XLSX_MAX_ROWS

    frame = pd.DataFrame({"rank": np.arange(1, XLSX_MAX_ROWS + 1)})
    with pytest.raises(InputError, match=r"1 048 576 lignes.*--top N ou écrivez un CSV"):
        write_frame(frame, tmp_path / "big.xlsx", "xlsx", xlsx_hint=XLSX_HINT)
    assert not (tmp_path / "big.xlsx").exists()
    write_frame(frame.head(XLSX_MAX_ROWS - 1).head(3), tmp_path / "ok.xlsx", "xlsx")
    assert (tmp_path / "ok.xlsx").is_file()


def test_the_title_counts_the_candidates_printed_not_those_asked_for(
    fabric: tuple[Path, list[PlantedCluster]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_console.console, "_width", 220)
    code, out, err = run("--store", str(fabric[0]), "--level", "ze", "--top", "100000",
                         "--permutations", "99", "--seed", "3")
    assert code == 0, err
    printed = len(re.findall(r"^│ +\d+ │", out, re.M))
    assert 0 < printed < 100000
    assert f"Grappes potentielles : les {printed} meilleurs candidats (niveau ze" in out
