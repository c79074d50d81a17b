"""Territories: communes, aliases, EPCI, départements, régions, centroids, contiguity, outlines."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pytest

from grappe.errors import InputError, UnknownCodeError
from grappe.refdata import territories as t


def _commune(code: str) -> dict[str, Any]:
    table = t.communes()
    rows = table.filter(pc.equal(table["code"], code)).to_pylist()
    assert len(rows) == 1, code
    return rows[0]


def test_communes_table_shape() -> None:
    table = t.communes()
    assert table.schema.names[:10] == ["code", "name", "departement", "region", "epci",
                                       "population", "lon", "lat", "x", "y"]
    codes = table["code"].to_pylist()
    assert len(codes) == len(set(codes))
    assert 34_800 < len(codes) < 35_100
    for column in ("code", "name", "departement", "region", "population", "zone"):
        assert table[column].null_count == 0


@pytest.mark.parametrize(
    ("alias", "commune"),
    [
        ("75101", "75056"), ("75120", "75056"), ("69381", "69123"), ("69384", "69123"),
        ("13201", "13055"), ("13216", "13055"),
        ("2A004", "2A004"), ("2a004", "2A004"), ("2B033", "2B033"),
        ("97411", "97411"), ("97101", "97101"), ("97611", "97611"),
        # Annecy-le-Vieux and Seynod merged into Annecy (2017); Octeville into Cherbourg.
        ("74011", "74010"), ("74268", "74010"), ("50383", "50129"),
        ("1001", "01001"), (" 01001 ", "01001"),
    ],
)
def test_commune_aliases(alias: str, commune: str) -> None:
    assert t.normalize_commune(alias) == commune


def test_aliases_table_covers_arrondissements_and_identity() -> None:
    aliases = t.commune_aliases()
    mapping = dict(zip(aliases["alias"].to_pylist(), aliases["commune"].to_pylist(), strict=True))
    current = set(t.communes()["code"].to_pylist())
    assert set(mapping.values()) <= current
    assert all(mapping[c] == c for c in current)
    arrondissements = [a for a, c in mapping.items() if a != c and c in {"75056", "69123", "13055"}]
    assert len(arrondissements) >= 45  # 20 + 9 + 16, plus old codes of those cities
    assert len(mapping) > len(current) + 2_000  # old and delegated codes


@pytest.mark.parametrize("raw", ["99999", "75000", "2C004", "abc", ""])
def test_unknown_commune_is_named(raw: str) -> None:
    with pytest.raises(UnknownCodeError) as info:
        t.normalize_commune(raw)
    assert repr(raw) in str(info.value)


def test_corsica_and_overseas() -> None:
    ajaccio = _commune("2A004")
    assert (ajaccio["name"], ajaccio["departement"], ajaccio["region"]) == ("Ajaccio", "2A", "94")
    assert _commune("2B033")["departement"] == "2B"
    saint_denis = _commune("97411")
    assert (saint_denis["departement"], saint_denis["region"]) == ("974", "04")
    assert -21.5 < saint_denis["lat"] < -20.8
    deps = set(t.departements()["code"].to_pylist())
    assert {"2A", "2B", "971", "972", "973", "974", "976"} <= deps
    assert "20" not in deps


def test_populations() -> None:
    table = t.communes()
    population = table["population"].to_numpy()
    assert (population >= 0).all()
    assert 66_000_000 < population.sum() < 71_000_000
    # Only the uninhabited "villages morts pour la France" (Meuse) and the uninhabited
    # overseas lands (TAAF, Clipperton) have no inhabitant.
    empty = table.filter(pc.equal(table["population"], 0))
    assert set(empty["departement"].to_pylist()) <= {"55", "984", "989"}
    assert empty.num_rows <= 15
    assert _commune("75056")["population"] > 2_000_000
    for level in (t.departements(), t.regions(), t.epcis()):
        assert (level["population"].to_numpy() >= 0).all()
    regions = t.regions().filter(pc.equal(t.regions()["zone"], "metro"))
    assert regions.num_rows == 13


def test_centroids_inside_france_and_lambert93_consistent() -> None:
    table = t.communes()
    metro = table.filter(pc.and_(pc.equal(table["zone"], "metro"), pc.is_valid(table["x"])))
    lon, lat = metro["lon"].to_numpy(), metro["lat"].to_numpy()
    assert metro.num_rows == table.filter(pc.equal(table["zone"], "metro")).num_rows
    assert lon.min() > -5.2
    assert lon.max() < 9.6
    assert lat.min() > 41.3
    assert lat.max() < 51.1
    x, y = t.to_lambert93(lon, lat)
    assert np.abs(x - metro["x"].to_numpy()).max() < 0.1
    assert np.abs(y - metro["y"].to_numpy()).max() < 0.1
    assert x.min() > 99_000
    assert x.max() < 1_250_000
    assert y.min() > 6_040_000
    assert y.max() < 7_120_000
    back_lon, back_lat = t.to_wgs84(x, y)
    assert np.abs(back_lon - lon).max() < 1e-6
    assert np.abs(back_lat - lat).max() < 1e-6
    paris = _commune("75056")
    assert abs(paris["lon"] - 2.34) < 0.03
    assert abs(paris["lat"] - 48.857) < 0.03
    # Only the collectivités d'outre-mer have no polygon, hence no coordinates.
    unlocated = table.filter(pc.is_null(table["x"]))
    assert set(unlocated["zone"].to_pylist()) == {"com"}


def test_known_lambert93_point() -> None:
    # The projection's origin: 3°E, 46.5°N is (700 000, 6 600 000) by definition.
    x, y = t.to_lambert93([3.0], [46.5])
    assert abs(x[0] - 700_000) < 0.01
    assert abs(y[0] - 6_600_000) < 0.01


def test_epcis() -> None:
    epcis = t.epcis()
    assert 1_200 < epcis.num_rows < 1_300
    assert set(epcis.schema.names) >= {"code", "name", "population", "departement"}
    communes = t.communes()
    known = set(epcis["code"].to_pylist())
    member = communes.filter(pc.is_valid(communes["epci"]))
    assert set(member["epci"].to_pylist()) <= known
    assert member.num_rows > 34_800
    lyon = _commune("69123")
    metropole = epcis.filter(pc.equal(epcis["code"], lyon["epci"])).to_pylist()[0]
    assert metropole["departement"] == "69"
    sums = member.group_by("epci").aggregate([("population", "sum")])
    by_code = dict(zip(sums["epci"].to_pylist(), sums["population_sum"].to_pylist(), strict=True))
    assert all(by_code[r["code"]] == r["population"] for r in epcis.to_pylist())


def test_commune_levels_with_the_packaged_ze() -> None:
    assert not t.ze_imported()
    assert t.ze_source() == "packaged"
    levels = t.commune_levels()
    assert levels.schema.names == ["commune", "epci", "ze", "departement", "region"]
    assert levels.num_rows == t.communes().num_rows
    # Only the collectivités d'outre-mer (zone "com") lie outside the zones d'emploi.
    com = pc.equal(t.communes()["zone"], "com")
    assert levels["ze"].null_count == pc.sum(com).as_py() == 94
    assert pc.all(pc.is_null(levels.filter(com)["ze"])).as_py()
    assert t.names("ze")["8405"] == "Bourg en Bresse"


def test_names() -> None:
    assert t.names("commune")["69123"] == "Lyon"
    assert t.names("departement")["2A"] == "Corse-du-Sud"
    assert t.names("region")["84"] == "Auvergne-Rhône-Alpes"
    assert len(t.names("epci")) == t.epcis().num_rows
    with pytest.raises(InputError, match="niveau territorial inconnu"):
        t.names("canton")


def test_level_centroids_are_population_weighted() -> None:
    deps = t.centroids("departement").to_pylist()
    by_code = {r["code"]: r for r in deps}
    assert 41.3 < by_code["2A"]["lat"] < 42.6
    assert 8.5 < by_code["2A"]["lon"] < 9.6
    # Île-de-France weighs towards Paris, not its geometric middle.
    idf = {r["code"]: r for r in t.centroids("region").to_pylist()}["11"]
    assert abs(idf["lon"] - 2.35) < 0.15
    assert abs(idf["lat"] - 48.86) < 0.1
    x, y = t.to_lambert93([idf["lon"]], [idf["lat"]])
    assert abs(x[0] - idf["x"]) < 1
    assert abs(y[0] - idf["y"]) < 1
    # Without coordinates (collectivités d'outre-mer) the centroid is null.
    assert by_code["987"]["lon"] is None
    commune_level = t.centroids("commune")
    assert commune_level.schema.names == ["code", "name", "lon", "lat", "x", "y"]


def test_neighbours() -> None:
    pairs = t.neighbours()
    a, b = pairs["a"].to_pylist(), pairs["b"].to_pylist()
    assert all(x < y for x, y in zip(a, b, strict=True))
    assert len(set(zip(a, b, strict=True))) == len(a)
    current = set(t.communes()["code"].to_pylist())
    assert set(a) | set(b) <= current
    as_set = set(zip(a, b, strict=True))
    assert ("75056", "92012") in as_set  # Paris / Boulogne-Billancourt
    assert ("69123", "69266") in as_set  # Lyon / Villeurbanne
    assert ("01001", "75056") not in as_set
    degree = 2 * len(a) / len(set(a) | set(b))
    assert 5.5 < degree < 6.5  # planar map of communes: about six neighbours each
    assert "29083" not in set(a) | set(b)  # Île-de-Sein is an island


def test_outlines() -> None:
    path = t.outlines_path()
    assert path.stat().st_size < 500_000
    data = json.loads(path.read_text("utf-8"))
    codes = {f["properties"]["code"] for f in data["features"]}
    assert {"01", "2A", "2B", "75", "971", "976"} <= codes
    assert len(codes) == 101
    regions = json.loads(t.outlines_path("regions").read_text("utf-8"))
    assert len(regions["features"]) == 18
    zones = json.loads(t.outlines_path("zones_emploi").read_text("utf-8"))
    # the outlines carry exactly the zones of the packaged composition table
    assert {f["properties"]["code"] for f in zones["features"]} == set(t.names("ze"))
    with pytest.raises(InputError, match="contours inconnus"):
        t.outlines_path("cantons")


def test_parents_of_communes() -> None:
    # Lyon, Cluses, an unknown code, an empty code.
    got = t.parents(["69123", "74081", "99999", ""], "departement")
    assert got.tolist() == ["69", "74", "", ""]
    assert t.parents(["74081"], "region").tolist() == ["84"]
    with pytest.raises(InputError, match="inconnu"):
        t.parents(["74081"], "canton")
