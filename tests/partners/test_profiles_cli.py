"""`grappe partners profile` and `grappe partners posting` through CliRunner (SQLite under GRAPPE_HOME)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grappe.cli import app
from grappe.cli import profiles as cli
from grappe.errors import InputError, NotFoundError
from grappe.kit.mail import outbox
from grappe.partners.models import ProfileTag, Visibility
from grappe.partners.profiles.schemas import ProfileField, SearchScope

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def clusters(tmp_path: Path) -> None:
    """MECA with Alpha (1) and Beta (2); GRAN with Gamma (3); a member user for Alpha, one for Gamma."""
    assert run("registry", "create", "Mécanique Rhône", "--acronym", "MECA")[0] == 0
    assert run("registry", "create", "Granit Bretagne", "--acronym", "GRAN")[0] == 0
    meca = tmp_path / "meca.csv"
    meca.write_text("siren;nom;date_adhesion\n000000117;Alpha;2020-01-02\n000000125;Beta;2020-01-02\n")
    gran = tmp_path / "gran.csv"
    gran.write_text("siren;nom;date_adhesion\n000000133;Gamma;2020-01-02\n")
    for cluster, path in (("MECA", meca), ("GRAN", gran)):
        code, out = run("registry", "import", cluster, str(path))
        assert code == 0, out
    for email, role, extra in (
        ("u@alpha.fr", "member", ["--organisation", "1"]),
        ("u@gamma.fr", "member", ["--organisation", "3"]),
        ("m@meca.fr", "manager", ["--cluster", "1"]),
    ):
        code, out = run("registry", "user-add", email, "--role", role, *extra)
        assert code == 0, out


def test_the_help_values_are_the_models() -> None:
    assert tuple(v.value for v in Visibility) == cli.VISIBILITIES
    assert tuple(f.value for f in ProfileField) == cli.FIELDS
    assert tuple(t.value for t in ProfileTag) == cli.TAGS
    assert tuple(s.value for s in SearchScope) == cli.SCOPES


def test_a_profile_from_editing_to_cross_cluster_search(clusters: None) -> None:
    code, out = run(
        "partners", "--as", "u@alpha.fr", "profile", "edit", "1",
        "--capabilities", "Anodisation et traitement de surface", "--needs", "robotique",
        "--tags", "testing,subcontracting", "--visibility", "capabilities=public,needs=manager", "--consent",
    )  # fmt: skip
    assert code == 0, out
    assert "Consentement : oui" in out
    assert "Anodisation" in out
    # Gamma's user finds nothing until MECA shares with GRAN
    code, out = run("partners", "--as", "u@gamma.fr", "profile", "search", "anodisation")
    assert code == 0, out
    assert "Alpha" not in out
    result = runner.invoke(app, ["partners", "--as", "u@gamma.fr", "profile", "show", "1"])
    assert isinstance(result.exception, NotFoundError)
    code, out = run("partners", "--as", "m@meca.fr", "profile", "share", "MECA", "--with", "GRAN")
    assert code == 0, out
    assert "partagés avec : 2" in out
    code, out = run(
        "partners", "--as", "u@gamma.fr", "profile", "search", "anodisation", "--scope", "clusters"
    )
    assert code == 0, out
    assert "Alpha" in out
    assert "anodisation" in out  # the reason names the word
    code, out = run("partners", "--as", "u@gamma.fr", "profile", "show", "1")
    assert code == 0, out
    assert "Anodisation" in out
    assert "robotique" not in out  # a manager-only field
    code, out = run("partners", "profile", "intercluster", "MECA", "--year", "2025")
    assert code == 0, out
    assert "Projets inter-grappes en 2025 : 0" in out


def test_bad_profile_input_says_where(clusters: None) -> None:
    result = runner.invoke(app, ["partners", "profile", "edit", "1", "--tags", "juggling"])
    assert result.exit_code != 0
    assert "--tags" in str(result.exception)
    result = runner.invoke(app, ["partners", "profile", "edit", "1", "--visibility", "needs"])
    assert isinstance(result.exception, InputError)
    assert "champ=niveau" in str(result.exception)
    result = runner.invoke(app, ["partners", "profile", "edit", "1"])
    assert isinstance(result.exception, InputError)
    assert "rien à changer" in str(result.exception)
    result = runner.invoke(app, ["partners", "profile", "share", "MECA", "--all", "--nobody"])
    assert isinstance(result.exception, InputError)


def test_a_call_for_partners_from_posting_to_closing(clusters: None) -> None:
    deadline = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    code, out = run(
        "partners", "--as", "u@alpha.fr", "posting", "create", "MECA", "--title", "Anodisation",
        "--description", "Cherche un traiteur de surface", "--deadline", deadline,
    )  # fmt: skip
    assert code == 0, out
    assert "Recherche 1 (ouverte) : Anodisation — Alpha" in out
    assert len(outbox()) == 1  # no SMTP server configured: the outbox under GRAPPE_HOME
    code, out = run(
        "partners", "posting", "interest", "1", "--organisation", "2", "--message", "Nous anodisons"
    )
    assert code == 0, out
    assert "Intérêt 1 enregistré : Beta" in out
    assert len(outbox()) == 2
    code, out = run("partners", "--as", "u@alpha.fr", "posting", "show", "1")
    assert code == 0, out
    assert "Nous anodisons" in out
    code, out = run("partners", "--as", "u@alpha.fr", "posting", "list")
    assert code == 0, out
    assert "Anodisation" in out
    code, out = run("partners", "--as", "m@meca.fr", "posting", "close", "1")
    assert code == 0, out
    assert "(close)" in out
    result = runner.invoke(app, ["partners", "posting", "interest", "1", "--organisation", "3"])
    assert isinstance(result.exception, InputError)
    assert "close" in str(result.exception)
    result = runner.invoke(app, ["partners", "--as", "u@gamma.fr", "posting", "show", "1"])
    assert isinstance(result.exception, NotFoundError)
    result = runner.invoke(
        app,
        ["partners", "posting", "create", "MECA", "--title", "x", "--description", "y",
         "--deadline", "31/02/2026", "--organisation", "1"],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "--deadline" in str(result.exception)
