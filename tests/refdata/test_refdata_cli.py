"""`grappe refdata` commands through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from grappe.cli import app

runner = CliRunner()


def test_naf_shows_code_level_label_and_parents() -> None:
    result = runner.invoke(app, ["refdata", "naf", "2562a"])
    assert result.exit_code == 0, result.output
    assert "25.62A (sous-classe) : Décolletage" in result.output
    for parent in ("25.62 (classe)", "25.6 (groupe)", "25 (division)", "C (section)"):
        assert parent in result.output
    assert "activité exposée, catégorie de grappe : Travail des métaux" in result.output
    result = runner.invoke(app, ["refdata", "naf", "85.20Z"])
    assert "activité présentielle" in result.output


def test_naf_unknown_code_fails_with_message() -> None:
    result = runner.invoke(app, ["refdata", "naf", "25.63A"])
    assert result.exit_code == 2
    assert "code NAF inconnu : '25.63A'" in result.output


def test_info_text_and_json() -> None:
    result = runner.invoke(app, ["refdata", "info"])
    assert result.exit_code == 0, result.output
    assert "732" in result.output
    assert "@etalab/decoupage-administratif" in result.output
    assert "306 zones" in result.output
    assert "embarquées" in result.output
    result = runner.invoke(app, ["refdata", "info", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"]["naf"]["sous-classe"] == 732
    assert data["zones_emploi"]["imported"] is False
    assert data["zones_emploi"]["zones"] == 306
    assert "zones_emploi.parquet" in data["provenance"]["files"]
    assert "naf.parquet" in data["provenance"]["files"]
    assert "cluster_definitions.parquet" in data["provenance"]["files"]
    assert data["counts"]["traded_sous_classes"] == 499
    assert data["counts"]["cluster_categories"] == 52
    result = runner.invoke(app, ["refdata", "info", "--format", "xml"])
    assert result.exit_code == 2


def test_import_ze_then_info(real_data: Path) -> None:
    path = real_data / "insee_communes_ze2020_geo2022.xlsx"
    result = runner.invoke(app, ["refdata", "import-ze", str(path)])
    assert result.exit_code == 0, result.output
    assert "306 zones" in result.output
    assert "287 en France métropolitaine" in result.output
    info = json.loads(runner.invoke(app, ["refdata", "info", "--format", "json"]).output)
    assert info["zones_emploi"]["imported"] is True
    assert info["zones_emploi"]["zones"] == 306


def test_import_ze_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "ze.xlsx"
    bad.write_text("pas un classeur", encoding="utf-8")
    result = runner.invoke(app, ["refdata", "import-ze", str(bad)])
    assert result.exit_code == 2
    assert "xlsx" in result.output
