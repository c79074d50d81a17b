"""`grappe registry ...` and `grappe serve` through Typer's CliRunner (French output)."""

from __future__ import annotations

import json
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from dbkit import siren
from fabric_kit import write_fabric
from typer.testing import CliRunner

from grappe.cli import app
from grappe.errors import InputError, NotFoundError, PermissionDeniedError, UnknownCodeError
from grappe.kit.mail import outbox

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_registry_commands_end_to_end(tmp_path: Path) -> None:
    assert run("registry", "migrate")[0] == 0
    code, out = run(
        "registry", "create", "Mécanique Rhône", "--acronym", "MECA", "--commune", "69123", "--naf", "25.62A"
    )
    assert code == 0, out
    assert "Structure créée" in out
    members = tmp_path / "m.csv"
    members.write_text(
        f"siren;nom;date_adhesion\n{siren(11)};Alpha;2024-01-02\n{siren(12)};Beta;31/13/2024\n",
        encoding="utf-8",
    )
    code, out = run("registry", "import", "MECA", str(members))
    assert code == 0, out
    assert "1 adhésions créées, 1 rejetées" in out
    assert "date invalide" in out
    code, out = run("registry", "import", "MECA", str(members), "--strict")
    assert code == 2  # CONTRACTS: --strict with a reported row is bad input
    assert "rien n'a été écrit" in out
    code, out = run("registry", "export", "MECA", str(tmp_path / "out.xlsx"))
    assert code == 0, out
    schedule = tmp_path / "bareme.json"
    schedule.write_text(
        json.dumps(
            {"year": 2024, "due_days": 0, "rules": [{"membership_type": "adherent", "amount_eur": "90"}]}
        ),
        encoding="utf-8",
    )
    assert run("registry", "fee-schedule", "MECA", str(schedule))[0] == 0
    code, out = run("registry", "fee-calls", "MECA", "2024", "--issue")
    assert code == 0, out
    assert "1 appel(s) émis (90,00\xa0€)" in out
    assert "à payer" in out  # the status's French label, not its code
    code, out = run("registry", "pay", "1", "40", "--date", "01/03/2024")  # as imports write it
    assert "payé 40,00\xa0€ sur 90,00\xa0€" in out
    code, out = run("registry", "dunning", "MECA", "--at", "01/01/2099")
    assert "Alpha" in out
    assert "50,00\xa0€" in out  # what remains due
    bad = runner.invoke(app, ["registry", "pay", "1", "quarante"])
    assert isinstance(bad.exception, InputError)  # rendered by the entry point, exit status 2
    assert "MONTANT 'quarante' invalide" in str(bad.exception)
    code, out = run("registry", "pay", "1", "49,50")  # people's decimal comma
    assert code == 0, out
    code, out = run("registry", "pay", "1", "0.50")  # and the program's decimal point
    assert "payé 90,00\xa0€ sur 90,00\xa0€ — payé" in out
    wrong = runner.invoke(app, ["registry", "dunning", "MECA", "--at", "31/02/2099"])
    assert isinstance(wrong.exception, InputError)
    assert str(wrong.exception) == "--at '31/02/2099' : date invalide, attendu AAAA-MM-JJ ou JJ/MM/AAAA"
    code, out = run("registry", "directory", "--region", "84")
    assert "Mécanique" in out
    assert "84 (Auvergne-Rhône-Alpes)" in " ".join(out.split())  # the table may wrap the name
    code, out = run("registry", "figures", "MECA", "--format", "json")
    assert json.loads(out)["members"] == 1
    code, out = run("registry", "figures", "MECA")
    assert "Adhérents au " in out
    assert "Cotisations encaissées" in out
    assert "50,00\xa0€" in out
    code, out = run("registry", "show", "MECA")
    assert "Adhérents : 1" in out
    assert "Territoire : commune 69123 (Lyon)" in out
    assert "Secteurs : 25.62A (Décolletage)" in out
    code, out = run("registry", "prospects", "MECA", "--store", str(write_fabric(tmp_path / "fabric")))
    assert code == 0, out
    assert "25.62A (Décolletage)" in " ".join(out.split())


def test_acting_user_and_errors_in_french(tmp_path: Path) -> None:
    assert run("registry", "create", "A", "--commune", "69123")[0] == 0
    code, out = run("registry", "user-add", "m@a.fr", "--role", "manager", "--cluster", "1", "--token")
    assert code == 0, out
    token = out.splitlines()[-1]  # CONTRACTS: the token alone on the last line of stdout
    assert token.startswith("grp_"), out
    code, out = run("registry", "--as", token, "list")
    assert code == 0, out
    denied = runner.invoke(app, ["registry", "--as", "public", "create", "B"])
    assert isinstance(denied.exception, PermissionDeniedError)
    unknown = runner.invoke(app, ["registry", "create", "C", "--commune", "99999"])
    assert isinstance(unknown.exception, UnknownCodeError)
    assert "99999" in str(unknown.exception)
    invalid = runner.invoke(app, ["registry", "user-add", "pas-un-email", "--role", "admin"])
    assert isinstance(invalid.exception, InputError)
    assert "email" in str(invalid.exception)


def test_invite_and_accept_from_the_command_line(tmp_path: Path) -> None:
    """Cluster B invites A's member by SIREN; A's member user accepts; errors stay French."""
    assert run("registry", "create", "Alpha", "--acronym", "ALP", "--commune", "69123")[0] == 0
    assert run("registry", "create", "Bêta", "--acronym", "BET", "--commune", "35238")[0] == 0
    members = tmp_path / "m.csv"
    members.write_text(f"siren;nom;date_adhesion\n{siren(21)};Gamma;2024-01-02\n", encoding="utf-8")
    assert run("registry", "import", "ALP", str(members))[0] == 0
    assert run("registry", "user-add", "m@bet.fr", "--role", "manager", "--cluster", "2")[0] == 0
    assert run("registry", "user-add", "u@gamma.fr", "--role", "member", "--organisation", "1")[0] == 0
    code, out = run(
        "registry", "--as", "m@bet.fr", "invite", "BET", siren(21), "--joined", "01/01/2025"
    )
    assert code == 0, out
    assert "Invitation n° 1 envoyée" in out
    assert "Message envoyé à u@gamma.fr." in out  # its member user, here to the outbox
    (mail,) = outbox()
    message = message_from_bytes(mail.read_bytes(), policy=default)
    assert message["Subject"] == "grappe : invitation de Bêta"
    code, out = run("registry", "--as", "m@bet.fr", "invitations")
    assert "Gamma" not in out  # nothing of the organisation before it accepts
    denied = runner.invoke(app, ["registry", "--as", "m@bet.fr", "accept", "1"])
    assert isinstance(denied.exception, PermissionDeniedError)
    code, out = run("registry", "--as", "u@gamma.fr", "invitations")
    assert "Gamma" in out
    assert "Bêta" in out
    code, out = run("registry", "--as", "u@gamma.fr", "accept", "1")
    assert code == 0, out
    assert "acceptée" in out
    code, out = run("registry", "--as", "m@bet.fr", "export", "BET", str(tmp_path / "b.csv"))
    assert code == 0, out
    assert "Gamma" in (tmp_path / "b.csv").read_text(encoding="utf-8")
    unknown = runner.invoke(
        app, ["registry", "--as", "m@bet.fr", "invite", "BET", siren(99), "--joined", "2025-01-01"]
    )
    assert isinstance(unknown.exception, NotFoundError)
    assert "créez-la" in str(unknown.exception)
