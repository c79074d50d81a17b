"""Edges of `grappe fabric import`: damaged gzip archives, several files with one refused,
Windows-1252, missing columns, directories, over-long lines and the date bounds."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from fabrickit import SIRENE_COLUMNS, sirene_row, write_csv
from typer.testing import CliRunner, Result

from grappe.cli import app
from grappe.errors import FileFormatError, InputError
from grappe.fabric import FabricStore
from grappe.fabric.formats import MAX_LINE_BYTES, R_TOO_LONG
from grappe.fabric.sniff import sniff

runner = CliRunner()


def _import(*args: str | Path) -> Result:
    return runner.invoke(app, ["fabric", "import", *map(str, args)])


def _info(store: Path) -> dict[str, object]:
    result = runner.invoke(app, ["fabric", "info", "--store", str(store), "--format", "json"])
    assert result.exit_code == 0, result.output
    info: dict[str, object] = json.loads(result.output)
    return info


def _error_line(result: Result) -> str:
    """The one error line of a refused command (no traceback, no 'Aborted.')."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.startswith("Erreur :")]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    assert "Aborted" not in result.output
    return lines[0]


def _gzip_variants(tmp_path: Path) -> dict[str, Path]:
    """A truncated and a corrupt archive, each small (the head fails) and large (the body
    fails after the first 4 MB that the format detection reads)."""
    small = write_csv(tmp_path / "small.csv", [sirene_row(i) for i in range(200)]).read_bytes()
    large = write_csv(tmp_path / "large.csv",
                      [sirene_row(i) for i in range(50_000)]).read_bytes()
    assert len(large) > 5 * 1024 * 1024
    variants = {}
    for size, data in (("small", small), ("large", large)):
        packed = gzip.compress(data, mtime=0)
        truncated = tmp_path / f"{size}-truncated.csv.gz"
        truncated.write_bytes(packed[: len(packed) * 2 // 3])
        damaged = bytearray(packed)
        # bytes flipped in the last compressed block: the head still reads
        at = len(packed) - 200 if size == "large" else len(packed) // 2
        for i in range(at, at + 64):
            damaged[i] ^= 0xFF
        corrupt = tmp_path / f"{size}-corrupt.csv.gz"
        corrupt.write_bytes(bytes(damaged))
        variants[f"{size}-truncated"] = truncated
        variants[f"{size}-corrupt"] = corrupt
    return variants


def test_damaged_gzip_is_one_french_line_and_exit_2(tmp_path: Path) -> None:
    store = tmp_path / "store"
    for name, path in _gzip_variants(tmp_path).items():
        result = _import(path, "--store", store)
        assert result.exit_code == 2, (name, result.output)
        line = _error_line(result)
        what = "tronquée" if "truncated" in name else "corrompue"
        assert f"{path} : archive gzip {what}" in line, line
    assert _info(store)["sources"] == []


def test_a_sound_gzip_file_imports_with_its_line_numbers(tmp_path: Path) -> None:
    rows = [sirene_row(i) for i in range(5)] + [sirene_row(9, codeCommuneEtablissement="1")]
    plain = write_csv(tmp_path / "s.csv", rows)
    packed = tmp_path / "s.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([packed])
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (6, 5, 1)
    assert [q["line"] for q in store.quarantine().to_pylist()] == [7]


def test_a_refused_file_does_not_stop_the_others(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", [sirene_row(i) for i in range(3)])
    other = write_csv(tmp_path / "other.csv", [sirene_row(i) for i in range(10, 12)])
    bad = _gzip_variants(tmp_path)["large-corrupt"]
    store = tmp_path / "store"
    result = _import(good, bad, other, "--store", store)
    assert result.exit_code == 2, result.output
    # the summary names every file, the refused one included, then the error line
    assert "good.csv" in result.output
    assert "large-corrupt.csv.gz │ refusé" in result.output
    assert "good.csv : lignes lues = lignes stockées + lignes en quarantaine : 3 = 3 + 0" \
        in result.output
    assert "other.csv : lignes lues = lignes stockées + lignes en quarantaine : 2 = 2 + 0" \
        in result.output
    assert "archive gzip corrompue" in _error_line(result)
    info = _info(store)
    assert [Path(str(s["path"])).name for s in info["sources"]] == [  # type: ignore[attr-defined]
        "good.csv", "other.csv"]
    # a header refused: the other files are imported all the same
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n", encoding="utf-8")
    third = write_csv(tmp_path / "third.csv", [sirene_row(i) for i in range(20, 21)])
    again = _import(odd, third, "--store", store)
    assert again.exit_code == 2
    assert "odd.csv : format non reconnu" in _error_line(again)
    assert len(_info(store)["sources"]) == 3  # type: ignore[arg-type]


def test_library_raises_by_default_and_reports_on_request(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", [sirene_row(i) for i in range(3)])
    store = FabricStore.open(tmp_path / "store")
    with pytest.raises(InputError, match="c'est un dossier"):
        store.import_files([good, tmp_path])
    assert store.sources().num_rows == 0  # a header refused: nothing imported
    first, second = store.import_files([tmp_path, good], errors="report")
    assert first.refused is not None
    assert "c'est un dossier" in first.refused
    assert second.refused is None
    assert second.rows_stored == 3


WINDOWS_NAMES = ("L’ŒUVRE DU DÉCOLLETAGE", "CAFÉ « CHEZ ŒDIPE » – 5 €", "BRÛLERIE‰")


@pytest.mark.parametrize("packed", [False, True])
def test_windows_1252_is_detected(tmp_path: Path, packed: bool) -> None:
    rows = [sirene_row(i, denominationUsuelleEtablissement=name)
            for i, name in enumerate(WINDOWS_NAMES)]
    path = write_csv(tmp_path / "w.csv", rows, delimiter=";", encoding="cp1252")
    assert b"\x92" in path.read_bytes()  # ’: a byte that ISO-8859-1 leaves to control codes
    if packed:
        path = path.rename(tmp_path / "w.csv.gz")
        path.write_bytes(gzip.compress(path.read_bytes()))
    assert sniff(path).encoding == "cp1252"
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([path])
    assert (report.rows_stored, report.rows_quarantined) == (3, 0)
    names = set(pa_names(store))
    assert names == set(WINDOWS_NAMES)


def pa_names(store: FabricStore) -> list[str]:
    import pyarrow.parquet as pq

    return [n for f in store.establishment_files()
            for n in pq.read_table(f, columns=["name"])["name"].to_pylist()]


@pytest.mark.parametrize("option", ["cp1252", "windows-1252", "latin-1", "utf-8"])
def test_encoding_option_accepts_windows_latin_and_utf8(tmp_path: Path, option: str) -> None:
    encoding = "utf-8" if option == "utf-8" else "cp1252"
    name = "CAFÉ DE L’ÉTOILE" if option != "latin-1" else "CAFÉ DE L'ÉTOILE"
    path = write_csv(tmp_path / "e.csv", [sirene_row(1, denominationUsuelleEtablissement=name)],
                     encoding=encoding)
    result = _import(path, "--encoding", option, "--store", tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert pa_names(FabricStore.open(tmp_path / "store")) == [name]


def test_missing_column_is_named_in_one_short_line(tmp_path: Path) -> None:
    columns = [c for c in SIRENE_COLUMNS if c != "codeCommuneEtablissement"]
    path = write_csv(tmp_path / "m.csv", [sirene_row(1)], columns=columns)
    detected = _import(path, "--store", tmp_path / "store")
    assert detected.exit_code == 2
    line = _error_line(detected)
    assert line.endswith("format non reconnu ; pour le format sirene, colonne manquante : "
                         "codeCommuneEtablissement"), line
    assert len(line) < 200
    forced = _import(path, "--format", "sirene", "--store", tmp_path / "store")
    line = _error_line(forced)
    assert "n'est pas au format sirene : colonne manquante : codeCommuneEtablissement ; " \
        "trouvé : siren,nic,siret" in line
    table = tmp_path / "t.csv"
    table.write_text("territory_level,territory_code,naf,establishments\n"
                     "commune,74081,25.62A,3\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"pour le format table, colonne manquante : year$"):
        FabricStore.open(tmp_path / "store").import_files([table])


def test_a_directory_is_called_a_directory(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    result = _import(folder, "--store", tmp_path / "store")
    assert result.exit_code == 2
    assert f"{folder} : c'est un dossier" in _error_line(result)
    missing = _import(tmp_path / "missing.csv", "--store", tmp_path / "store")
    assert "fichier introuvable" in _error_line(missing)


def test_an_over_long_line_is_quarantined_as_over_long(tmp_path: Path) -> None:
    huge = "X" * (10 * 1024 * 1024)
    assert len(huge) > MAX_LINE_BYTES
    rows = [sirene_row(0), sirene_row(1, denominationUsuelleEtablissement=huge), sirene_row(2)]
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([write_csv(tmp_path / "long.csv", rows)])
    assert (report.rows_read, report.rows_stored, report.rows_quarantined) == (3, 2, 1)
    (row,) = store.quarantine().to_pylist()
    assert (row["line"], row["reason"]) == (3, R_TOO_LONG)
    assert R_TOO_LONG == "ligne CSV trop longue (plus de 8 Mio)"


def test_dates_and_years_start_in_1900(real_data: Path, tmp_path: Path) -> None:
    rows = [sirene_row(0, dateCreationEtablissement="1900-01-01"),
            sirene_row(1, dateCreationEtablissement="1850-06-01")]
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([write_csv(tmp_path / "d.csv", rows)])
    assert (report.rows_stored, report.rows_quarantined) == (1, 1)
    assert store.quarantine().to_pylist()[0]["reason"] == "date antérieure à 1900"
    # INSEE's own earliest date, 1900-01-01, is in the real file and is kept
    (real,) = store.import_files([real_data / "sirene_bas_rhin_2019_geocoded_latin1.csv"])
    reasons = {q["reason"] for q in store.quarantine(real.source_id).to_pylist()}
    assert "date antérieure à 1900" not in reasons
    assert store.info().dates[0] == "1900-01-01"
    urssaf = tmp_path / "u.csv"
    urssaf.write_text("Code commune;Code APE;Nombre d'établissements 1850\n74081;2562A;3\n",
                      encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"u\.csv : colonne \"Nombre d'établissements "
                       r"1850\" : année 1850 hors limites \(1900 à \d{4}\)"):
        store.import_files([urssaf])


def test_the_readme_states_the_bounds_of_the_code() -> None:
    from grappe.fabric.sqlkit import MIN_YEAR

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"longer than\n  {MAX_LINE_BYTES // 2**20} MiB is quarantined as over-long" in readme
    assert f"Dates and years run from {MIN_YEAR}" in readme
