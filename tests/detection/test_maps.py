"""Maps and GeoJSON of candidates: files written, non-empty, valid."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grappe.detection.candidates import CANDIDATE_COLUMNS, Candidates, ScoreWeights
from grappe.detection.maps import candidates_map
from grappe.errors import InputError
from grappe.refdata import territories

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _candidates(codes: list[str]) -> Candidates:
    """Candidates on real EPCI codes, with every column filled plausibly."""
    names = territories.names("epci")
    n = len(codes)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "rank": np.arange(1, n + 1, dtype=np.int64),
        "territory_level": "epci",
        "territory_code": codes,
        "territory_name": [names.get(c, c) for c in codes],
        "sector_level": "sous-classe",
        "sector": ["25.62A", "22.29A", "30.30Z", "26.52Z", "23.13Z"][:n],
        "sector_name": ["Décolletage", "Fabrication d'autres articles en matières plastiques",
                        "Construction aéronautique et spatiale", "Horlogerie",
                        "Façonnage et transformation du verre creux"][:n],
        "basis": "employment",
        "traded": True,
        "establishments": rng.integers(1, 300, n).astype(float),
        "employer_establishments": rng.integers(10, 300, n).astype(float),
        "employment": rng.uniform(0, 5000, n),
        "employment_low": rng.uniform(0, 10, n),
        "employment_high": rng.uniform(5000, 9000, n),
        "sme_share": rng.uniform(0, 1, n),
        "lq": rng.uniform(1, 50, n),
        "lq_low": rng.uniform(0, 1, n),
        "lq_high": rng.uniform(50, 60, n),
        "lq_credible_low": rng.uniform(1, 5, n),
        "lq_credible_high": rng.uniform(50, 60, n),
        "size": rng.uniform(0, 1, n),
        "focus": rng.uniform(0, 1, n),
        "strong": [True, False, True, True, False][:n],
        "stars": np.array([3, 1, 2, 0, 3][:n], dtype=np.int64),
        "hotspot": ["74081", "01283", "", "25411", "76255"][:n],
        "gi_z": [12.0, 8.5, np.nan, 4.0, 20.0][:n],
        "p_value": [1e-9, 1e-4, 1.0, 0.3, 1e-12][:n],
        "p_adjusted": [1e-5, 0.01, 1.0, 1.0, 1e-8][:n],
        "significant": [True, True, False, False, True][:n],
        "creation_rate": [0.05, np.nan, 0.1, 0.0, 0.02][:n],
        "sector_creation_rate": [0.06, 0.07, 0.08, 0.09, 0.1][:n],
        "score_size": rng.uniform(0, 1, n),
        "score_specialisation": rng.uniform(0, 1, n),
        "score_significance": rng.uniform(0, 1, n),
        "score_dynamism": rng.uniform(0, 1, n),
        "score": np.linspace(0.9, 0.5, n),
        "sector_rank": np.ones(n, dtype=np.int64),
        "sector_candidates": np.full(n, 3, dtype=np.int64),
        "reasons": ["48 établissements employeurs ; point chaud significatif"] * n,
    })
    assert list(frame.columns) == list(CANDIDATE_COLUMNS)
    return Candidates(frame, "epci", "sous-classe", "commune", "contiguity(commune)", 999, 0,
                      0.05, ScoreWeights(), "2024-12-31")


# Arve valley, Oyonnax, Toulouse, Morteau (all metropolitan), CA du Nord Basse-Terre (971).
CODES = ["200033116", "200042935", "243100518", "242504116", "200018653"]


def test_png_map_is_a_valid_non_empty_png(tmp_path: Path) -> None:
    path = _candidates(CODES).map(tmp_path / "carte.png")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 50_000  # outlines, circles and labels, not a blank canvas
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 500
    assert height > 500


def test_svg_map_is_valid_xml_with_the_labels(tmp_path: Path) -> None:
    path = _candidates(CODES).map(tmp_path / "carte.svg")
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    text = path.read_text(encoding="utf-8")
    # matplotlib writes text as glyph paths; the title and labels leave their comments
    assert text.count("<path") > 100
    assert "Grappes potentielles" in text or "glyph" in text
    again = _candidates(CODES).map(tmp_path / "encore.svg")
    assert again.read_bytes() == path.read_bytes()  # reproducible: no date, fixed hash salt


def test_map_rejects_other_formats_and_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\.png or \.svg"):
        _candidates(CODES).map(tmp_path / "carte.pdf")
    frame = _candidates(CODES).frame.drop(columns=["significant"])
    with pytest.raises(InputError, match="significant"):
        candidates_map(frame, tmp_path / "carte.png", "epci")


def test_geojson_is_valid(tmp_path: Path) -> None:
    found = _candidates(CODES)
    path = found.write(tmp_path / "candidats.geojson")
    collection = json.loads(path.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == len(CODES)
    centroids = territories.centroids("epci").to_pandas().set_index("code")
    for feature, code in zip(collection["features"], CODES, strict=True):
        assert feature["type"] == "Feature"
        geometry = feature["geometry"]
        assert geometry["type"] == "Point"
        lon, lat = geometry["coordinates"]
        assert -180 <= lon <= 180
        assert -90 <= lat <= 90
        assert (lon, lat) == pytest.approx(
            (centroids.loc[code, "lon"], centroids.loc[code, "lat"]), abs=1e-6
        )
        properties = feature["properties"]
        assert set(properties) == set(CANDIDATE_COLUMNS)
        assert properties["territory_code"] == code
        # NaN is not JSON: it is written null
        assert all(not isinstance(v, float) or np.isfinite(v) for v in properties.values())
    third = collection["features"][2]["properties"]
    assert third["gi_z"] is None
    assert third["significant"] is False
    assert found.geojson(top=2)["features"][1]["properties"]["rank"] == 2
