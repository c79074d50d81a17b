"""`grappe calls assign` and `grappe calls select` through CliRunner: checked outputs, bad rows told."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from review_check import check_assignment
from selection_check import check_selection
from typer.testing import CliRunner

from grappe.cli import app


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["calls", *args])
    return result.exit_code, result.stdout, result.stderr


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _review_files(tmp_path: Path) -> list[str]:
    reviewers = _write(tmp_path / "r.csv", "\ufeffreviewer;load_cap\nR1;2\nR2;\nR3;1\nR4;beaucoup\nR1;3\n")
    applications = _write(tmp_path / "a.csv", "application\nA1\nA2\nA3\n\nA1\n")
    affinity = _write(tmp_path / "f.csv", "reviewer;application;affinity\nR1;A1;0,9\nR2;A1;0.5\n"
                      "R3;A2;élevée\nR9;A1;1\nR2;A3;0,7\nR3;A3;0,4\nR1;A1;0,1\nR4;A2;0,3\nR2;A2;2e9\n",
                      encoding="cp1252")
    conflicts = _write(tmp_path / "c.csv", "reviewer,application\nR1,A3\nR2,A9\n")
    return ["--reviewers", str(reviewers), "--applications", str(applications), "--affinity",
            str(affinity), "--conflicts", str(conflicts)]


def test_assign_writes_an_exact_assignment_that_passes_the_check(tmp_path: Path) -> None:
    out = tmp_path / "affectation.csv"
    code, stdout, stderr = run("assign", *_review_files(tmp_path), "--per-application", "2",
                               "--load-cap", "3", "--out", str(out))
    assert code == 0, stderr
    rows = [(r["application"], r["reviewer"], float(r["affinity"])) for r in _rows(out)]
    caps = {"R1": 2, "R2": 3, "R3": 1}
    affinity = {("R1", "A1"): 0.9, ("R2", "A1"): 0.5, ("R2", "A3"): 0.7, ("R3", "A3"): 0.4}
    total = check_assignment(caps, ["A1", "A2", "A3"], affinity, {("R1", "A3")}, 2, rows)
    # A3 cannot have R1: R2 and R3 (1.1); A1 takes R1 and R2 (1.4); A2 what is left: R1, R2.
    assert total == pytest.approx(2.5)
    assert "Affinité totale : 2,500 — optimum exact" in stdout
    for where, reason in (
        ("r.csv, ligne 5, colonne load_cap ('beaucoup')", "plafond entier"),
        ("r.csv, ligne 6, colonne reviewer ('R1')", "en double (déjà ligne 2)"),
        ("a.csv, ligne 6, colonne application ('A1')", "en double (déjà ligne 2)"),
        ("f.csv, ligne 4, colonne affinity ('élevée')", "nombre attendu"),
        ("f.csv, ligne 5, colonne reviewer ('R9')", "évaluateur inconnu"),
        ("f.csv, ligne 8, colonne application ('A1')", "paire en double (déjà ligne 2)"),
        ("f.csv, ligne 9, colonne reviewer ('R4')", "évaluateur écarté (r.csv, ligne 5)"),
        ("f.csv, ligne 10, colonne affinity ('2e9')", "affinité hors de ±1000000"),
        ("c.csv, ligne 3, colonne application ('A9')", "candidature inconnue"),
    ):
        assert f"{where} : {reason}" in stderr


def test_an_impossible_assignment_names_its_constraint_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "affectation.csv"
    code, _, stderr = run("assign", *_review_files(tmp_path), "--per-application", "3",
                          "--load-cap", "3", "--out", str(out))
    assert code == 2
    assert "moins de 3 évaluateurs sans conflit" in stderr
    assert "A3 (2)" in stderr
    assert not out.exists()


def test_a_reviewer_without_a_cap_needs_load_cap(tmp_path: Path) -> None:
    out = tmp_path / "affectation.csv"
    code, _, stderr = run("assign", *_review_files(tmp_path), "--per-application", "1",
                          "--out", str(out), "--strict")
    assert code == 2
    assert "r.csv, ligne 3, colonne load_cap ('') : plafond absent" in stderr
    assert not out.exists()


APPLICATIONS = (
    "application;score;amount;territory\n"
    "A1;15;100 000;84\n"
    "A2;14,5;50000,5;84\n"
    "A3;12;70000;13\n"
    "A4;8;10000;13\n"
    "A5;x;1;13\n"
    "A6;9;12,345;13\n"
    "A7;9;0;13\n"
)
PARSED = {
    "A1": (15.0, 10_000_000, {"territory": "84"}),
    "A2": (14.5, 5_000_050, {"territory": "84"}),
    "A3": (12.0, 7_000_000, {"territory": "13"}),
    "A4": (8.0, 1_000_000, {"territory": "13"}),
}


def _cents(rows: list[dict[str, str]]) -> list[tuple[str, int]]:
    return [(r["application"], round(float(r["amount"]) * 100)) for r in rows]


def test_select_funds_the_best_total_score_and_reports_bad_rows(tmp_path: Path) -> None:
    applications = _write(tmp_path / "c.csv", APPLICATIONS)
    out = tmp_path / "selection.csv"
    code, stdout, stderr = run("select", "--applications", str(applications), "--budget", "150 000",
                               "--min-score", "10", "--out", str(out))
    assert code == 0, stderr
    rows = _rows(out)
    assert list(rows[0]) == ["application", "amount"]
    assert rows[0] == {"application": "A2", "amount": "50000.50"}
    score = check_selection(PARSED, 15_000_000, _cents(rows), min_score=10)
    assert score == 26.5  # A2 + A3: A1 (the best score) fits with neither
    assert "optimum prouvé" in stdout
    assert "c.csv, ligne 6, colonne score ('x') : note numérique attendue" in stderr
    assert "c.csv, ligne 7, colonne amount ('12,345') : au plus deux décimales" in stderr
    assert "c.csv, ligne 8, colonne amount ('0') : montant demandé nul" in stderr


def test_select_with_partial_funding_and_quotas(tmp_path: Path) -> None:
    applications = _write(tmp_path / "c.csv", APPLICATIONS)
    out = tmp_path / "selection.xlsx"
    code, stdout, stderr = run("select", "--applications", str(applications), "--budget", "150000",
                               "--min-score", "10", "--partial", "--out", str(out))
    assert code == 0, stderr
    sheet = list(load_workbook(out).active.iter_rows(values_only=True))
    assert sheet[0] == ("Candidature", "Montant (€)")
    funded = [(a, round(float(v) * 100)) for a, v in sheet[1:]]
    score = check_selection(PARSED, 15_000_000, funded, min_score=10, partial=True)
    assert score == pytest.approx(26.5 + 15 * 29_999.50 / 100_000)  # A2, A3 and the rest to A1
    assert "A1 financée en partie (29\u202f999,50 € sur 100\u202f000,00 €)" in stdout
    out_csv = tmp_path / "quota.csv"
    code, _, stderr = run("select", "--applications", str(applications), "--budget", "150000",
                          "--max-share", "0.5", "--out", str(out_csv))
    assert code == 0, stderr
    assert check_selection(PARSED, 15_000_000, _cents(_rows(out_csv)), max_share=0.5) == 26.5


def test_a_bad_budget_is_refused_before_reading(tmp_path: Path) -> None:
    applications = _write(tmp_path / "c.csv", APPLICATIONS)
    code, _, stderr = run("select", "--applications", str(applications), "--budget", "beaucoup",
                          "--out", str(tmp_path / "s.csv"))
    assert code == 2
    assert "--budget 'beaucoup' : montant en euros attendu" in stderr
    assert not (tmp_path / "s.csv").exists()
