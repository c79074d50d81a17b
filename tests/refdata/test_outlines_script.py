"""scripts/build_outlines.py: the zones d'emploi outlines are reproducible and recorded."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest
import shapely
from _scripts import load_script

from grappe.refdata._files import data_path


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script("build_outlines")


def test_two_builds_give_the_packaged_bytes_and_provenance(
    script: ModuleType, real_data: Path, tmp_path: Path
) -> None:
    source = real_data / "geo" / "ze2020.geojson"
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        assert script.build(tmp_path / name, source) == 306
    packaged = data_path("zones_emploi.geojson")
    one, two = (tmp_path / n / "zones_emploi.geojson" for n in ("one", "two"))
    assert one.read_bytes() == two.read_bytes() == packaged.read_bytes()
    recorded = json.loads(data_path("PROVENANCE.json").read_text("utf-8"))["files"]
    rebuilt = json.loads((tmp_path / "one" / "PROVENANCE.json").read_text("utf-8"))["files"]
    assert rebuilt["zones_emploi.geojson"] == recorded["zones_emploi.geojson"]
    entry = recorded["zones_emploi.geojson"]
    assert entry["builder"] == "scripts/build_outlines.py"
    assert entry["sources"][0]["file"] == "real/geo/ze2020.geojson"
    assert "Etalab 2.0" in entry["sources"][0]["licence"]


def test_outlines_form_a_valid_coverage() -> None:
    data = json.loads(data_path("zones_emploi.geojson").read_text("utf-8"))
    geoms = [shapely.from_geojson(json.dumps(f["geometry"])) for f in data["features"]]
    assert all(shapely.is_valid(geoms))
    # neighbours share one border: no overlap, no sliver between them
    assert shapely.coverage_is_valid(geoms)
