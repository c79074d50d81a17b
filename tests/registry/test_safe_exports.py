"""Member exports neutralise formulas and survive control characters; they re-import unchanged."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pyarrow as pa
import pytest
from dbkit import Database, World, build_world, siren
from fabric_kit import write_fabric
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from grappe.cli import app
from grappe.kit.export import FORMULA_STARTS, FileFormat
from grappe.registry import LOCAL_ADMIN, prospects
from grappe.registry.clusters import service as clusters
from grappe.registry.memberships import files as member_files
from grappe.registry.models import Organisation
from grappe.storage.sql import get_engine, session_scope

TODAY = dt.date(2025, 1, 1)
ATTACKS = [
    "=CMD|' /C calc'!A0",
    '=HYPERLINK("http://evil.example","cliquez ici")',
    "+33 1 23 45 67 89",
    "-Tiret SA",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "＝1+1",
]


def _members_file(path: Path, names: list[str], first: int = 8100) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["siren", "nom", "date_adhesion"])
        writer.writerows([siren(first + i), name, "2024-01-02"] for i, name in enumerate(names))
    return path


def _csv_cells(path: Path, delimiter: str = ",") -> list[list[str]]:
    """The cells of a CSV export: for programs by default, ``;`` for the French Excel one."""
    text = path.read_text(encoding="utf-8-sig" if delimiter == ";" else "utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_cells(path: Path) -> list[list[object]]:
    sheet = load_workbook(path).worksheets[0]
    rows = []
    for row in sheet.iter_rows():
        assert not [c.coordinate for c in row if c.data_type == "f"], "formula cells written"
        rows.append([c.value for c in row])
    return rows


def _no_cell_starts_a_formula(rows: list[list[object]]) -> None:
    starts = [v for row in rows for v in row if isinstance(v, str) and v[:1] and v[0] in FORMULA_STARTS]
    assert starts == []


@pytest.mark.parametrize(
    ("fmt", "suffix", "name_header"),
    [("csv", ".csv", "name"), ("csv-excel", ".csv", "nom"), ("xlsx", ".xlsx", "nom")],
)
def test_dangerous_names_round_trip_between_two_registries(
    db: Session, world: World, fresh: Database, tmp_path: Path, fmt: FileFormat, suffix: str,
    name_header: str,
) -> None:
    report = member_files.import_members(
        db, LOCAL_ADMIN, world.a, _members_file(tmp_path / "in.csv", ATTACKS),
        lookup=lambda a, b: {}, today=TODAY,
    )
    assert (report.inserted, report.issues) == (len(ATTACKS), [])
    out = tmp_path / f"adherents{suffix}"
    member_files.export_members(db, LOCAL_ADMIN, world.a, out, format=fmt)
    rows = {"csv": _csv_cells, "csv-excel": lambda p: _csv_cells(p, ";"), "xlsx": _xlsx_cells}[fmt](out)
    _no_cell_starts_a_formula(rows)
    assert rows[0][2] == name_header
    names = {r[2] for r in rows[1:]}
    assert {"'" + a for a in ATTACKS} <= names  # each neutralised by one leading quote
    _, read = member_files.read_rows(out)
    assert {r.values["name"] for r in read} == {"Décolletage Dupont", *ATTACKS}

    # the export goes into another registry: the names arrive exactly as they left
    with session_scope(fresh.engine, actor=LOCAL_ADMIN) as s:
        other = build_world(s)
    with session_scope(fresh.engine, actor=LOCAL_ADMIN) as s:
        again = member_files.import_members(s, LOCAL_ADMIN, other.a, out, lookup=lambda a, b: {}, today=TODAY)
    assert again.inserted == len(ATTACKS)
    with session_scope(fresh.engine) as s:
        stored = set(s.scalars(select(Organisation.name).where(Organisation.siren.like("%"))))
    assert set(ATTACKS) <= stored


def test_control_character_in_a_name_does_not_break_the_exports(
    db: Session, world: World, tmp_path: Path
) -> None:
    db.execute(update(Organisation).where(Organisation.id == world.org_a).values(name="Bad\x01Name\x1f"))
    db.flush()
    member_files.export_members(db, LOCAL_ADMIN, world.a, tmp_path / "a.xlsx")
    member_files.export_members(db, LOCAL_ADMIN, world.a, tmp_path / "a.csv")
    assert _xlsx_cells(tmp_path / "a.xlsx")[1][2] == "Bad\ufffdName\ufffd"
    assert _csv_cells(tmp_path / "a.csv")[1][2] == "Bad\ufffdName\ufffd"


def test_cli_export_of_attacks_and_control_characters(tmp_path: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    run("registry", "migrate")
    run("registry", "create", "Mécanique Rhône", "--acronym", "MECA", "--commune", "69123")
    run("registry", "import", "MECA", str(_members_file(tmp_path / "m.csv", ATTACKS)))
    # a name holding a control character, as older data or another path may have stored it
    with session_scope(get_engine()) as s:
        s.execute(update(Organisation).where(Organisation.siren == siren(8100)).values(name="A\x01B"))
    run("registry", "export", "MECA", str(tmp_path / "out.xlsx"))
    run("registry", "export", "MECA", str(tmp_path / "out.csv"))
    run("registry", "export", "MECA", str(tmp_path / "excel.csv"), "--format", "csv-excel")
    exports = (
        _xlsx_cells(tmp_path / "out.xlsx"),
        _csv_cells(tmp_path / "out.csv"),
        _csv_cells(tmp_path / "excel.csv", ";"),
    )
    for rows in exports:
        _no_cell_starts_a_formula(rows)
        assert sorted(str(r[2]) for r in rows[1:]) == sorted(["A\ufffdB", *("'" + a for a in ATTACKS[1:])])
    with session_scope(get_engine()) as s:
        assert clusters.resolve_cluster(s, "MECA") == 1


def test_prospect_exports_are_safe_and_keep_numbers(
    db: Session, world: World, tmp_path: Path
) -> None:
    table = prospects.prospects(db, LOCAL_ADMIN, world.a, store=write_fabric(tmp_path / "f"), on=TODAY)
    names = [ATTACKS[i % len(ATTACKS)] for i in range(table.num_rows)]
    table = table.set_column(table.column_names.index("name"), "name", pa.array(names))
    rows = _csv_cells(prospects.write_prospects(table, tmp_path / "p.csv"))
    _no_cell_starts_a_formula(rows)
    assert [r[3] for r in rows[1:]] == ["'" + n for n in names]
    score = rows[0].index("score")
    assert [float(r[score]) for r in rows[1:]] == table.column("score").to_pylist()
    rows = _csv_cells(prospects.write_prospects(table, tmp_path / "p.csv", format="csv-excel"), ";")
    _no_cell_starts_a_formula(rows)
    # French spreadsheet dialect: decimal comma, and the score is still a plain number
    assert [float(r[score].replace(",", ".")) for r in rows[1:]] == table.column("score").to_pylist()
    cells = _xlsx_cells(prospects.write_prospects(table, tmp_path / "p.xlsx"))
    _no_cell_starts_a_formula(cells)
    assert [r[score] for r in cells[1:]] == table.column("score").to_pylist()
    assert load_workbook(tmp_path / "p.xlsx").worksheets[0].cell(2, score + 1).number_format == "0.0000"
