"""`grappe cooperation` commands of events and shared equipment (CliRunner, SQLite)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import icalendar
import pytest
from typer.testing import CliRunner

from grappe.cli import app
from grappe.cli import cooperation as cli
from grappe.cooperation.actions.models import EventKind
from grappe.errors import ConflictError, InputError

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def meca(tmp_path: Path) -> None:
    """MECA with two members, organisations 1 (Alpha) and 2 (Beta)."""
    assert run("registry", "create", "Mécanique Rhône", "--acronym", "MECA")[0] == 0
    members = tmp_path / "adherents.csv"
    members.write_text("siren;nom;date_adhesion\n000000117;Alpha;2020-01-02\n000000125;Beta;2020-01-02\n")
    code, out = run("registry", "import", "MECA", str(members))
    assert code == 0, out


def test_the_help_values_are_the_models() -> None:
    assert tuple(kind.value for kind in EventKind) == cli.EVENT_KINDS


def test_an_event_from_creation_to_attendance_and_its_calendar(meca: None, tmp_path: Path) -> None:
    code, out = run(
        "cooperation", "event-create", "MECA", "--kind", "trade_show", "--title", "Salon Midest",
        "--from", "2020-11-17 09:00", "--to", "2020-11-20 18:00", "--capacity", "3", "--price", "120,50",
        "--shared-stand", "--place", "Paris Nord Villepinte",
    )
    assert code == 0, out
    assert "Événement 1 : Salon Midest, le 17/11/2020 09:00" in out
    code, out = run("cooperation", "event-register", "1", "--organisation", "1", "--seats", "2")
    assert code == 0, out
    assert "Alpha, 2 place(s), 241.00 €" in out
    full = runner.invoke(app, ["cooperation", "event-register", "1", "--organisation", "2", "--seats", "2"])
    assert isinstance(full.exception, InputError)
    assert "complet" in str(full.exception)
    assert "1 restante(s)" in str(full.exception)
    assert run("cooperation", "event-register", "1", "--organisation", "2")[0] == 0
    assert run("cooperation", "attendance", "1", "1")[0] == 0
    code, out = run("cooperation", "attendance", "1", "2", "--absent")
    assert code == 0, out
    assert "Beta : absente" in out
    code, out = run("cooperation", "registrations", "1")
    assert "présente" in out
    assert "absente" in out
    code, out = run("cooperation", "events", "MECA")
    assert "Salon Midest" in out
    ics = tmp_path / "salon.ics"
    assert run("cooperation", "event-ics", "1", "--out", str(ics))[0] == 0
    (entry,) = icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert str(entry["summary"]) == "Salon Midest"
    wrong = runner.invoke(app, ["cooperation", "event-ics", "1", "--out", str(tmp_path / "salon.txt")])
    assert "extension attendue .ics" in str(wrong.exception)


def test_bookings_and_the_bill(meca: None) -> None:
    code, out = run("cooperation", "equipment-add", "MECA", "Salle blanche ISO 7", "--rate", "80")
    assert code == 0, out
    assert "Équipement 1 : Salle blanche ISO 7, 80 €/h" in out
    code, out = run("cooperation", "book", "1", "--from", "2026-01-05 08:00", "--to", "2026-01-05 11:00",
                    "--organisation", "1")
    assert code == 0, out
    assert "Réservation 1 : Alpha, du 05/01/2026 08:00 au 05/01/2026 11:00" in out
    clash = runner.invoke(app, ["cooperation", "book", "1", "--from", "2026-01-05 10:00",
                                "--to", "2026-01-05 12:00", "--organisation", "2"])
    assert isinstance(clash.exception, ConflictError)
    assert "réservation 1 du 05/01/2026 08:00 au 05/01/2026 11:00" in str(clash.exception)
    assert run("cooperation", "book", "1", "--from", "2026-01-05 11:00", "--to", "2026-01-05 12:30",
               "--organisation", "2")[0] == 0
    code, out = run("cooperation", "equipment-usage", "1", "--from", "2026-01-01", "--to", "31/01/2026")
    assert code == 0, out
    assert "Total : 4.50 h, 360.00 €" in out
    backwards = runner.invoke(app, ["cooperation", "book", "1", "--from", "2026-01-06 10:00",
                                    "--to", "2026-01-06 09:00", "--organisation", "2"])
    assert "n'est pas après le début" in str(backwards.exception)


def test_a_shared_position_from_the_command_line(meca: None) -> None:
    code, out = run("cooperation", "position-create", "MECA", "Responsable qualité", "--from", "2024-01-01",
                    "--cost", "60000", "--share", "1:60", "--share", "2:40")
    assert code == 0, out
    assert "Poste 1 : Responsable qualité" in out
    assert "36000.00" in out
    technician = ["cooperation", "position-create", "MECA", "Technicien", "--from", "2024-01-01",
                  "--cost", "40000"]
    short = runner.invoke(app, [*technician, "--share", "1:60", "--share", "2:30"])
    assert "les parts font 90 % au total, attendu 100 %" in str(short.exception)
    wrong = runner.invoke(app, [*technician, "--share", "Alpha-100"])
    assert "attendu N°_ORGANISATION:POURCENTAGE" in str(wrong.exception)
    code, out = run("cooperation", "positions", "MECA")
    assert "Alpha 60" in out


def test_a_group_purchase_from_the_command_line(meca: None) -> None:
    code, out = run("cooperation", "purchase-open", "MECA", "Électricité 2027", "--unit", "MWh",
                    "--price", "150", "--to", (dt.date.today() + dt.timedelta(days=60)).isoformat())
    assert code == 0, out
    assert run("cooperation", "purchase-need", "1", "120", "--organisation", "1")[0] == 0
    code, out = run("cooperation", "purchase-need", "1", "30,5", "--organisation", "2")
    assert code == 0, out
    assert "volume 150.50 MWh" in out
    code, out = run("cooperation", "purchase-conclude", "1", "Enercoop", "--price", "120")
    assert code == 0, out
    assert "économies 4515.00 €" in out
    dearer = runner.invoke(app, ["cooperation", "purchase-conclude", "1", "Enercoop", "--price", "200"])
    assert "dépasse le prix de référence" in str(dearer.exception)
    code, out = run("cooperation", "purchases", "MECA")
    assert "Enercoop" in out


def test_services_sold_to_members_and_their_revenue(meca: None) -> None:
    code, out = run("cooperation", "service-add", "MECA", "Diagnostic export", "--price", "450",
                    "--unit", "jour")
    assert code == 0, out
    assert "Offre 1 : Diagnostic export, 450,00\xa0€ par jour" in out
    code, out = run("cooperation", "sale-add", "1", "--organisation", "1", "--date", "14/03/2025",
                    "--quantity", "2")
    assert code == 0, out
    assert "Vente 1 : Diagnostic export à Alpha, 900,00\xa0€ le 14/03/2025" in out
    code, out = run("cooperation", "sale-add", "1", "--organisation", "2", "--date", "2025-06-01",
                    "--amount", "300")
    assert code == 0, out
    code, out = run("cooperation", "sales", "MECA", "--year", "2025")
    assert code == 0, out
    assert "Ventes (2)" in out
    code, out = run("cooperation", "services-revenue", "MECA")
    assert code == 0, out
    assert "1200.00" in out
    early = runner.invoke(
        app, ["cooperation", "sale-add", "1", "--organisation", "1", "--date", "2019-05-01"]
    )
    assert isinstance(early.exception, InputError)
    assert "n'était pas adhérente" in str(early.exception)
