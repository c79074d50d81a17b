"""`grappe partners schedule` through CliRunner: spreadsheets in, a checked schedule out, bad rows told."""

from __future__ import annotations

import csv
from pathlib import Path

from b2b_check import check_schedule
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from grappe.cli import app

PARTICIPANTS = [
    ("Société d’Usinage", ""),
    ("Béton & Fils", "2"),
    ("Chaudronnerie", "1 3"),
    ("Décolletage", ""),
    ("Égouttage", "9"),  # out of range: refused with its wishes
]
WISHES = [
    ("Société d’Usinage", "Béton & Fils", "3"),
    ("Béton & Fils", "Société d’Usinage", "2"),
    ("Société d’Usinage", "Chaudronnerie", "2"),
    ("Chaudronnerie", "Décolletage", "4"),
    ("Décolletage", "Société d’Usinage", "1"),
    ("Décolletage", "Béton & Fils", "2,5"),  # not an integer
    ("Chaudronnerie", "Chaudronnerie", "1"),  # to oneself
    ("Société d’Usinage", "Égouttage", "5"),  # refused participant
    ("Inconnu", "Décolletage", "5"),  # unknown participant
    ("Société d’Usinage", "Béton & Fils", "1"),  # twice
]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["partners", "schedule", *args])
    return result.exit_code, result.stdout, result.stderr


def _french_csv(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> Path:
    """What a French spreadsheet program writes: `;`, Windows-1252."""
    with path.open("w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _xlsx(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([int(v) if v.isdigit() else v for v in row])
    book.save(path)
    return path


def _expected() -> tuple[dict[str, set[int]], dict[tuple[str, str], int]]:
    unavailable = {name: {int(s) for s in slots.split()} for name, slots in PARTICIPANTS[:4]}
    kept = {0, 1, 2, 3, 4}
    wishes = {(a, b): int(p) for i, (a, b, p) in enumerate(WISHES) if i in kept}
    return unavailable, wishes


def _options(participants: Path, wishes: Path, out: Path) -> list[str]:
    return ["--participants", str(participants), "--wishes", str(wishes), "--slots", "3",
            "--tables", "1", "--max-meetings", "2", "--out", str(out)]


def test_french_csv_files_give_a_schedule_that_passes_the_check(tmp_path: Path) -> None:
    participants = _french_csv(tmp_path / "participants.csv", ("participant", "unavailable_slots"),
                               PARTICIPANTS)
    wishes = _french_csv(tmp_path / "souhaits.csv", ("from", "to", "priority"), WISHES)
    out = tmp_path / "planning.csv"
    code, stdout, stderr = run(*_options(participants, wishes, out))
    assert code == 0, stderr
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["slot", "table", "participant_a", "participant_b"]
    unavailable, wished = _expected()
    satisfied = check_schedule(unavailable, wished, 3, 1, 2, rows)
    # Béton (away in 2) + Usinage (5) in 1 or 3, Chaudronnerie (free in 2 only) + Décolletage (4)
    # in 2, and Décolletage + Usinage (1) in the slot left: 10, the optimum.
    assert satisfied == 10
    assert "Priorités satisfaites : 10" in stdout
    assert "optimal prouvé" in stdout
    for line, column, reason in (
        ("participants.csv, ligne 6", "unavailable_slots", "créneau hors de 1..3"),
        ("souhaits.csv, ligne 7", "priority", "priorité entière positive attendue"),
        ("souhaits.csv, ligne 8", "to", "ne peut pas se souhaiter lui-même"),
        ("souhaits.csv, ligne 9", "to", "participant écarté (participants.csv, ligne 6)"),
        ("souhaits.csv, ligne 10", "from", "participant inconnu"),
        ("souhaits.csv, ligne 11", "to", "souhait en double (déjà ligne 2)"),
    ):
        assert f"{line}, colonne {column}" in stderr
        assert reason in stderr
    assert "6 ligne(s) écartée(s)" in stderr


def test_xlsx_files_in_and_out(tmp_path: Path) -> None:
    participants = _xlsx(tmp_path / "p.xlsx", ("Participant", "Unavailable_slots"), PARTICIPANTS[:4])
    wishes = _xlsx(tmp_path / "w.xlsx", ("from", "to", "priority"), WISHES[:5])
    out = tmp_path / "planning.xlsx"
    code, _, stderr = run(*_options(participants, wishes, out))
    assert code == 0, stderr
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Créneau", "Table", "Participant A", "Participant B")
    unavailable, wished = _expected()
    named = [dict(zip(("slot", "table", "participant_a", "participant_b"), map(str, r), strict=True))
             for r in rows[1:]]
    assert check_schedule(unavailable, wished, 3, 1, 2, named) == 10


def test_strict_writes_nothing_when_a_row_is_refused(tmp_path: Path) -> None:
    participants = _french_csv(tmp_path / "p.csv", ("participant", "unavailable_slots"), PARTICIPANTS)
    wishes = _french_csv(tmp_path / "w.csv", ("from", "to", "priority"), WISHES)
    out = tmp_path / "planning.csv"
    code, _, stderr = run(*_options(participants, wishes, out), "--strict")
    assert code == 2
    assert "rien n'est écrit (--strict)" in stderr
    assert not out.exists()


def test_a_missing_column_or_file_is_one_french_line_and_status_2(tmp_path: Path) -> None:
    participants = _french_csv(tmp_path / "p.csv", ("participant", "unavailable_slots"), PARTICIPANTS)
    wishes = _french_csv(tmp_path / "w.csv", ("de", "vers", "priority"), WISHES)
    out = tmp_path / "planning.csv"
    code, _, stderr = run(*_options(participants, wishes, out))
    assert code == 2
    assert "w.csv, ligne 1 : colonne(s) from, to manquante(s)" in stderr
    assert "Traceback" not in stderr
    assert not out.exists()
    code, _, stderr = run(*_options(tmp_path / "absent.csv", wishes, out))
    assert code == 2
    assert "introuvable" in stderr


def test_nothing_left_to_schedule_is_status_2_after_the_rows_are_told(tmp_path: Path) -> None:
    participants = _french_csv(tmp_path / "p.csv", ("participant", "unavailable_slots"), PARTICIPANTS)
    wishes = _french_csv(tmp_path / "w.csv", ("from", "to", "priority"), WISHES[5:7])
    out = tmp_path / "planning.csv"
    code, _, stderr = run(*_options(participants, wishes, out))
    assert code == 2
    assert "w.csv, ligne 2, colonne priority ('2,5')" in stderr
    assert "w.csv : aucun souhait valable ; rien à calculer" in stderr
    assert not out.exists()


def test_an_empty_schedule_is_a_header_and_a_reason(tmp_path: Path) -> None:
    participants = _french_csv(tmp_path / "p.csv", ("participant", "unavailable_slots"),
                               [("A", "1"), ("B", "2")])
    wishes = _french_csv(tmp_path / "w.csv", ("from", "to", "priority"), [("A", "B", "3")])
    out = tmp_path / "planning.csv"
    code, _, stderr = run("--participants", str(participants), "--wishes", str(wishes), "--slots", "2",
                          "--tables", "1", "--max-meetings", "1", "--out", str(out))
    assert code == 0, stderr
    assert out.read_text(encoding="utf-8").splitlines() == ["slot,table,participant_a,participant_b"]
    assert "Planning vide" in stderr
