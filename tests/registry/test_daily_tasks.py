"""The manager's daily tasks: import update mode, members outside the fabric, template, exits,
contacts, tokens (services on both databases), and the commands that reach them (CliRunner)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from dbkit import World, siren, siret
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from grappe.cli import app
from grappe.errors import NotFoundError, PermissionDeniedError
from grappe.registry import LOCAL_ADMIN
from grappe.registry.accounts import service as accounts
from grappe.registry.memberships import files
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MemberLeave, MembershipCreate
from grappe.registry.models import LabelKind, Membership, Organisation
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import ContactUpdate

runner = CliRunner()


def _knows_nothing(_sirets: object, _sirens: object) -> dict[str, dict[str, Any]]:
    """A fabric store that holds establishments, none of them these."""
    return {}


def _write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_update_mode_shows_and_applies_the_differences(db: Session, world: World, tmp_path: Path) -> None:
    # Décolletage Dupont (SIREN of siret(1001)) is a member of A since 2020-03-01.
    path = _write(
        tmp_path / "m.csv",
        "siret;siren;nom;nature;date_adhesion;type_adhesion",
        f"{siret(1001)};;Dupont SAS;laboratoire;01/01/2020;bienfaiteur",
        f";{siren(4004)};Nouvelle;entreprise;2024-02-01;adherent",
    )
    plain = files.import_members(db, LOCAL_ADMIN, world.a, path, strict=True)
    assert [(i.line, i.column) for i in plain.issues] == [(2, "date_adhesion")]  # overlap, as before
    assert not plain.committed

    report = files.import_members(db, LOCAL_ADMIN, world.a, path, update=True)
    assert report.issues == []
    assert (report.inserted, report.updated) == (1, 1)
    changed = {c.column: (c.before, c.after) for c in report.changes}
    assert changed == {
        # the columns as the file names them
        "date_adhesion": ("2020-03-01", "2020-01-01"),
        "type_adhesion": ("adherent", "bienfaiteur"),
        "nom": ("Décolletage Dupont", "Dupont SAS"),
        "nature": ("entreprise", "laboratoire"),  # French words, not codes
        "siret": (None, siret(1001)),  # the period named no establishment
    }
    period = db.get(Membership, world.membership_a)
    assert period is not None
    assert (period.joined, period.membership_type) == (dt.date(2020, 1, 1), "bienfaiteur")
    assert (period.organisation.name, period.organisation.kind) == ("Dupont SAS", "research_lab")


def test_update_mode_under_strict_changes_nothing_when_a_row_is_bad(
    db: Session, world: World, tmp_path: Path
) -> None:
    path = _write(
        tmp_path / "m.csv",
        "siren;nom;date_adhesion",
        f"{siren(1001)};Dupont SAS;2020-03-01",
        f"{siren(4005)};Mauvaise;31/02/2024",
    )
    report = files.import_members(db, LOCAL_ADMIN, world.a, path, update=True, strict=True)
    assert not report.committed
    assert [c.column for c in report.changes] == ["nom"]  # shown, not applied
    org = db.get(Organisation, world.org_a)
    assert org is not None
    assert org.name == "Décolletage Dupont"


def test_update_mode_refuses_a_date_overlapping_another_period(
    db: Session, world: World, tmp_path: Path
) -> None:
    memberships.leave(db, LOCAL_ADMIN, world.a, siren(1001), MemberLeave(left=dt.date(2022, 1, 1)))
    memberships.add_membership(
        db,
        LOCAL_ADMIN,
        world.a,
        MembershipCreate(organisation_id=world.org_a, joined=dt.date(2023, 1, 1)),
    )
    # Moving the second period back to 2021 would overlap the first one (2020-03-01 to 2022).
    path = _write(tmp_path / "m.csv", "siren;date_adhesion", f"{siren(1001)};2021-06-01")
    report = files.import_members(db, LOCAL_ADMIN, world.a, path, update=True)
    assert [(i.column, i.reason) for i in report.issues] == [
        ("date_adhesion", "période qui chevauche l'adhésion du 2020-03-01")
    ]


def test_a_member_absent_from_the_fabric_is_accepted_on_request_and_flagged(
    db: Session, world: World, tmp_path: Path
) -> None:
    path = _write(tmp_path / "m.csv", "siret;nom;date_adhesion", f"{siret(5005)};Hors Tissu;2024-01-02")
    refused = files.import_members(db, LOCAL_ADMIN, world.a, path, lookup=_knows_nothing)
    assert [i.reason for i in refused.issues] == ["SIRET inconnu du tissu productif"]
    report = files.import_members(db, LOCAL_ADMIN, world.a, path, lookup=_knows_nothing, accept_unknown=True)
    assert (report.inserted, [i.line for i in report.outside_fabric]) == (1, [2])
    page = memberships.list_members(db, LOCAL_ADMIN, world.a)
    flags = {m.name: m.in_fabric for m in page.items}
    assert flags["Hors Tissu"] is False
    files.export_members(db, LOCAL_ADMIN, world.a, tmp_path / "out.csv")
    exported = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert exported[0].endswith(",in_fabric")
    assert next(line for line in exported if "Hors Tissu" in line).endswith(",false")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_template_explains_itself_and_imports_once_filled(
    db: Session, world: World, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"modele{suffix}"
    files.write_template(path)
    names = [name for name, _ in files.TEMPLATE_COLUMNS]
    row = [siret(6006), "", "Remplie", "laboratoire", "15/09/2024", "associe"]
    if suffix == ".csv":
        text = path.read_text(encoding="utf-8-sig").splitlines()
        assert text[-1] == ";".join(names)
        assert all(line.startswith(files.NOTE) for line in text[:-1])
        path.write_text("\n".join([*text, ";".join(row)]) + "\n", encoding="utf-8-sig")
        line = len(text) + 1
    else:
        book = load_workbook(path)
        sheet = book["adherents"]
        assert [c.value for c in sheet[1]] == names
        assert all(c.comment is not None and c.comment.text for c in sheet[1])
        assert [r[0] for r in book["Notice"].iter_rows(min_row=2, values_only=True)] == names
        sheet.append(row)
        book.save(path)
        line = 2
    report = files.import_members(db, LOCAL_ADMIN, world.a, path, lookup=_knows_nothing, accept_unknown=True)
    assert (report.inserted, report.issues) == (1, [])
    assert [i.line for i in report.outside_fabric] == [line]  # the file's own line, notes counted


def test_leave_closes_the_running_period_by_siren(db: Session, world: World) -> None:
    manager = world.actors["manager"]
    out = memberships.leave(
        db, manager, world.a, siren(1001), MemberLeave(left=dt.date(2024, 12, 31), reason="cessation")
    )
    assert (out.left, out.leaving_reason) == (dt.date(2024, 12, 31), "cessation")
    with pytest.raises(NotFoundError, match="aucune adhésion en cours au 31/12/2025"):
        memberships.leave(db, manager, world.a, siren(1001), MemberLeave(left=dt.date(2025, 12, 31)))
    with pytest.raises((NotFoundError, PermissionDeniedError)):
        memberships.leave(
            db, world.actors["manager_other"], world.a, siren(1001), MemberLeave(left=dt.date(2024, 1, 1))
        )


def test_contacts_are_listed_changed_and_removed(db: Session, world: World) -> None:
    manager = world.actors["manager"]
    org = organisations.resolve_organisation(db, siren(1001))
    assert org == world.org_a
    contacts = organisations.list_contacts(db, manager, org)
    assert [c.full_name for c in contacts] == ["Anne Dupont", "Caché"]
    hidden = contacts[1]
    out = organisations.update_contact(
        db,
        manager,
        hidden.id,
        ContactUpdate(version=hidden.version, phone="0472000000", directory_consent=True),
    )
    assert (out.phone, out.directory_consent, out.consent_date) == ("0472000000", True, dt.date.today())
    with pytest.raises((NotFoundError, PermissionDeniedError)):
        organisations.update_contact(
            db, world.actors["manager_other"], hidden.id, ContactUpdate(version=out.version, phone="1")
        )
    organisations.remove_contact(db, manager, hidden.id)
    assert [c.full_name for c in organisations.list_contacts(db, manager, org)] == ["Anne Dupont"]


def test_tokens_are_listed_without_secret_and_revoked(db: Session, world: World) -> None:
    user = accounts.actor_for(db, "m@meca.fr").user_id
    assert user is not None
    issued = accounts.issue_token(db, LOCAL_ADMIN, user, "tableur")
    listed = accounts.list_tokens(db, LOCAL_ADMIN, user)
    assert [(t.id, t.name, t.revoked_at) for t in listed] == [(issued.id, "tableur", None)]
    assert issued.token not in json.dumps([t.model_dump(mode="json") for t in listed])
    accounts.revoke_token(db, LOCAL_ADMIN, issued.id)
    assert accounts.list_tokens(db, LOCAL_ADMIN, user)[0].revoked_at is not None
    with pytest.raises(PermissionDeniedError):
        accounts.list_tokens(db, world.actors["manager"])


# --- the commands ----------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["registry", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_label_kinds_of_the_command_are_the_models() -> None:
    from grappe.cli.registry.clusters import LABEL_KINDS

    assert set(LABEL_KINDS) == {k.value for k in LabelKind} - {LabelKind.NONE.value}


def test_daily_tasks_from_the_command_line(tmp_path: Path) -> None:
    assert run("create", "Mécanique Rhône", "--acronym", "MECA", "--commune", "69123")[0] == 0
    template = tmp_path / "modele.csv"
    code, out = run("template", str(template))
    assert code == 0, out
    text = template.read_text(encoding="utf-8-sig").rstrip("\n")
    members = tmp_path / "m.csv"
    members.write_text(
        f"{text}\n{siret(11)};;Alpha;;02/01/2023;adherent\n{siret(12)};;Beta;;2023-05-01;\n",
        encoding="utf-8-sig",
    )
    code, out = run("import", "MECA", str(members))
    assert code == 0, out
    assert "2 adhésions créées, 0 rejetées" in out
    members.write_text(
        f"{text}\n{siret(11)};;Alpha Industrie;;02/01/2023;bienfaiteur\n", encoding="utf-8-sig"
    )
    code, out = run("import", "MECA", str(members), "--update")
    assert code == 0, out
    assert "0 adhésions créées, 1 mises à jour, 0 rejetées" in out
    assert "Modifications" in out
    assert "bienfaiteur" in out
    assert "Alpha Industrie" in out

    code, out = run("members", "MECA")
    assert code == 0, out
    assert "Alpha Industrie" in out
    assert "hors tissu" in out
    code, out = run("leave", "MECA", siren(12), "--date", "31/12/2024", "--reason", "cessation")
    assert code == 0, out
    assert "Départ enregistré : Beta" in out
    assert "Beta" not in run("members", "MECA")[1]
    assert "Beta" in run("members", "MECA", "--all")[1]

    code, out = run(
        "contact-add", siren(11), "--name", "Léa Martin", "--email", "lea@alpha.fr", "--directory"
    )
    assert code == 0, out
    assert "Contact n° 1 ajouté" in out
    code, out = run("contact-edit", "1", "--phone", "0472000000", "--no-directory")
    assert code == 0, out
    assert "0472000000" in out
    assert "non" in out
    assert "Léa Martin" in run("contacts", siren(11))[1]
    assert run("contact-remove", "1")[0] == 0
    assert "Léa Martin" not in run("contacts", siren(11))[1]

    code, out = run("label-add", "MECA", "--kind", "pole", "--name", "Phase V", "--from", "01/01/2023")
    assert code == 0, out
    code, out = run("labels", "MECA")
    assert "pôle de compétitivité" in out
    assert "Phase V" in out
    assert "en cours" in out

    assert run("user-add", "m@meca.fr", "--role", "manager", "--cluster", "1")[0] == 0
    code, out = run("token-issue", "m@meca.fr", "--name", "tableur")
    assert code == 0, out
    secret = out.splitlines()[-1]
    assert secret.startswith("grp_")
    code, out = run("tokens", "--user", "m@meca.fr")
    assert "tableur" in out
    assert "actif" in out
    assert secret not in out
    assert run("token-revoke", "1")[0] == 0
    assert "révoqué" in run("tokens")[1]
    refused = runner.invoke(app, ["registry", "--as", secret, "list"])
    assert isinstance(refused.exception, PermissionDeniedError), refused.output

    schedule = tmp_path / "bareme.json"
    schedule.write_text(
        json.dumps(
            {
                "year": 2024,
                "due_days": 0,
                "rules": [
                    {"membership_type": "adherent", "amount_eur": "90"},
                    {"membership_type": "bienfaiteur", "amount_eur": "500"},
                ],
            }
        ),
        encoding="utf-8",
    )
    assert run("fee-schedule", "MECA", str(schedule))[0] == 0
    code, out = run("fee-calls", "MECA", "2024", "--issue")
    assert "2 appel(s) émis" in out, out
    beta = next(c for c in out.splitlines() if "Beta" in c).split("│")[1].strip()
    code, out = run("waive", "MECA", beta, "--reason", "première année")
    assert code == 0, out
    assert "exonéré" in out
    code, out = run("waivers", "MECA", "--year", "2024")
    assert "première année" in out
    assert "Beta" in out

    code, out = run("figures", "MECA", "--year", "2023", "--format", "json")
    assert code == 0, out
    figures = json.loads(out)
    assert (figures["on"], figures["members"]) == ("2023-12-31", 2)
    code, out = run("figures", "MECA", "--year", str(dt.date.today().year), "--format", "json")
    assert json.loads(out)["members"] == 1  # Beta left at the end of 2024


def test_the_readme_documents_the_template_columns_as_the_code_writes_them() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name, note in files.TEMPLATE_COLUMNS:
        assert f"| `{name}` | {note} |" in readme


def test_a_report_names_the_columns_as_the_file_writes_them(
    db: Session, world: World, tmp_path: Path
) -> None:
    path = _write(
        tmp_path / "m.csv",
        "SIREN;Name;Joined;Kind",
        f"{siren(4010)};Bonne;2024-01-10;firm",
        f"{siren(4011)};Mauvaise;2024-02-30;firm",
        f"{siren(4012)};Chimère;2024-01-10;usine",
    )
    report = files.import_members(db, LOCAL_ADMIN, world.a, path)
    assert [(i.line, i.column) for i in report.issues] == [(3, "Joined"), (4, "Kind")]
    # a column the file lacks is named as the template names it
    path = _write(tmp_path / "n.csv", "siren;nom", f"{siren(4013)};Sans date")
    [missing] = files.import_members(db, LOCAL_ADMIN, world.a, path).issues
    assert (missing.column, missing.reason) == ("date_adhesion", "date d'adhésion manquante")
