"""Project import: the real ANR files reconcile and re-import idempotently; bad rows reported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grappe.cooperation.models import Project, ProjectFunding, ProjectPartner
from grappe.cooperation.projects_io import ImportFormat, import_projects
from grappe.errors import FileFormatError, PermissionDeniedError
from grappe.registry.models import Organisation
from grappe.registry.policy import LOCAL_ADMIN
from grappe.storage.sql import session_scope

ANR = Path(os.environ.get("GRAPPE_SHARED_DATA", "../shared/data")) / "real" / "anr"
ANR_PROJECTS = ANR / "anr-dgpie-projets-finances-2006-2018-projets.xlsx"
ANR_PARTNERS = ANR / "anr-dgpie-projets-finances-2006-2018-partenaires.xlsx"


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.skipif(not ANR_PROJECTS.is_file(), reason="ANR open data absent (GRAPPE_SHARED_DATA)")
def test_real_anr_files_reconcile_and_reimport_adds_nothing(fresh) -> None:  # type: ignore[no-untyped-def]
    with session_scope(fresh.engine) as session:
        first = import_projects(session, LOCAL_ADMIN, ANR_PROJECTS, ANR_PARTNERS, fmt=ImportFormat.ANR)
    with session_scope(fresh.engine, write=False) as session:
        stored = {m: _count(session, m) for m in (Project, ProjectPartner, Organisation, ProjectFunding)}
    for counts in (first.projects, first.partners):
        assert counts.read == counts.inserted + counts.unchanged + counts.reported
        assert counts.read > 1000
    assert stored[Project] == first.projects.inserted
    assert stored[ProjectPartner] == first.partners.inserted
    assert stored[Organisation] == first.organisations_created
    # every ANR project has its allocated aid as an ANR funding line
    assert stored[ProjectFunding] == stored[Project]
    # every issue names its file, line and reason
    assert all(i.line >= 2 and i.reason for i in first.issues)

    with session_scope(fresh.engine) as session:
        second = import_projects(session, LOCAL_ADMIN, ANR_PROJECTS, ANR_PARTNERS, fmt=ImportFormat.ANR)
    assert (second.projects.inserted, second.partners.inserted, second.organisations_created) == (0, 0, 0)
    assert second.projects.unchanged == first.projects.inserted
    assert second.partners.unchanged == first.partners.inserted
    with session_scope(fresh.engine, write=False) as session:
        assert {m: _count(session, m) for m in stored} == stored


PROJECTS_CSV = """project;title;acronym;kind;status;start;end;programme;funder;funding_eur
P1;Usinage propre;USIPRO;r&d;financé;2024-01-15;2026-12-31;FUI;Bpifrance;250 000,50
P2;Sans titre;;market;;;;;;
P3;;ABC;market;;;;;;
P1;Doublon;;market;;;;;;
P4;Dates;;market;;31/02/2024;;;;
P5;Nature;;inconnue;;;;;;
"""
PARTNERS_CSV = """project;name;siren;category;coordinator;town;country;budget_eur
P1;Université de Rennes 1;;laboratoire;oui;Rennes;France;100000
P1;UNIVERSITE DE RENNES-1;;laboratory;non;Rennes;France;
P1;Non renseigné;;organisme public;non;Lyon;France;5000
P1;Décolletage Martin;552100554;entreprise membre;non;Cluses;France;
P2;Décolletage Martin;123456789;member_firm;non;;;
P2;Inconnu SA;;fusée;non;;;
P9;Orphelin;;laboratory;non;;;
P3;Rejeté avec son projet;;laboratory;non;;;
P2;Budget faux;;laboratory;non;;;douze
"""


def _files(tmp_path: Path) -> tuple[Path, Path]:
    projects, partners = tmp_path / "projets.csv", tmp_path / "partenaires.csv"
    projects.write_text(PROJECTS_CSV, encoding="utf-8")
    partners.write_text(PARTNERS_CSV, encoding="cp1252")  # a French spreadsheet's export
    return projects, partners


def test_generic_table_reports_bad_rows_and_keeps_good_ones(db: Session, tmp_path: Path) -> None:
    projects, partners = _files(tmp_path)
    report = import_projects(db, LOCAL_ADMIN, projects, partners, fmt=ImportFormat.TABLE)
    where = {(Path(i.file).name, i.line, i.column) for i in report.issues}
    assert where == {
        ("projets.csv", 4, "title"),  # missing title
        ("projets.csv", 5, "code"),  # P1 twice
        ("projets.csv", 6, "start"),  # 31 February
        ("projets.csv", 7, "kind"),  # unknown kind
        ("partenaires.csv", 6, "siren"),  # Luhn
        ("partenaires.csv", 7, "category"),  # unknown category
        ("partenaires.csv", 8, "project"),  # P9 unknown
        ("partenaires.csv", 9, "project"),  # P3 rejected
        ("partenaires.csv", 10, "budget_eur"),
    }
    assert report.projects.read == 6
    assert report.projects.inserted == 2
    assert report.projects.reported == 4
    assert report.partners.read == 9
    assert report.partners.inserted == 4
    assert report.partners.reported == 5
    assert [(m.name, m.merged_into) for m in report.merges] == [
        ("UNIVERSITE DE RENNES-1", "Université de Rennes 1")
    ]
    assert report.unnamed_partners == 1
    p1 = db.scalar(select(Project).where(Project.code == "P1"))
    assert p1 is not None
    assert (p1.kind, p1.status, p1.acronym) == ("rd_innovation", "funded", "USIPRO")
    assert [(f.funder, f.programme, str(f.amount_eur)) for f in p1.fundings] == [
        ("Bpifrance", "fui", "250000.50")
    ]
    by_name = {(p.organisation.name if p.organisation else None): p for p in p1.partners}
    assert by_name[None].category == "public_body"
    assert by_name[None].town == "Lyon"
    assert [p.organisation.name for p in p1.partners if p.coordinator and p.organisation] == [
        "Université de Rennes 1"
    ]
    assert by_name["Décolletage Martin"].organisation.siren == "552100554"
    # the two spellings of the university are one organisation
    assert len({p.organisation_id for p in p1.partners if p.organisation_id}) == 2


def test_strict_writes_nothing_and_reimport_is_idempotent(db: Session, tmp_path: Path) -> None:
    projects, partners = _files(tmp_path)
    strict = import_projects(db, LOCAL_ADMIN, projects, partners, fmt=ImportFormat.TABLE, strict=True)
    assert not strict.committed
    assert strict.issues
    assert _count(db, Project) == 0
    assert _count(db, Organisation) == 0
    import_projects(db, LOCAL_ADMIN, projects, partners, fmt=ImportFormat.TABLE)
    organisations = _count(db, Organisation)
    again = import_projects(db, LOCAL_ADMIN, projects, partners, fmt=ImportFormat.TABLE)
    assert (again.projects.inserted, again.partners.inserted, again.organisations_created) == (0, 0, 0)
    assert again.projects.unchanged == 2
    assert again.partners.unchanged == 4
    assert _count(db, Organisation) == organisations


def test_a_siren_given_later_completes_the_organisation_known_by_name(db: Session, tmp_path: Path) -> None:
    projects, partners = _files(tmp_path)
    partners.write_text("project;name;category\nP1;Forge Alpine;member_firm\n", encoding="utf-8")
    import_projects(db, LOCAL_ADMIN, projects, partners, fmt=ImportFormat.TABLE)
    later = tmp_path / "later.csv"
    later.write_text("project;partner;name;siren;category\nP2;X1;FORGE ALPINE;552100554;member_firm\n")
    import_projects(db, LOCAL_ADMIN, projects, later, fmt=ImportFormat.TABLE)
    forges = db.scalars(select(Organisation).where(Organisation.name_key == "forge alpine")).all()
    assert [(o.name, o.siren) for o in forges] == [("Forge Alpine", "552100554")]


def test_a_file_without_its_columns_is_refused_whole(db: Session, tmp_path: Path) -> None:
    projects, partners = _files(tmp_path)
    with pytest.raises(FileFormatError, match=r"Projet\.Code_Decision_ANR"):
        import_projects(db, LOCAL_ADMIN, projects, partners, fmt=ImportFormat.ANR)
    with pytest.raises(FileFormatError, match="introuvable"):
        import_projects(db, LOCAL_ADMIN, tmp_path / "absent.xlsx", partners)
    assert _count(db, Project) == 0


def test_only_the_administrator_imports_open_data(db: Session, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    projects, partners = _files(tmp_path)
    with pytest.raises(PermissionDeniedError):
        import_projects(db, world.actors["manager"], projects, partners, fmt=ImportFormat.TABLE)


def test_the_readme_documents_every_column_of_the_generic_layout() -> None:
    from grappe.cooperation.projects_io import TABLE_PARTNER_COLUMNS, TABLE_PROJECT_COLUMNS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Importer des projets") :]
    for column in [*TABLE_PROJECT_COLUMNS, *TABLE_PARTNER_COLUMNS]:
        assert f"`{column}`" in section, column


def test_one_siren_under_two_names_is_one_organisation(db: Session, tmp_path: Path) -> None:
    projects, partners = _files(tmp_path)
    partners.write_text(
        "project;name;siren;category\n"
        "P1;Forge Alpine;;member_firm\n"  # known by name first
        "P1;FORGE ALPINE;552100554;member_firm\n"  # then with its SIREN
        "P2;Forges Alpines SAS;552100554;foreign_partner\n"  # the same SIREN, other name and kind
        "P2;Aciers Sud;732829320;laboratory\n"
        "P2;Aciers du Sud;732829320;laboratory\n",
        encoding="utf-8",
    )
    report = import_projects(db, LOCAL_ADMIN, projects, partners, fmt=ImportFormat.TABLE)
    assert report.partners.inserted == 5
    assert report.organisations_created == 2
    stored = db.scalars(select(Organisation).order_by(Organisation.siren)).all()
    assert [(o.name, o.siren) for o in stored] == [
        ("Forge Alpine", "552100554"),
        ("Aciers Sud", "732829320"),
    ]
