"""scripts/build_refdata.py: NAF derivation, alias chains and reproducible writing."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pytest
from _scripts import load_script


@pytest.fixture(scope="module")
def build() -> ModuleType:
    return load_script("build_refdata")


def _npm_tarball(path: Path, entries: list[dict[str, str]]) -> Path:
    payload = json.dumps(entries).encode("utf-8")
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("package/index.json")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return path


def test_sections_cover_every_division_once(build: ModuleType) -> None:
    covered = [n for _, _, first, last in build.SECTIONS for n in range(first, last + 1)]
    assert len(covered) == len(set(covered))
    assert len(build.SECTIONS) == 21


def test_build_naf_adds_sections_and_cleans_labels(build: ModuleType, tmp_path: Path) -> None:
    archive = _npm_tarball(tmp_path / "naf.tgz", [
        {"id": "25", "label": "Fabrication  de produits métalliques"},
        {"id": "25.6", "label": "Usinage"},
        {"id": "25.62", "label": "Usinage"},
        {"id": "25.62A", "label": "Décolletage (400 m2et plus)"},
    ])
    table = build.build_naf(archive)
    rows = {r["code"]: r for r in table.to_pylist()}
    assert len(rows) == 21 + 4
    assert rows["25"]["parent"] == "C"
    assert rows["25"]["label"] == "Fabrication de produits métalliques"
    assert rows["25.62A"]["parent"] == "25.62"
    assert rows["25.62A"]["label"] == "Décolletage (400 m² et plus)"


def test_build_naf_rejects_an_orphan(build: ModuleType, tmp_path: Path) -> None:
    archive = _npm_tarball(tmp_path / "naf.tgz", [{"id": "25.62A", "label": "Décolletage"}])
    with pytest.raises(SystemExit, match="without parent"):
        build.build_naf(archive)


def test_alias_chains_end_on_current_communes(build: ModuleType) -> None:
    entries = [
        {"type": "commune-actuelle", "code": "74010", "anciensCodes": ["74011"]},
        {"type": "commune-deleguee", "code": "74268", "chefLieu": "74011"},
        {"type": "arrondissement-municipal", "code": "75101", "commune": "75056"},
        {"type": "commune-actuelle", "code": "75056"},
    ]
    alias = build._alias_map(entries, {"74010", "75056"})
    assert alias == {"74010": "74010", "74011": "74010", "74268": "74010",
                     "75056": "75056", "75101": "75056"}


def test_parquet_writing_is_byte_reproducible(build: ModuleType, tmp_path: Path) -> None:
    table = pa.table({"code": ["a", "b"], "value": [1.5, 2.5]})
    build.write_parquet(table, tmp_path / "one.parquet")
    build.write_parquet(table, tmp_path / "two.parquet")
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "two.parquet").read_bytes()
