"""`grappe partners suggest` through CliRunner on the real ANR projects: good rows, bad rows told."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from grappe.cli import app


@pytest.fixture
def registry(anr_registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the ANR registry as the CLI's database."""
    path = tmp_path / "registry.db"
    shutil.copy(anr_registry, path)
    monkeypatch.setenv("GRAPPE_DATABASE_URL", f"sqlite:///{path}")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["partners", "suggest", *args])
    return result.exit_code, result.stdout, result.stderr


def queries_csv(path: Path, names: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Organisation"])
        writer.writerows([name] for name in names)
    return path


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_good_rows_answered_unknown_ones_reported(registry: Path, tmp_path: Path) -> None:
    queries = queries_csv(tmp_path / "demandes.csv", ["chu  DE LILLE", "Société inconnue", "BIOCYTEX"])
    out = tmp_path / "suggestions.csv"
    queries.write_text(queries.read_text(encoding="utf-8") + "Météo-France\n", encoding="utf-8")
    code, stdout, stderr = run("--for", str(queries), "--top", "3", "--out", str(out))
    assert code == 0, stderr
    rows = read(out)
    assert list(rows[0]) == ["query", "suggestion", "rank", "score", "reasons"]
    assert [(r["query"], r["rank"]) for r in rows] == [
        ("chu  DE LILLE", "1"), ("chu  DE LILLE", "2"), ("chu  DE LILLE", "3"),
        ("BIOCYTEX", "1"), ("BIOCYTEX", "2"), ("BIOCYTEX", "3"),
    ]
    assert all(0 < float(r["score"]) <= 1 for r in rows)
    # BIOCYTEX's one project was with these three: renewing a partnership is a suggestion.
    before = {"AP-H de Marseille", "Université d'Aix-Marseille", "DIAGNOSTICA STAGO SAS"}
    mine = {r["suggestion"]: r["reasons"] for r in rows if r["query"] == "BIOCYTEX"}
    assert {"AP-H de Marseille", "Université d'Aix-Marseille"} <= set(mine)
    for name, reasons in mine.items():
        assert ("a déjà travaillé avec BIOCYTEX" in reasons) == (name in before)
        assert "dans la même commune" in reasons  # all in Marseille
    assert "demandes.csv, ligne 3, colonne organisation ('Société inconnue') : aucune organisation" in stderr
    assert "ligne 5, colonne organisation ('Météo-France') : nom porté par 2 organisations (" in stderr
    assert "6 suggestions pour 2 demande(s) sur 4" in stdout


def test_xlsx_queries_by_id_and_xlsx_output(registry: Path, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["organisation"])
    sheet.append([2])  # BIOCYTEX's id, a number in the sheet
    book.save(tmp_path / "demandes.xlsx")
    out = tmp_path / "suggestions.xlsx"
    code, _, stderr = run("--for", str(tmp_path / "demandes.xlsx"), "--top", "2", "--out", str(out))
    assert code == 0, stderr
    rows = list(load_workbook(out).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == ("Demande", "Partenaire suggéré", "Rang", "Score", "Raisons")
    assert [row[2] for row in rows[1:]] == [1, 2]


def test_scope_cluster_without_membership_is_reported_and_the_file_keeps_its_header(
    registry: Path, tmp_path: Path
) -> None:
    queries = queries_csv(tmp_path / "demandes.csv", ["BIOCYTEX"])
    out = tmp_path / "suggestions.csv"
    code, _, stderr = run("--for", str(queries), "--top", "3", "--scope", "cluster", "--out", str(out))
    assert code == 0
    assert "membre d'aucune grappe" in stderr
    assert out.read_text(encoding="utf-8").strip() == "query,suggestion,rank,score,reasons"
    code, _, stderr = run("--for", str(queries), "--top", "3", "--scope", "région", "--out", str(out))
    assert code == 2
    assert "--scope 'région' : valeur inconnue ; attendu : cluster, clusters, all" in stderr
    code, _, stderr = run("--for", str(queries), "--top", "3", "--store", str(tmp_path / "nulle"),
                          "--out", str(out))
    assert code == 2
    assert "nulle : magasin introuvable" in stderr


def test_a_file_without_the_query_column_is_refused(registry: Path, tmp_path: Path) -> None:
    bad = tmp_path / "demandes.csv"
    bad.write_text("nom\nBIOCYTEX\n", encoding="utf-8")
    code, _, stderr = run("--for", str(bad), "--top", "3", "--out", str(tmp_path / "s.csv"))
    assert code == 2
    assert "colonne(s) organisation manquante(s)" in stderr
    assert not (tmp_path / "s.csv").exists()
