"""`grappe partners meeting`: a stored B2B event from creation to the table plan (CliRunner, SQLite)."""

from __future__ import annotations

import csv
from pathlib import Path

import icalendar
import pytest
from b2b_check import check_schedule
from typer.testing import CliRunner

from grappe.cli import app
from grappe.cli import meetings as cli
from grappe.partners.meetings.models import ScheduleMethod

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["partners", "meeting", *args])
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


@pytest.fixture
def meca(tmp_path: Path) -> None:
    """MECA with three members, organisations 1 (Alpha), 2 (Beta) and 3 (Gamma)."""
    assert runner.invoke(app, ["registry", "create", "Mécanique Rhône", "--acronym", "MECA"]).exit_code == 0
    members = tmp_path / "adherents.csv"
    members.write_text(
        "siren;nom;date_adhesion\n000000117;Alpha;2020-01-02\n000000125;Beta;2020-01-02\n"
        "000000133;Gamma;2020-01-02\n"
    )
    result = runner.invoke(app, ["registry", "import", "MECA", str(members)])
    assert result.exit_code == 0, result.output


def test_the_help_values_are_the_models() -> None:
    assert tuple(m.value for m in ScheduleMethod) == cli.METHODS


def test_an_event_from_creation_to_the_table_plan(meca: None, tmp_path: Path) -> None:
    code, out = run(
        "create",
        "MECA",
        "--title",
        "Rencontres usinage",
        "--at",
        "2026-12-10 09:00",
        "--slots",
        "3",
        "--tables",
        "1",
        "--max-meetings",
        "2",
        "--place",
        "Lyon",
    )
    assert code == 0, out
    assert "Rendez-vous d'affaires 1 : Rencontres usinage, 3 créneaux" in out
    for organisation, unavailable in (("1", "3"), ("2", ""), ("3", "1")):
        code, out = run("register", "1", "--organisation", organisation, "--unavailable", unavailable)
        assert code == 0, out
    for source, target, priority in (("1", "2", "3"), ("3", "1", "5"), ("2", "3", "1")):
        code, out = run("wish", "1", "--organisation", source, "--to", target, "--priority", priority)
        assert code == 0, out
        assert "accepté" in out  # the organiser's wishes count at once
    code, out = run("schedule", "1", "--time-limit", "10")
    assert code == 0, out
    assert "priorités satisfaites 9 (glouton" in out
    assert run("publish", "1")[0] == 0
    code, out = run("agenda", "1", "--organisation", "1")
    assert code == 0, out
    assert "Beta" in out
    assert "Gamma" in out
    ics = tmp_path / "agenda.ics"
    assert run("agenda", "1", "--organisation", "1", "--out", str(ics))[0] == 0
    assert len(list(icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT"))) == 2
    pdf = tmp_path / "agendas.pdf"
    assert run("agenda", "1", "--all", "--out", str(pdf))[0] == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    plan = tmp_path / "plan.csv"
    code, out = run("plan", "1", "--out", str(plan))
    assert code == 0, out
    with plan.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))  # the batch schedule's columns, then the times
    total = check_schedule(
        {"Alpha": {3}, "Beta": set(), "Gamma": {1}},
        {("Alpha", "Beta"): 3, ("Gamma", "Alpha"): 5, ("Beta", "Gamma"): 1},
        3,
        1,
        2,
        rows,
    )
    assert total == 9


def test_bad_input_is_one_french_line_with_status_2(meca: None, tmp_path: Path) -> None:
    assert (
        run(
            "create",
            "MECA",
            "--title",
            "R",
            "--at",
            "2026-12-10 09:00",
            "--slots",
            "2",
            "--tables",
            "1",
            "--max-meetings",
            "1",
        )[0]
        == 0
    )
    code, out = run("register", "1", "--organisation", "1", "--unavailable", "1 deux")
    assert code == 2
    assert "'deux' n'est pas un n° de créneau" in out
    code, out = run("register", "1", "--organisation", "1", "--unavailable", "5")
    assert code == 2
    assert "le rendez-vous 1 a 2 créneaux" in out
    code, out = run("plan", "1", "--out", str(tmp_path / "plan.xlsx"))
    assert code == 2
    assert ".pdf ou .csv" in out
    code, out = run("schedule", "1", "--method", "exact")
    assert code == 2
    assert "attendu : optimal, greedy" in out
    code, out = run("agenda", "9")
    assert code == 2
    assert "introuvable" in out


def test_participants_and_wishes_from_the_organisers_spreadsheet(meca: None, tmp_path: Path) -> None:
    assert (
        run(
            "create",
            "MECA",
            "--title",
            "R",
            "--at",
            "2026-12-10 09:00",
            "--slots",
            "3",
            "--tables",
            "2",
            "--max-meetings",
            "2",
        )[0]
        == 0
    )
    participants = tmp_path / "participants.csv"
    participants.write_text("participant;unavailable_slots\nALPHA;3\n2;\nInconnue SA;\ngamma;1 2\n")
    wishes = tmp_path / "souhaits.csv"
    wishes.write_text("from,to,priority\nALPHA,2,3\ngamma,ALPHA,12\n2,gamma,1\n")
    strict = runner.invoke(
        app,
        [
            "partners",
            "meeting",
            "import",
            "1",
            "--participants",
            str(participants),
            "--wishes",
            str(wishes),
            "--strict",
        ],
    )
    assert strict.exit_code == 2
    assert "rien n'est enregistré" in strict.output + strict.stderr
    code, out = run("import", "1", "--participants", str(participants), "--wishes", str(wishes))
    assert code == 0, out
    assert "participants.csv, ligne 4, colonne participant ('Inconnue SA')" in out
    assert "souhaits.csv, ligne 3, colonne priority ('12') : priorité de 1 à 10 attendue" in out
    assert "3 participant(s) inscrit(s), 0 mis à jour, 2 souhait(s) noté(s)" in out
    code, out = run("participants", "1")
    assert "Alpha" in out
    assert "1 2" in out
