"""`grappe fabric import | info | synth` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from fabrickit import sirene_row, write_csv
from typer.testing import CliRunner

from grappe.cli import app
from grappe.fabric import FabricStore

runner = CliRunner()


def test_import_prints_the_balance_and_info_reads_it(real_data: Path, tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "s.csv", [sirene_row(i) for i in range(3)]
                    + [sirene_row(9, activitePrincipaleEtablissement="99.99Z")])
    store = tmp_path / "store"
    result = runner.invoke(app, ["fabric", "import", str(csv),
                                 str(real_data / "urssaf_commune_ape_ze2815_rouen.csv"),
                                 "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "lignes lues = lignes stockées + lignes en quarantaine : 4 = 3 + 1" in result.output
    assert "9\u202f338 = 9\u202f338 + 0" in result.output
    again = runner.invoke(app, ["fabric", "import", str(csv), "--store", str(store)])
    assert again.exit_code == 0, again.output
    assert "déjà importé" in again.output
    assert FabricStore.open(store).sources().num_rows == 2

    text = runner.invoke(app, ["fabric", "info", "--store", str(store)])
    assert text.exit_code == 0, text.output
    assert "code NAF inconnu" in text.output
    assert "agrégats : commune" in text.output
    as_json = runner.invoke(app, ["fabric", "info", "--store", str(store), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    info = json.loads(as_json.output)
    assert info["quarantine_by_reason"] == {"code NAF inconnu": 1}
    assert info["rows_by_kind"]["establishments"] == 3
    assert info["years"] == [2006, 2022]


def test_wrong_format_exits_with_a_clear_message(real_data: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["fabric", "import", "--format", "urssaf",
                                 str(real_data / "sirene_lyon4e_periodes.parquet"),
                                 "--store", str(tmp_path / "store")])
    assert result.exit_code == 2
    assert "n'est pas au format urssaf" in result.output
    assert "trouvé : siret, dateDebut, dateFin" in result.output
    bad = runner.invoke(app, ["fabric", "info", "--store", str(tmp_path / "store"),
                              "--format", "xml"])
    assert bad.exit_code == 2
    assert "--format 'xml' inconnu" in bad.output


def test_synth_then_import(tmp_path: Path) -> None:
    out = tmp_path / "synth.csv"
    result = runner.invoke(app, ["fabric", "synth", "--establishments", "300", "--seed", "3",
                                 "--out", str(out), "--invalid-rate", "0.1"])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    store = FabricStore.open(tmp_path / "store")
    (report,) = store.import_files([out])
    assert report.rows_read == 300
    assert report.rows_quarantined > 0
    assert report.rows_read == report.rows_stored + report.rows_quarantined
