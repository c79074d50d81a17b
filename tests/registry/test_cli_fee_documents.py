"""`grappe registry fee-schedule-template`, `fee-schedule FILE.xlsx`, `fee-letters`, `dunning --out`."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from dbkit import siren
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from grappe.cli import app
from grappe.errors import InputError

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_fee_documents_from_the_command_line(tmp_path: Path) -> None:
    assert run("registry", "migrate")[0] == 0
    assert run("registry", "create", "Mécanique Rhône", "--acronym", "MECA", "--commune", "69123")[0] == 0
    members = tmp_path / "m.csv"
    members.write_text(f"siren;nom;date_adhesion\n{siren(11)};Alpha;2025-01-02\n", encoding="utf-8")
    assert run("registry", "import", "MECA", str(members))[0] == 0

    template = tmp_path / "bareme.xlsx"
    code, out = run("registry", "fee-schedule-template", str(template))
    assert code == 0, out
    book = load_workbook(template)
    book["Paramètres"]["B4"] = 0  # delai_paiement_jours: due on the day of issue (today)
    book.save(template)
    code, out = run("registry", "fee-schedule", "MECA", str(template))
    assert code == 0, out
    assert "Barème 2025 enregistré : 3 règle(s)" in out
    assert run("registry", "fee-calls", "MECA", "2025", "--issue")[0] == 0
    later = dt.date.today() + dt.timedelta(days=30)  # the calls are issued today, due today

    combined = tmp_path / "appels.pdf"
    code, out = run(
        "registry", "fee-letters", "MECA", "--year", "2025", "--kind", "call", "--out", str(combined)
    )
    assert code == 0, out
    text = " ".join(PdfReader(io.BytesIO(combined.read_bytes())).pages[0].extract_text().split())
    assert "Alpha" in text
    assert "300,00 €" in text  # unknown size: headcount 0, the first bracket of the example
    folder = tmp_path / "relances"
    folder.mkdir()
    code, out = run(
        "registry",
        "fee-letters",
        "MECA",
        "--year",
        "2025",
        "--kind",
        "reminder",
        "--at",
        later.strftime("%d/%m/%Y"),
        "--out",
        str(folder),
    )
    assert code == 0, out
    assert [p.name for p in folder.iterdir()] == ["relance-2025-000001.pdf"]

    code, out = run(
        "registry", "dunning", "MECA", "--at", later.isoformat(), "--out", str(tmp_path / "r.csv")
    )
    assert code == 0, out
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8"))))
    assert [(r["organisation"], r["outstanding_eur"]) for r in rows] == [("Alpha", "300.00")]

    wrong = runner.invoke(
        app, ["registry", "fee-letters", "MECA", "--year", "2025", "--kind", "avis", "--out", str(combined)]
    )
    assert isinstance(wrong.exception, InputError)
    assert str(wrong.exception) == "--kind 'avis' inconnu ; valeurs possibles : call, reminder"
    broken = tmp_path / "bareme.toml"
    broken.write_text("year = 2025\n", encoding="utf-8")
    refused = runner.invoke(app, ["registry", "fee-schedule", "MECA", str(broken)])
    assert isinstance(refused.exception, InputError)
    assert (
        str(refused.exception)
        == "bareme.toml : barème refusé — bareme.toml, champ rules : valeur obligatoire absente"
    )
