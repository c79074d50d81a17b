"""Objectives contracts, evidence files and reports: bad input refused in French, results computed."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from grappe.errors import InputError, NotFoundError
from grappe.evaluation import evidence, reports, service
from grappe.evaluation.files import read_targets, read_thresholds
from grappe.evaluation.schemas import ContractIn, DeclareIn, SelfAssessmentIn
from grappe.registry.policy import LOCAL_ADMIN

PDF = b"%PDF-1.4 test"


def contract(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "cluster_id": 1,
        "title": "Contrat de performance",
        "start_year": 2024,
        "end_year": 2026,
        "amount_eur": "300000",
        "share_at_stake": "0.3",
        "indicators": [
            {"indicator": "members", "baseline": 2, "weight": 2, "targets": {2024: 4, 2025: 5}},
            {"indicator": "business_between_members", "targets": {2024: 10_000}},
        ],
    }
    values.update(changes)
    return values


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_year": 2023}, "fin 2023 avant début 2024"),
        ({"indicators": [{"indicator": "nope", "targets": {2024: 1}}]}, "indicateur « nope » inconnu"),
        ({"indicators": [{"indicator": "members", "targets": {2030: 1}}]}, "hors de la période"),
        (
            {"indicators": [{"indicator": "members", "targets": {2024: 1}}] * 2},
            "indicateur « members » en double",
        ),
        ({"share_at_stake": "1.5"}, "less than or equal to 1"),
        ({"indicators": [{"indicator": "members", "weight": 0, "targets": {2024: 1}}]}, "greater than 0"),
    ],
)
def test_a_bad_contract_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ContractIn.model_validate(contract(**changes))


def test_the_results_based_funding_of_a_year(db: Session, rich: Any) -> None:
    a = rich.world.a
    made = service.create_contract(
        db, rich.world.actors["funder"], ContractIn.model_validate(contract(cluster_id=a))
    )
    year = service.contract_year(db, rich.world.actors["manager"], made.id, 2024)
    by = {r.indicator: r for r in year.indicators}
    assert by["members"].actual == 3
    assert by["members"].achievement == pytest.approx(0.5)  # from 2 to 4, 3 reached
    assert by["business_between_members"].achievement == pytest.approx(0.5)  # 5 000 of 10 000
    assert year.yearly_amount_eur == Decimal("100000.00")
    assert year.at_stake_eur == Decimal("30000.00")
    assert year.paid_eur == Decimal("85000.00")  # 70 000 + 50 % of 30 000
    assert [r.indicator for r in service.contract_year(db, LOCAL_ADMIN, made.id, 2026).indicators] == []
    with pytest.raises(InputError, match="hors de la période 2024–2026"):
        service.contract_year(db, LOCAL_ADMIN, made.id, 2027)


def test_a_contract_needs_a_known_funder(db: Session, world: Any) -> None:
    with pytest.raises(InputError, match="précisez le financeur"):
        service.create_contract(db, LOCAL_ADMIN, ContractIn.model_validate(contract(cluster_id=world.a)))
    with pytest.raises(NotFoundError, match="financeur 999 introuvable"):
        service.create_contract(
            db, LOCAL_ADMIN, ContractIn.model_validate(contract(cluster_id=world.a, funder_id=999))
        )


def test_evidence_is_stored_by_content_under_the_home(db: Session, world: Any, grappe_home: Path) -> None:
    proof = service.Evidence("../../etc/bilan 2024.pdf", PDF)
    out = service.declare_value(
        db, LOCAL_ADMIN, world.a, DeclareIn(indicator="services_revenue", year=2024, value=1), proof
    )
    assert out.evidence_name == "bilan 2024.pdf"
    stored = list((grappe_home / "evidence").rglob("*"))
    files = [p for p in stored if p.is_file()]
    assert len(files) == 1
    assert files[0].read_bytes() == PDF
    assert files[0].stat().st_mode & 0o077 == 0
    area = service.self_assess(
        db, LOCAL_ADMIN, world.a, SelfAssessmentIn(area="services", year=2024, score=4, comment="Bien"), proof
    )
    assert area.evidence_name == "bilan 2024.pdf"
    card = service.scorecard(db, LOCAL_ADMIN, world.a, 2024)
    services = next(a for a in card.areas if a.area == "services")
    assert services.score == 4


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("script.exe", b"MZ", "type .exe refusé"),
        ("faux.pdf", b"<html>", "ne correspond pas à un fichier .pdf"),
        ("vide.txt", b"", "fichier vide"),
        ("binaire.csv", b"a\x00b", "n'est pas du texte"),
        ("gros.txt", b"a" * (evidence.MAX_BYTES + 1), "10 Mo"),
        ("", b"x", "nom de fichier vide"),
    ],
)
def test_bad_evidence_is_refused(name: str, content: bytes, message: str, grappe_home: Path) -> None:
    with pytest.raises(InputError, match=message):
        evidence.store(evidence.Evidence(name, content))
    assert not (grappe_home / "evidence").exists()


def test_spreadsheet_tables(tmp_path: Path) -> None:
    targets = tmp_path / "cibles.csv"
    targets.write_text(
        "indicator;year;target;baseline;weight\nmembers;2024;40;30;2\nmembers;2025;45;;\nretention;2024;0,9;;\n",
        encoding="utf-8",
    )
    rows = read_targets(targets)
    assert rows == [
        {"indicator": "members", "baseline": 30.0, "weight": 2.0, "targets": {2024: 40.0, 2025: 45.0}},
        {"indicator": "retention", "baseline": None, "weight": 1.0, "targets": {2024: 0.9}},
    ]
    targets.write_text("indicator;year;target\nmembers;2024;beaucoup\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"cibles.csv, ligne 2, colonne target \('beaucoup'\) : nombre attendu"
    ):
        read_targets(targets)
    thresholds = tmp_path / "seuils.csv"
    thresholds.write_text("indicator,green,amber\nmembers,80,40\n", encoding="utf-8")
    assert read_thresholds(thresholds) == {"members": (80.0, 40.0)}
    thresholds.write_text("indicator,green,amber\nmembres,80,40\n", encoding="utf-8")
    with pytest.raises(InputError, match="ligne 2, colonne indicator"):
        read_thresholds(thresholds)


def test_reports_in_french_with_charts_and_a_map(db: Session, rich: Any) -> None:
    a = rich.world.a
    service.create_contract(
        db, rich.world.actors["funder"], ContractIn.model_validate(contract(cluster_id=a))
    )
    document = reports.activity_html(service.activity_report(db, rich.world.actors["manager"], a, 2024))
    html = document.html.replace("&#39;", "'")
    assert "Rapport d'activité 2024 — Mécanique Rhône" in html
    assert "PME en réseau" in html
    assert "Valeur ajoutée régionale" in html
    assert "inspirée de l'ESCA" in html
    assert "<svg" in html
    assert html.count("<circle") >= 2  # the territory's communes and the members' at least
    assert "<polygon" in html  # département outlines
    assert re.search(r"85\s000,00\s€", html)  # the contract's payment, French formatting
    portfolio = reports.portfolio_html(service.portfolio(db, rich.world.actors["funder"], 2024)).html
    portfolio = portfolio.replace("&#39;", "'")
    assert "Évaluation du portefeuille 2024 — DATAR" in portfolio
    assert "Mécanique Rhône" in portfolio
    assert "Granit" not in portfolio


def test_the_report_prints_as_pdf(db: Session, world: Any) -> None:
    document = reports.activity_html(service.activity_report(db, LOCAL_ADMIN, world.a, 2024))
    assert reports.pdf(document).startswith(b"%PDF")
