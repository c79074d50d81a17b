"""Fee documents: schedules from JSON, TOML or XLSX files, printed letters (PDF), the dunning export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from dbkit import World
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.orm import Session

from grappe.errors import InputError, NotFoundError, PermissionDeniedError
from grappe.registry import LOCAL_ADMIN
from grappe.registry.fees import letters
from grappe.registry.fees import service as fees
from grappe.registry.fees.letters import LetterKind
from grappe.registry.fees.schedule_files import (
    EXAMPLE,
    PARAMETERS,
    PARAMETERS_SHEET,
    RULE_COLUMNS,
    RULES_SHEET,
    read_schedule,
    write_example,
)
from grappe.registry.fees.schemas import FeeRuleIn, FeeScheduleIn, PaymentIn


def _text(pdf: bytes) -> str:
    """The PDF's text, whitespace (Babel's narrow no-break spaces included) as single spaces."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


# --- schedule files ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".toml", ".xlsx"])
def test_the_example_of_each_layout_reads_back_the_same(tmp_path: Path, suffix: str) -> None:
    path = write_example(tmp_path / f"bareme{suffix}")
    assert read_schedule(path) == EXAMPLE


def test_bad_workbook_cells_are_named_by_sheet_line_and_column(tmp_path: Path) -> None:
    path = write_example(tmp_path / "bareme.xlsx")
    book = load_workbook(path)
    book["Paramètres"]["B2"] = "20x5"  # annee
    book["Règles"]["B2"] = "XXL"  # taille of the first rule
    book["Règles"]["D4"] = "douze"  # montant_eur of the second bracket
    book["Règles"]["D6"] = "1 500,50"  # an amount typed the French way is fine
    book.save(path)
    with pytest.raises(InputError) as refused:
        read_schedule(path)
    head, rest = str(refused.value).split(" — ", 1)
    assert head == "bareme.xlsx : barème refusé"
    lines = rest.split(" ; ")
    assert (
        "bareme.xlsx, feuille Paramètres, ligne 2, colonne valeur ('20x5') : nombre entier attendu" in lines
    )
    assert any(
        line.startswith(
            "bareme.xlsx, feuille Règles, ligne 2, colonne taille ('XXL') : valeur attendue parmi"
        )
        for line in lines
    )
    assert "bareme.xlsx, feuille Règles, ligne 4, colonne montant_eur ('douze') : nombre attendu" in lines
    assert len(lines) == 3  # the French amount of line 6 passed


def test_unknown_parameter_and_bad_toml_are_refused_in_french(tmp_path: Path) -> None:
    path = write_example(tmp_path / "bareme.xlsx")
    book = load_workbook(path)
    book["Paramètres"]["A3"] = "remise"
    book.save(path)
    with pytest.raises(InputError, match=r"ligne 3, colonne paramètre \('remise'\) : paramètre inconnu"):
        read_schedule(path)
    toml = tmp_path / "bareme.toml"
    toml.write_text("year = 2025\ncap_eur = ,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^bareme.toml, ligne 2, colonne 11 : syntaxe TOML invalide$"):
        read_schedule(toml)
    toml.write_text("year = 2025\nrules = [\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^bareme.toml, fin du fichier : syntaxe TOML invalide$"):
        read_schedule(toml)
    toml.write_text(
        'year = 2025\nremise = 3\n[[rules]]\nmembership_type = "adherent"\namount_eur = "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as refused:
        read_schedule(toml)
    assert sorted(str(refused.value).split(" — ", 1)[1].split(" ; ")) == [
        "bareme.toml, champ remise (3) : champ inconnu",
        "bareme.toml, champ rules[1].amount_eur ('x') : nombre attendu",
    ]


# --- letters ----------------------------------------------------------------------------------


def _called(db: Session, world: World) -> int:
    """A 2024 schedule of 1,250.50 € with a letterhead, the calls issued; Dupont's call id."""
    fees.set_schedule(
        db,
        LOCAL_ADMIN,
        world.a,
        FeeScheduleIn(
            year=2024,
            due_days=30,
            letterhead="Mécanique Rhône\n12 rue de la Forge\n69100 Villeurbanne",
            payment_details="IBAN FR76 3000 1007 9412 3456 7890 185",
            rules=[FeeRuleIn(membership_type="adherent", amount_eur=Decimal("1250.50"))],
        ),
    )
    fees.issue_calls(db, LOCAL_ADMIN, world.a, 2024, issued_on=dt.date(2024, 1, 15))
    return fees.list_calls(db, LOCAL_ADMIN, world.a, year=2024)[0].id


def test_fee_calls_print_as_a_french_pdf(db: Session, world: World) -> None:
    call = _called(db, world)
    found = letters.letters_of_year(db, LOCAL_ADMIN, world.a, 2024, LetterKind.CALL, on=dt.date(2024, 1, 15))
    assert [x.member for x in found] == ["Décolletage Dupont"]
    text = _text(letters.render_pdf(found))
    assert "Appel de cotisation 2024" in text
    assert "Décolletage Dupont" in text
    assert "1 250,50 €" in text
    assert "14 février 2024" in text  # the due date, 30 days after the issue
    assert f"COT-2024-{call:06d}" in text
    assert "12 rue de la Forge" in text
    assert "IBAN FR76" in text


def test_reminders_only_for_overdue_calls_with_what_remains(db: Session, world: World) -> None:
    call = _called(db, world)
    with pytest.raises(InputError, match="non dépassée"):
        letters.letter_of_call(db, LOCAL_ADMIN, call, LetterKind.REMINDER, on=dt.date(2024, 2, 1))
    fees.record_payment(
        db, LOCAL_ADMIN, call, PaymentIn(amount_eur=Decimal(250), paid_on=dt.date(2024, 2, 1))
    )
    letter = letters.letter_of_call(db, LOCAL_ADMIN, call, LetterKind.REMINDER, on=dt.date(2024, 3, 1))
    text = _text(letters.render_pdf([letter]))
    assert "Relance : cotisation 2024 impayée" in text
    assert "250,00 €" in text
    assert "1 000,50 €" in text
    assert "16 jour(s) de retard" in text
    fees.record_payment(
        db, LOCAL_ADMIN, call, PaymentIn(amount_eur=Decimal("1000.50"), paid_on=dt.date(2024, 3, 2))
    )
    with pytest.raises(InputError, match="aucune cotisation échue à relancer pour 2024"):
        letters.letters_of_year(db, LOCAL_ADMIN, world.a, 2024, LetterKind.REMINDER, on=dt.date(2024, 3, 3))


def test_letters_are_for_the_clusters_managers_only(db: Session, world: World) -> None:
    call = _called(db, world)
    assert (
        letters.letter_of_call(db, world.actors["manager"], call, LetterKind.CALL).member
        == "Décolletage Dupont"
    )
    with pytest.raises(NotFoundError):
        letters.letter_of_call(db, world.actors["manager_other"], call, LetterKind.CALL)
    for role in ("member", "funder"):
        with pytest.raises((NotFoundError, PermissionDeniedError)):
            letters.letter_of_call(db, world.actors[role], call, LetterKind.CALL)
        with pytest.raises((NotFoundError, PermissionDeniedError)):
            letters.letters_of_year(db, world.actors[role], world.a, 2024, LetterKind.CALL)


# --- dunning export ---------------------------------------------------------------------------


def test_dunning_export_csv_for_programs_and_xlsx_for_people(
    db: Session, world: World, tmp_path: Path
) -> None:
    call = _called(db, world)
    fees.record_payment(
        db, LOCAL_ADMIN, call, PaymentIn(amount_eur=Decimal(250), paid_on=dt.date(2024, 2, 1))
    )
    on = dt.date(2024, 3, 1)
    assert fees.export_dunning(db, LOCAL_ADMIN, world.a, tmp_path / "r.csv", on=on) == 1
    rows = list(csv.reader((tmp_path / "r.csv").read_text(encoding="utf-8").splitlines()))
    assert rows == [
        [
            "fee_call_id",
            "organisation",
            "contact_email",
            "year",
            "amount_eur",
            "paid_eur",
            "outstanding_eur",
            "due_on",
            "days_late",
        ],
        [
            str(call),
            "Décolletage Dupont",
            "anne@dupont.fr, x@y.fr",
            "2024",
            "1250.50",
            "250.00",
            "1000.50",
            "2024-02-14",
            "16",
        ],
    ]
    fees.export_dunning(db, LOCAL_ADMIN, world.a, tmp_path / "e.csv", on=on, format="csv-excel")
    header, line = (tmp_path / "e.csv").read_text(encoding="utf-8-sig").splitlines()
    assert header.startswith("appel;adhérent;e-mail de contact;")
    assert ";1250,50;250,00;1000,50;" in line
    fees.export_dunning(db, LOCAL_ADMIN, world.a, tmp_path / "r.xlsx", on=on)
    sheet = load_workbook(tmp_path / "r.xlsx").active
    assert sheet is not None
    header, line = (list(r) for r in sheet.iter_rows(values_only=True))
    assert header[:3] == ["appel", "adhérent", "e-mail de contact"]
    assert header[6] == "reste dû (€)"
    assert line[6] == pytest.approx(1000.50)
    assert line[7] == dt.datetime(2024, 2, 14)
    assert sheet.freeze_panes == "A2"
    empty = fees.export_dunning(db, LOCAL_ADMIN, world.a, tmp_path / "e.csv", on=dt.date(2024, 1, 20))
    assert empty == 0
    assert (tmp_path / "e.csv").read_text(encoding="utf-8").count("\n") == 1


def test_the_readme_documents_the_workbook_layout() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name in (*PARAMETERS, *RULE_COLUMNS, PARAMETERS_SHEET, RULES_SHEET):
        assert f"`{name}`" in readme, f"README does not document {name}"
