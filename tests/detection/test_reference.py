"""--reference: a regional store's location quotients and sizes against the national store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from _candidates_fabric import isolated_home, synthetic_store
from typer.testing import CliRunner

from grappe.cli import app
from grappe.detection.aggregate import aggregate
from grappe.detection.candidates import Candidates, detect
from grappe.detection.indicators import indicators
from grappe.detection.ranking import MinimumMass
from grappe.detection.reference import OWN_REFERENCE, reference_totals
from grappe.fabric.store import FabricStore
from grappe.refdata import territories

# Auvergne-Rhône-Alpes: holds the planted décolletage of the Arve valley (Cluses, 74081).
REGION = "84"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The national synthetic store and its extract for one région, as a store of its own."""
    base = tmp_path_factory.getbasetemp()
    national, _ = synthetic_store(base)
    regional = base / "regional_84" / "store"
    if not regional.is_dir():
        table = pq.read_table(national.parent / "sirene.parquet")
        communes = table["codeCommuneEtablissement"].to_numpy(zero_copy_only=False)
        inside = territories.parents(communes.astype(str), "region") == REGION
        extract = regional.parent / "sirene_84.parquet"
        extract.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.filter(pc.equal(np.asarray(inside), True)), extract)
        with isolated_home(regional.parent / "home"):
            FabricStore.open(regional).import_files([extract], format="sirene")
    return national, regional


def _detect(store: Path, reference: Path | None = None) -> Candidates:
    # every presence, not only the heavy ones: more cells to compare
    return detect(store, level="ze", permutations=0, reference=reference,
                  minimum_mass=MinimumMass(0, 0))


def test_quotients_and_sizes_compare_with_the_reference_store(stores: tuple[Path, Path]) -> None:
    national, regional = stores
    found = _detect(regional, reference=national)
    own = _detect(regional)
    frame = found.frame
    assert len(frame) > 1000
    # LQ = the territory's share of the sector / the reference's share; size = x / R_s
    totals = reference_totals(national, "ze", "sous-classe")
    col, whole = totals.aligned(frame["sector"].to_numpy(), "employment")
    np.testing.assert_allclose(frame["lq"], frame["focus"] / (col / whole), rtol=1e-9)
    np.testing.assert_allclose(frame["size"], frame["employment"] / col, rtol=1e-9)
    # undefined only for a sector without employment in the reference either
    defined = frame["lq"].notna().to_numpy()
    assert (defined == (col > 0)).all()
    assert (frame["lq_low"][defined] <= frame["lq"][defined] * (1 + 1e-12)).all()
    assert (frame["lq"][defined] <= frame["lq_high"][defined] * (1 + 1e-12)).all()
    # every output names its reference: the column, the attribute, the reasons
    assert (frame["reference"] == str(national)).all()
    assert found.reference == str(national)
    stated = frame["reasons"][defined].str.contains(f"moyenne de la référence « {national} »")
    assert stated.all()
    assert (own.frame["reference"] == OWN_REFERENCE).all()
    assert not own.frame["reasons"].str.contains("référence").any()
    # décolletage is a regional speciality: more specialised against France than within
    # its own région, where the Arve valley weighs in the average
    arve = territories.parents(["74081"], "ze")[0]
    key = ["territory_code", "sector"]
    both = frame.merge(own.frame, on=key, suffixes=("_fr", "_own")).set_index(key)
    assert both.loc[(arve, "25.62A"), "lq_fr"] > both.loc[(arve, "25.62A"), "lq_own"]


def test_a_store_as_its_own_reference_keeps_its_quotients(stores: tuple[Path, Path]) -> None:
    national, _ = stores
    key = ["territory_code", "sector"]
    own = _detect(national).frame.sort_values(key, ignore_index=True)
    same = _detect(national, reference=national).frame.sort_values(key, ignore_index=True)
    # the same cells (the order may differ where scores tie to the last bit)
    pd.testing.assert_frame_equal(same[key], own[key])
    for column in ("lq", "size", "lq_credible_low", "score"):
        np.testing.assert_allclose(same[column], own[column], rtol=1e-9)
    # the size-band ranges differ: a reference's totals are held at their central estimate


def test_command_writes_the_reference_and_refuses_a_missing_store(
    stores: tuple[Path, Path], tmp_path: Path
) -> None:
    national, regional = stores
    out = tmp_path / "candidats.csv"
    result = CliRunner().invoke(app, ["detect", "--store", str(regional), "--level", "ze",
                                      "--permutations", "0", "--reference", str(national),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert set(pd.read_csv(out)["reference"]) == {str(national)}
    result = CliRunner().invoke(app, ["detect", "--store", str(regional),
                                      "--reference", str(tmp_path / "absent")])
    assert result.exit_code == 2
    assert f"--reference {tmp_path / 'absent'} : magasin introuvable" in result.stderr


def test_indicators_command_compares_with_the_reference(
    stores: tuple[Path, Path], tmp_path: Path
) -> None:
    national, regional = stores
    key = ["territory_code", "sector"]

    def cells(*extra: str) -> pd.DataFrame:
        out = tmp_path / "indicateurs.csv"
        result = CliRunner().invoke(app, ["indicators", "--store", str(regional), "--level",
                                          "ze", "--sectors", "sous-classe", "--out", str(out),
                                          *extra])
        assert result.exit_code == 0, result.stderr
        frame = pd.read_csv(out, dtype={"territory": str, "sector": str})
        return frame.sort_values(key, ignore_index=True)

    own = cells()
    compared = cells("--reference", str(national))
    assert "reference" not in own.columns  # no reference given: the output stays as it was
    assert set(compared["reference"]) == {str(national)}
    # the quotients are the library's with the national totals, not the region's own
    counts = aggregate(regional, "ze", "sous-classe")
    expected = indicators(counts, reference=reference_totals(national, "ze", "sous-classe"))
    lq = expected.frame("cells").sort_values(key, ignore_index=True)["lq"]
    np.testing.assert_allclose(compared["lq"], lq, rtol=1e-12)
    assert not np.allclose(compared["lq"], own["lq"], equal_nan=True)
    result = CliRunner().invoke(app, ["indicators", "--store", str(regional),
                                      "--reference", str(tmp_path / "absent")])
    assert result.exit_code == 2
    assert f"--reference {tmp_path / 'absent'} : magasin introuvable" in result.stderr
