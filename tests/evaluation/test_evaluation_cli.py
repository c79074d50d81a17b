"""`grappe evaluation ...` through Typer's CliRunner: French output, files written, exit statuses."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from grappe.cli import app
from grappe.cli import evaluation as cli
from grappe.evaluation.models import Area
from grappe.evaluation.service import PEER_CRITERIA

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return 2, str(result.exception)
    return result.exit_code, result.output


def test_the_help_values_are_the_models() -> None:
    assert tuple(a.value for a in Area) == cli.AREAS
    assert cli.PEER_CRITERIA == PEER_CRITERIA


def test_contract_scorecard_benchmark_and_report_end_to_end(tmp_path: Path) -> None:
    assert run("registry", "create", "Mécanique Rhône", "--acronym", "MECA", "--commune", "69123")[0] == 0
    assert run("registry", "create", "Granit Bretagne", "--acronym", "GRAN")[0] == 0
    code, out = run(
        "registry", "label-add", "MECA", "--kind", "grappe", "--from", "2011-01-01", "--funder", "DATAR"
    )
    assert code == 0, out
    code, out = run("registry", "user-add", "f@datar.gouv.fr", "--role", "funder", "--funder", "DATAR")
    assert code == 0, out

    code, out = run("evaluation", "indicators")
    assert code == 0, out
    assert "Part de PME" in out

    targets = tmp_path / "cibles.csv"
    targets.write_text("indicator;year;target;baseline\nmembers;2025;10;0\n", encoding="utf-8")
    code, out = run(
        "evaluation",
        "--as",
        "f@datar.gouv.fr",
        "contract",
        "add",
        "MECA",
        "--title",
        "Contrat 2025",
        "--from",
        "2025",
        "--to",
        "2026",
        "--amount",
        "200000",
        "--share",
        "0,25",
        "--targets",
        str(targets),
    )
    assert code == 0, out
    assert "contrat 1 établi" in out
    code, out = run("evaluation", "--as", "f@datar.gouv.fr", "contract", "show", "1", "--year", "2025")
    assert code == 0, out
    assert "atteinte pondérée" in out
    code, out = run("evaluation", "contract", "list")
    assert "Contrat 2025" in out

    proof = tmp_path / "bilan.pdf"
    proof.write_bytes(b"%PDF-1.4 bilan")
    code, out = run(
        "evaluation",
        "declare",
        "MECA",
        "services_revenue",
        "42000",
        "--year",
        "2025",
        "--evidence",
        str(proof),
    )
    assert code == 0, out
    code, out = run(
        "evaluation", "self-assess", "MECA", "governance", "4", "--year", "2025", "--comment", "Bureau élu"
    )
    assert code == 0, out
    code, out = run("evaluation", "scorecard", "MECA", "--year", "2025")
    assert code == 0, out
    assert "PME en réseau" in out
    assert "Gouvernance" in out
    code, out = run("evaluation", "benchmark", "MECA", "members", "--year", "2025", "--peers", "none")
    assert code == 0, out
    assert "Granit Bretagne" in out  # the local administrator sees names
    code, out = run(
        "evaluation",
        "--as",
        "f@datar.gouv.fr",
        "benchmark",
        "MECA",
        "members",
        "--year",
        "2025",
        "--peers",
        "none",
    )
    assert "Pair 1" in out
    assert "Granit" not in out

    every = tmp_path / "indicateurs.csv"
    code, out = run("evaluation", "indicators", "--all", "--year", "2025", "--out", str(every))
    assert code == 0, out
    header = every.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("cluster_id,cluster,year,members,")
    report = tmp_path / "rapport.html"
    code, out = run("evaluation", "report", "MECA", "--year", "2025", "--out", str(report))
    assert code == 0, out
    assert "Rapport d" in report.read_text(encoding="utf-8")
    portfolio = tmp_path / "portefeuille.html"
    code, out = run(
        "evaluation", "--as", "f@datar.gouv.fr", "report", "--year", "2025", "--out", str(portfolio)
    )
    assert code == 0, out
    assert "DATAR" in portfolio.read_text(encoding="utf-8")


def test_bad_input_is_one_french_line(tmp_path: Path) -> None:
    assert run("registry", "create", "Mécanique Rhône", "--acronym", "MECA")[0] == 0
    cases = [
        (("evaluation", "declare", "MECA", "nope", "1", "--year", "2025"), "indicateur « nope » inconnu"),
        (("evaluation", "declare", "MECA", "members", "beaucoup", "--year", "2025"), "VALEUR 'beaucoup'"),
        (("evaluation", "self-assess", "MECA", "morale", "3", "--year", "2025"), "DOMAINE 'morale'"),
        (("evaluation", "self-assess", "MECA", "governance", "9", "--year", "2025"), "score"),
        (("evaluation", "scorecard", "MECA", "--year", "2025", "--peers", "taille"), "--peers 'taille'"),
        (
            ("evaluation", "report", "MECA", "--year", "2025", "--out", str(tmp_path / "r.doc")),
            ".html ou .pdf",
        ),
        (("evaluation", "scorecard", "NOPE", "--year", "2025"), "introuvable"),
        (("evaluation", "indicators", "--cluster", "MECA"), "--year"),
        (
            (
                "evaluation",
                "declare",
                "MECA",
                "members",
                "3",
                "--year",
                "2025",
                "--evidence",
                str(tmp_path / "x.pdf"),
            ),
            "fichier introuvable",
        ),
    ]
    for args, message in cases:
        code, out = run(*args)
        assert code == 2, (args, out)
        assert message in out, (args, out)
