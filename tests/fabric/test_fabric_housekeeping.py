"""`grappe fabric quarantine | remove` and dates in `--at`, on real stores through CliRunner."""

from __future__ import annotations

import csv
import fcntl
import io
import re
from pathlib import Path

import openpyxl
import pytest
from fabrickit import sirene_row, write_csv
from typer.testing import CliRunner

from grappe.cli import app
from grappe.errors import EngineError, InputError
from grappe.fabric import FabricStore
from grappe.kit.dates import option_date, parse_date

runner = CliRunner()


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Two sources: a.csv with two quarantined rows (one a formula), b.csv with one."""
    a = write_csv(tmp_path / "a.csv", [sirene_row(i) for i in range(3)] + [
        sirene_row(7, codeCommuneEtablissement="=1+1"),
        sirene_row(8, activitePrincipaleEtablissement="99.99Z"),
    ])
    b = write_csv(tmp_path / "b.csv", [sirene_row(20 + i, codeCommuneEtablissement="38185",
                                                     activitePrincipaleEtablissement="47.11B")
                                          for i in range(4)] + [
        sirene_row(30, dateCreationEtablissement="2001-13-45"),
    ])
    path = tmp_path / "store"
    FabricStore.open(path).import_files([a, b])
    return path


def test_quarantine_lists_file_line_column_value_reason(store: Path) -> None:
    result = runner.invoke(app, ["fabric", "quarantine", "--store", str(store)])
    assert result.exit_code == 0, result.output
    text = result.output
    for expected in ("a.csv", "codeCommuneEtablissement", "=1+1", "commune inconnue",
                     "activitePrincipaleEtablissement", "99.99Z", "code NAF inconnu",
                     "b.csv", "2001-13-45", "dateCreationEtablissement"):
        assert expected in text, expected
    assert str(store.parent) not in text  # file names on screen, not the paths


def test_quarantine_csv_goes_to_stdout_with_lines_in_file_order(store: Path) -> None:
    result = runner.invoke(app, ["fabric", "quarantine", "--store", str(store),
                                 "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(Path(r["file"]).name, r["line"], r["column"], r["value"], r["reason"])
            for r in rows] == [
        ("a.csv", "5", "codeCommuneEtablissement", "'=1+1", "commune inconnue"),
        ("a.csv", "6", "activitePrincipaleEtablissement", "99.99Z", "code NAF inconnu"),
        ("b.csv", "6", "dateCreationEtablissement", "2001-13-45",
         "date illisible (attendu AAAA-MM-JJ ou JJ/MM/AAAA)"),
    ]
    top = runner.invoke(app, ["fabric", "quarantine", "--store", str(store), "--format", "csv",
                              "--top", "1"])
    assert len(list(csv.DictReader(io.StringIO(top.stdout)))) == 1


def test_quarantine_xlsx_has_french_headers_and_safe_cells(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "quarantaine.xlsx"
    result = runner.invoke(app, ["fabric", "quarantine", "--store", str(store),
                                 "--source", "a.csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Source", "Fichier", "Ligne", "Colonne", "Valeur", "Motif"]
    assert [r[2:] for r in rows[1:]] == [
        [5, "codeCommuneEtablissement", "'=1+1", "commune inconnue"],
        [6, "activitePrincipaleEtablissement", "99.99Z", "code NAF inconnu"],
    ]


def test_quarantine_of_one_source_by_id_prefix(store: Path) -> None:
    source_id = FabricStore.open(store).resolve_source("b.csv")["source_id"]
    result = runner.invoke(app, ["fabric", "quarantine", "--store", str(store),
                                 "--source", source_id[:12], "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["source_id"] for r in rows] == [source_id]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "c.csv"], "source 'c.csv' absente du magasin store"),
        (["--format", "xlsx"], "--format xlsx : indiquez un fichier avec --out"),
        (["--format", "pdf"], "--format 'pdf' : valeur inconnue"),
        (["--out", "q.txt"], "--out q.txt : extension attendue .csv ou .xlsx"),
    ],
)
def test_quarantine_refuses_in_one_french_line(store: Path, args: list[str],
                                               message: str) -> None:
    result = runner.invoke(app, ["fabric", "quarantine", "--store", str(store), *args])
    assert result.exit_code == 2
    (line,) = _lines(result.output)
    assert line.startswith(f"Erreur : {message}"), line


def test_remove_takes_one_source_away_whole(store: Path) -> None:
    fabric = FabricStore.open(store)
    removed = fabric.resolve_source("a.csv")
    kept = fabric.resolve_source("b.csv")
    result = runner.invoke(app, ["fabric", "remove", "a.csv", "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "Source retirée : a.csv" in result.output
    info = fabric.info()
    assert [s["source_id"] for s in info.sources] == [kept["source_id"]]
    assert info.rows_by_kind["establishments"] == 4
    assert info.quarantine_by_reason == {"date illisible (attendu AAAA-MM-JJ ou JJ/MM/AAAA)": 1}
    assert set(fabric.quarantine()["source_id"].to_pylist()) == {kept["source_id"]}
    assert sorted(p.name for p in (store / "establishments").iterdir()) == [
        f"{kept['source_id']}.parquet"]
    shown = runner.invoke(app, ["fabric", "info", "--store", str(store)])
    assert "a.csv" not in shown.output
    assert removed["source_id"][:12] not in shown.output
    # the removed file imports again, as new
    (report,) = fabric.import_files([Path(removed["path"])])
    assert not report.skipped


def test_remove_an_unknown_or_ambiguous_source_says_so(store: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["fabric", "remove", "nope.csv", "--store", str(store)])
    assert result.exit_code == 2
    assert _lines(result.output) == ["Erreur : source 'nope.csv' absente du magasin store ; "
                                     "les sources et leurs identifiants : grappe fabric info"]
    other = tmp_path / "other"
    other.mkdir()
    same_name = write_csv(other / "a.csv", [sirene_row(40)])
    FabricStore.open(store).import_files([same_name])
    twice = runner.invoke(app, ["fabric", "remove", "a.csv", "--store", str(store)])
    assert twice.exit_code == 2
    assert "source 'a.csv' ambiguë dans le magasin store : 2 sources" in twice.output
    assert FabricStore.open(store).sources().num_rows == 3


def test_dates_as_imports_write_them() -> None:
    assert parse_date("31/12/2024") == parse_date("2024-12-31") == option_date("--at", "31/12/2024")
    with pytest.raises(ValueError, match="31/02/2024"):
        parse_date("31/02/2024")
    with pytest.raises(InputError, match="--at '2024-13-01' : date invalide, attendu AAAA-MM-JJ"):
        option_date("--at", "2024-13-01")


def test_imports_read_the_dates_options_read(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "fr.csv", [
        sirene_row(1, dateCreationEtablissement="03/02/2001"),
        sirene_row(2, dateCreationEtablissement="2001-02-03T00:00:00"),
        sirene_row(3, etatAdministratifEtablissement="F", dateDebut="31/12/2024"),
        sirene_row(4, dateCreationEtablissement="31/02/2001"),
    ])
    fabric = FabricStore.open(tmp_path / "store")
    (report,) = fabric.import_files([path])
    assert (report.rows_stored, report.rows_quarantined) == (3, 1)
    assert fabric.quarantine().select(["value", "reason"]).to_pylist() == [
        {"value": "31/02/2001", "reason": "date illisible (attendu AAAA-MM-JJ ou JJ/MM/AAAA)"}]
    assert fabric.info().dates == ("2001-02-03", "2024-12-31")
    assert fabric.latest_date() == option_date("--at", "31/12/2024")


def test_at_takes_a_french_date_and_warns_past_the_data(store: Path, tmp_path: Path) -> None:
    latest = FabricStore.open(store).latest_date()
    assert latest is not None
    common = ["indicators", "--store", str(store), "--level", "departement", "--sectors",
              "section", "--measure", "establishments"]
    inside = runner.invoke(app, [*common, "--at", latest.strftime("%d/%m/%Y"),
                                 "--out", str(tmp_path / "in.csv")])
    assert inside.exit_code == 0, inside.output
    assert "Attention" not in inside.output
    past = runner.invoke(app, [*common, "--at", "31/12/2030", "--out", str(tmp_path / "past.csv")])
    assert past.exit_code == 0, past.output
    assert (f"Attention : --at 2030-12-31 dépasse les données du magasin (dernière date "
            f"connue : {latest.isoformat()}).") in past.output
    wrong = runner.invoke(app, [*common, "--at", "31/02/2024"])
    assert wrong.exit_code == 2
    assert "--at '31/02/2024' : date invalide, attendu AAAA-MM-JJ ou JJ/MM/AAAA" in wrong.output


def test_remove_waits_for_the_writers_lock(store: Path) -> None:
    fabric = FabricStore.open(store, lock_timeout=0.3)
    with (store / ".import.lock").open("a+b") as handle:  # an import under way elsewhere
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(EngineError, match=re.escape("un autre import y écrit depuis plus de 0.3 s")):
            fabric.remove_source("a.csv")
        fcntl.flock(handle, fcntl.LOCK_UN)
    assert fabric.sources().num_rows == 2
    assert fabric.remove_source("a.csv").rows_quarantined == 2
    assert fabric.sources().num_rows == 1
