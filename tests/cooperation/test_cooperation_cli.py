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
from grappe.errors import InputError

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
