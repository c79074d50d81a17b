"""`grappe cooperation ...` through Typer's CliRunner: French output, exit statuses, coded options."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from grappe.cli import app
from grappe.cli import cooperation as cli
from grappe.cooperation.models import (
    DealKind,
    LinkKind,
    Orientation,
    PartnerCategory,
    ProjectKind,
    ProjectStatus,
)
from grappe.cooperation.projects_io import ImportFormat
from grappe.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("written", "enum"),
    [
        (cli.FORMATS, ImportFormat),
        (cli.LINK_KINDS, LinkKind),
        (cli.ORIENTATIONS, Orientation),
        (cli.PROJECT_KINDS, ProjectKind),
        (cli.STATUSES, ProjectStatus),
        (cli.CATEGORIES, PartnerCategory),
        (cli.DEAL_KINDS, DealKind),
    ],
)
def test_the_help_values_are_the_models(written: tuple[str, ...], enum: type) -> None:
    assert written == tuple(e.value for e in enum)


def test_import_then_records_end_to_end(tmp_path: Path) -> None:
    projects, partners = tmp_path / "p.csv", tmp_path / "q.csv"
    projects.write_text("project;title;kind\nP1;Usinage propre;market\nP2;;market\n", encoding="utf-8")
    partners.write_text("project;name;category\nP1;Forge Alpine;member_firm\nP1;Labo Sud;laboratory\n")
    code, out = run("cooperation", "import-projects", "--format", "table", str(projects), str(partners))
    assert code == 0, out
    assert "2 projets lus = 1 ajoutés + 0 déjà enregistrés + 1 signalés" in out
    assert "valeur manquante" in out
    code, out = run(
        "cooperation", "import-projects", "--format", "table", "--strict", str(projects), str(partners)
    )
    assert code == 2
    assert "rien n'a été écrit" in out
    code, out = run("cooperation", "partner-add", "1", "--category", "public_body", "--town", "Lyon")
    assert code == 0, out
    assert "3 partenaires" in out
    assert run("registry", "create", "Mécanique Rhône", "--acronym", "MECA")[0] == 0
    code, out = run("cooperation", "project-create", "MECA", "Salon commun", "--kind", "market")
    assert code == 0, out
    code, out = run("cooperation", "project-status", "2", "drafting")
    assert code == 0, out
    assert "montage" in out
    code, out = run("cooperation", "projects", "--cluster", "MECA")
    assert "Salon commun" in out
    assert "Usinage propre" not in out


def test_bad_input_is_one_french_line(tmp_path: Path) -> None:
    wrong = runner.invoke(app, ["cooperation", "import-projects", "--format", "csv", "a.csv", "b.csv"])
    assert isinstance(wrong.exception, InputError)
    assert "--format 'csv' : valeur inconnue" in str(wrong.exception)
    missing = runner.invoke(
        app, ["cooperation", "import-projects", str(tmp_path / "a.xlsx"), str(tmp_path / "b.xlsx")]
    )
    assert "introuvable" in str(missing.exception)


@pytest.fixture
def meca(tmp_path: Path) -> None:
    """MECA with two members, organisations 1 (Alpha) and 2 (Beta), and Alpha's member user."""
    assert run("registry", "create", "Mécanique Rhône", "--acronym", "MECA")[0] == 0
    members = tmp_path / "adherents.csv"
    members.write_text("siren;nom;date_adhesion\n000000117;Alpha;2020-01-02\n000000125;Beta;2020-01-02\n")
    code, out = run("registry", "import", "MECA", str(members))
    assert code == 0, out
    assert run("registry", "user-add", "u@alpha.fr", "--role", "member", "--organisation", "1")[0] == 0


def test_a_link_declared_with_its_amount_then_ended(meca: None) -> None:
    code, out = run(
        "cooperation", "link-declare", "MECA", "1", "2", "--kind", "supplier_customer",
        "--orientation", "means", "--from", "2024-02-01", "--amount", "45 000,50",
    )
    assert code == 0, out
    assert "Lien 1 : Alpha — Beta" in out
    member = runner.invoke(app, ["cooperation", "--as", "u@alpha.fr", "link-end", "1"])
    assert isinstance(member.exception, PermissionDeniedError)
    assert "mettre fin à un lien" in str(member.exception)
    early = runner.invoke(app, ["cooperation", "link-end", "1", "--date", "2023-12-31"])
    assert isinstance(early.exception, InputError)
    assert "avant le début" in str(early.exception)
    bad = runner.invoke(app, ["cooperation", "link-end", "1", "--date", "31/13/2024"])
    assert isinstance(bad.exception, InputError)
    assert "--date" in str(bad.exception)
    code, out = run("cooperation", "link-end", "1", "--date", "31/12/2024")
    assert code == 0, out
    assert "Lien 1 : Alpha — Beta, terminé le 31/12/2024" in out
    again = runner.invoke(app, ["cooperation", "link-end", "1"])
    assert isinstance(again.exception, ConflictError)
    assert "déjà terminé" in str(again.exception)
    code, out = run("cooperation", "links", "MECA")
    assert code == 0, out
    assert "45000.50" in out
    assert "31/12/2024" in out
    assert isinstance(runner.invoke(app, ["cooperation", "link-end", "9"]).exception, NotFoundError)


def test_a_project_partner_shown_then_removed(meca: None) -> None:
    assert run("cooperation", "project-create", "MECA", "Usinage propre", "--kind", "rd_innovation")[0] == 0
    assert run("cooperation", "partner-add", "1", "--organisation", "1", "--coordinator")[0] == 0
    code, out = run("cooperation", "partner-add", "1", "Labo Sud", "--category", "laboratory")
    assert code == 0, out
    code, out = run("cooperation", "project-show", "1")
    assert code == 0, out
    assert "2 partenaires" in out
    cells = [line.split("│") for line in out.splitlines() if "│" in line]
    rows = {cell[2].strip(): cell[1].strip() for cell in cells}  # partner -> its row number
    assert set(rows) >= {"Alpha", "Labo Sud"}
    member = runner.invoke(
        app, ["cooperation", "--as", "u@alpha.fr", "partner-remove", "1", rows["Labo Sud"]]
    )
    assert isinstance(member.exception, PermissionDeniedError)
    missing = runner.invoke(app, ["cooperation", "partner-remove", "1", "99"])
    assert isinstance(missing.exception, NotFoundError)
    assert "partenaire 99 introuvable" in str(missing.exception)
    code, out = run("cooperation", "partner-remove", "1", rows["Labo Sud"])
    assert code == 0, out
    assert "1 partenaires" in out
    assert "Labo Sud" not in out
    assert "Alpha" in out
