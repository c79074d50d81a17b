"""French cluster definitions: the build script, its coverage, known codes and the refdata module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pyarrow.parquet as pq
import pytest
from _scripts import load_script

from grappe.errors import InputError, UnknownCodeError
from grappe.fabric.synth import PLANTED_CLUSTERS
from grappe.refdata import clusters, naf
from grappe.refdata._files import data_path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_cluster_definitions.py"
PACKAGED = data_path("cluster_definitions.parquet")


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script("build_cluster_definitions")


@pytest.fixture(scope="module")
def shared(real_data: Path) -> Path:
    return real_data.parent / "reference" / "cluster-definitions"


def test_two_builds_give_the_same_bytes_as_the_package(
    script: ModuleType, shared: Path, tmp_path: Path
) -> None:
    naf_path = data_path("naf.parquet")
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        script.build(tmp_path / name, shared, naf_path)
    one, two = (tmp_path / n / "cluster_definitions.parquet" for n in ("one", "two"))
    assert one.read_bytes() == two.read_bytes() == PACKAGED.read_bytes()
    recorded = json.loads(data_path("PROVENANCE.json").read_text("utf-8"))["files"]
    rebuilt = json.loads((tmp_path / "one" / "PROVENANCE.json").read_text("utf-8"))["files"]
    assert rebuilt["cluster_definitions.parquet"] == recorded["cluster_definitions.parquet"]


def test_check_mode_compares_with_the_package(shared: Path) -> None:
    env = {**os.environ, "GRAPPE_SHARED_DATA": str(shared.parents[1])}
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True,
                          text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "identical to a rebuild" in done.stdout
    assert "us_mixed:local" in done.stdout  # the count of codes each route decided


def test_check_mode_fails_on_a_changed_package(shared: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    out.mkdir()
    (out / "PROVENANCE.json").write_bytes(data_path("PROVENANCE.json").read_bytes())
    table = pq.read_table(PACKAGED)
    pq.write_table(table.slice(1), out / "cluster_definitions.parquet")
    env = {**os.environ, "GRAPPE_SHARED_DATA": str(shared.parents[1])}
    done = subprocess.run([sys.executable, str(SCRIPT), "--check", "--out", str(out)],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode != 0
    assert "differs from a rebuild" in done.stderr


def test_every_sous_classe_is_decided() -> None:
    table = clusters.definitions().to_pandas()
    assert table["code"].tolist() == naf.codes("sous-classe")
    assert len(table) == 732
    assert table["traded"].notna().all()
    assert table["route"].isin(["us_unanimous", "us_mixed", "narrowed", "manual"]).all()
    traded = table[table["traded"]]
    local = table[~table["traded"]]
    assert traded["category"].notna().all()
    assert traded["category_name"].notna().all()
    assert local["category"].isna().all()
    # the 30 % rule decides the mixed codes; the others say why they were decided by hand
    mixed = table[table["route"] == "us_mixed"]
    assert (mixed["traded"] == (mixed["traded_share"] >= 0.30)).all()
    assert ((mixed["traded_share"] > 0) & (mixed["traded_share"] < 1)).all()
    assert (table.loc[table["route"] != "us_unanimous", "reason"].str.len() > 10).all()
    # a reasonable split: most industries trade, the local economy is a large minority
    assert 0.5 < len(traded) / len(table) < 0.8


@pytest.mark.parametrize(
    ("code", "is_traded", "category"),
    [
        ("30.30Z", True, "aeronautique-defense"),  # aéronautique
        ("25.62A", True, "travail-des-metaux"),  # décolletage
        ("26.52Z", True, "numerique-instruments"),  # horlogerie
        ("22.29A", True, "plasturgie"),
        ("11.02A", True, "agroalimentaire"),  # champagne
        ("01.21Z", True, "agriculture"),  # vigne: outside the U.S. definitions
        ("85.20Z", False, None),  # enseignement primaire
        ("49.32Z", False, None),  # taxis
        ("43.22A", False, None),  # plomberie
        ("41.20A", False, None),  # construction de maisons individuelles
        ("56.10A", False, None),  # restauration traditionnelle
        ("96.02A", False, None),  # coiffure
        ("68.20B", False, None),  # location de terrains
    ],
)
def test_known_codes(code: str, is_traded: bool, category: str | None) -> None:
    assert clusters.traded(code) is is_traded
    assert clusters.category(code) == category


def test_planted_clusters_of_the_synthetic_fabric_are_traded() -> None:
    for site in PLANTED_CLUSTERS:
        assert clusters.traded(site.naf), site.naf


def test_coarse_codes_are_traded_when_one_sous_classe_is() -> None:
    assert clusters.traded("25.62")
    assert clusters.traded("C")
    assert not clusters.traded("56")  # restauration: every sous-classe local
    assert not clusters.traded("47.1")
    with pytest.raises(InputError, match="par sous-classe"):
        clusters.category("25.62")
    with pytest.raises(UnknownCodeError):
        clusters.traded("99.99Z")


def test_categories_table_and_members_agree() -> None:
    table = clusters.categories().to_pylist()
    members = clusters.members()
    assert [row["category"] for row in table] == list(members)
    for row in table:
        name, codes = members[row["category"]]
        assert row["name"] == name
        assert row["sous_classes"] == len(codes)
        assert all(clusters.category(c) == row["category"] for c in codes)
    assert sum(len(codes) for _, codes in members.values()) == int(
        clusters.definitions().column("traded").to_numpy(zero_copy_only=False).sum()
    )
    assert members["aeronautique-defense"][0] == "Aéronautique, spatial et défense"


def test_readme_reports_the_route_counts() -> None:
    # The coverage figures of the README come from the packaged table, so they cannot drift.
    table = clusters.definitions().to_pandas()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for route, group in table.groupby("route"):
        traded = int(group["traded"].sum())
        line = f"| `{route}` | {traded} | {len(group) - traded} |"
        assert line in readme, line
