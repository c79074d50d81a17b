"""Potential clusters end to end on a small synthetic fabric: columns, ranking, formats, engines."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp
from _candidates_fabric import isolated_home, synthetic_store, territories_of
from scipy import stats

from grappe.detection.aggregate import aggregate
from grappe.detection.candidates import (
    CANDIDATE_COLUMNS,
    Candidates,
    MinimumMass,
    ScoreWeights,
    detect,
)
from grappe.detection.hotspots import _hypergeometric_sf
from grappe.detection.indicators import indicators
from grappe.detection.rules import apply_rules
from grappe.detection.sector_groups import SectorGroup, dump, traded_sectors
from grappe.errors import InputError
from grappe.fabric.synth import PlantedCluster
from grappe.refdata import clusters, territories

PERMUTATIONS = 199
LEVEL = "epci"
TOP = 20
# The fabric holds 100,000 establishments, 1/150 of France: the tests of the evidence keep
# every presence; the minimum mass has its own tests (test_ranking.py).
EVERY_PRESENCE = MinimumMass(0, 0)


@pytest.fixture(scope="module")
def fabric(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[PlantedCluster]]:
    return synthetic_store(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def found(
    fabric: tuple[Path, list[PlantedCluster]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Candidates]:
    with isolated_home(tmp_path_factory.mktemp("home")):
        yield detect(fabric[0], level=LEVEL, permutations=PERMUTATIONS, seed=7,
                     minimum_mass=EVERY_PRESENCE)


def test_rows_are_the_presences_with_their_evidence(
    found: Candidates, fabric: tuple[Path, list[PlantedCluster]]
) -> None:
    frame = found.to_frame()
    assert list(frame.columns) == list(CANDIDATE_COLUMNS)
    for column in ("territory_level", "territory_code", "territory_name", "sector", "sector_name",
                   "establishments", "employment", "employment_low", "employment_high",
                   "sme_share", "lq", "strong", "stars", "gi_z", "p_value", "p_adjusted",
                   "creation_rate", "score", "rank", "significant"):
        assert column in frame.columns
    counts = aggregate(fabric[0], LEVEL, "sous-classe")
    # one row per territory x sector cell with at least one establishment, of a traded sector
    # only: local sectors are left out by default (issue 16)
    traded = traded_sectors(counts.sectors.tolist(), None)
    assert len(frame) == counts.establishments[:, np.flatnonzero(traded)].nnz
    assert frame["traded"].dtype == bool
    assert frame["traded"].all()
    assert not found.include_local
    assert (frame["establishments"] > 0).all()
    assert frame["territory_level"].eq(LEVEL).all()
    assert frame["strong"].dtype == bool
    assert frame["significant"].dtype == bool
    assert frame["stars"].dtype == np.int64
    assert frame["stars"].between(0, 3).all()
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    assert frame["score"].between(0, 1).all()
    assert (np.diff(frame["score"].to_numpy()) <= 0).all()
    assert frame["p_value"].between(0, 1).all()
    assert (frame["significant"] == (frame["p_adjusted"] <= found.alpha)).all()
    assert (frame["employment_low"] <= frame["employment"]).all()
    assert (frame["employment"] <= frame["employment_high"]).all()
    assert frame["sme_share"].between(0, 1).all()
    names = territories.names(LEVEL)
    assert (frame["territory_name"] == frame["territory_code"].map(names)).all()
    assert frame.loc[frame["sector"] == "25.62A", "sector_name"].iloc[0] == "Décolletage"
    # the evidence is that of `grappe indicators` at the same level, cell by cell
    expected = apply_rules(indicators(counts)).to_frame().set_index(["territory_code", "sector"])
    expected = expected[expected.index.isin(counts.sectors[traded].tolist(), level="sector")]
    mine = frame.set_index(["territory_code", "sector"]).loc[expected.index]
    for column in ("establishments", "employment", "employment_low", "employment_high",
                   "sme_share", "lq", "lq_low", "lq_high", "size", "focus", "creation_rate"):
        np.testing.assert_array_equal(mine[column].to_numpy(), expected[column].to_numpy())
    for column in ("strong", "stars"):
        np.testing.assert_array_equal(mine[column].to_numpy(), expected[column].to_numpy())
    # a significant call always comes with a hot spot commune of the territory
    called = frame[frame["significant"]]
    assert len(called) > 0
    communes = territories.commune_levels()
    parent = dict(zip(communes["commune"].to_pylist(), communes[LEVEL].to_pylist(), strict=True))
    assert (called["hotspot"].map(parent) == called["territory_code"]).all()
    assert (called["gi_z"] > 0).all()


def test_planted_clusters_are_significant_in_the_top(
    found: Candidates, fabric: tuple[Path, list[PlantedCluster]]
) -> None:
    top = found.top(TOP)
    assert len(top) == TOP
    for cluster in fabric[1]:
        hits = top[
            (top["sector"] == cluster.naf)
            & top["territory_code"].isin(territories_of(cluster, LEVEL))
            & top["significant"]
        ]
        assert len(hits) >= 1, f"{cluster.name} not among the top {TOP}"


def test_score_is_the_documented_weighted_mean(found: Candidates) -> None:
    frame = found.frame
    w = found.score_weights
    expected = (
        w.size * frame["score_size"] + w.specialisation * frame["score_specialisation"]
        + w.significance * frame["score_significance"] + w.dynamism * frame["score_dynamism"]
    ) / w.total
    np.testing.assert_allclose(frame["score"], expected, rtol=1e-12)
    share = frame["size"].fillna(0)
    mass = frame["employer_establishments"]
    np.testing.assert_allclose(frame["score_size"], share / (share + 0.02) * mass / (mass + 5))
    # specialisation on the lower bound of the credible interval of the LQ
    low = frame["lq_credible_low"].to_numpy()
    high = frame["lq_credible_high"].to_numpy()
    defined = np.isfinite(frame["lq"].to_numpy())
    assert (np.isfinite(low) == defined).all()
    assert (low[defined] <= high[defined]).all()
    spec = np.tanh(np.maximum(np.log(np.where(low > 0, low, 1.0)), 0) / math.log(4))
    np.testing.assert_allclose(frame["score_specialisation"], np.where(np.isfinite(low), spec, 0))
    assert (frame.loc[~frame["significant"], "score_significance"] == 0).all()
    assert (frame.loc[frame["significant"], "score_significance"] > 0).all()
    with pytest.raises(InputError, match=r"ScoreWeights\.size"):
        ScoreWeights(size=-1)
    with pytest.raises(InputError, match="at least one weight"):
        ScoreWeights(0, 0, 0, 0)


def test_ranking_is_reproducible_with_the_seed(
    found: Candidates, fabric: tuple[Path, list[PlantedCluster]]
) -> None:
    again = detect(fabric[0], level=LEVEL, permutations=PERMUTATIONS, seed=7,
                   minimum_mass=EVERY_PRESENCE)
    pd.testing.assert_frame_equal(again.frame, found.frame)


def test_another_seed_moves_only_what_depends_on_the_draws(
    fabric: tuple[Path, list[PlantedCluster]],
) -> None:
    # On the EPCI themselves (support="level"): the same code path, a much smaller test.
    one = detect(fabric[0], level=LEVEL, permutations=PERMUTATIONS, seed=1,
                 minimum_mass=EVERY_PRESENCE, support="level")
    same = detect(fabric[0], level=LEVEL, permutations=PERMUTATIONS, seed=1,
                  minimum_mass=EVERY_PRESENCE, support="level")
    other = detect(fabric[0], level=LEVEL, permutations=PERMUTATIONS, seed=2,
                   minimum_mass=EVERY_PRESENCE, support="level")
    assert one.support == "level"
    pd.testing.assert_frame_equal(one.frame, same.frame)
    key = ["territory_code", "sector"]
    a = one.frame.sort_values(key).reset_index(drop=True)
    b = other.frame.sort_values(key).reset_index(drop=True)
    # p-values above the resolution of the draws move with the seed ...
    assert not np.array_equal(a["p_value"].to_numpy(), b["p_value"].to_numpy())
    # ... the evidence that does not depend on the draws does not
    for column in ("establishments", "employment", "lq", "strong", "stars"):
        pd.testing.assert_series_equal(a[column], b[column])
    # gi_z is reported for the cells in the upper tail of their draws (a cell near its median
    # may fall on either side with another seed); where both runs report it, it is the same
    both = a["gi_z"].notna() & b["gi_z"].notna()
    assert both.sum() > 0.9 * max(a["gi_z"].notna().sum(), 1)
    np.testing.assert_array_equal(a.loc[both, "gi_z"], b.loc[both, "gi_z"])


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "geojson"])
def test_formats_round_trip(found: Candidates, fmt: str, tmp_path: Path) -> None:
    path = found.write(tmp_path / f"candidates.{fmt}", top=50)
    expected = found.top(50)
    if fmt == "csv":
        back = pd.read_csv(path, dtype={"territory_code": str, "sector": str, "hotspot": str},
                           keep_default_na=False, na_values=[""])
    elif fmt == "json":
        back = pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))
    elif fmt == "parquet":
        back = pq.read_table(path).to_pandas()
    else:
        collection = json.loads(path.read_text(encoding="utf-8"))
        assert collection["type"] == "FeatureCollection"
        centroids = territories.centroids(LEVEL).to_pandas().set_index("code")
        for feature in collection["features"]:
            assert feature["type"] == "Feature"
            code = feature["properties"]["territory_code"]
            lon, lat = feature["geometry"]["coordinates"]
            assert feature["geometry"]["type"] == "Point"
            assert lon == pytest.approx(centroids.loc[code, "lon"], abs=1e-6)
            assert lat == pytest.approx(centroids.loc[code, "lat"], abs=1e-6)
        back = pd.DataFrame([f["properties"] for f in collection["features"]])
    assert list(back.columns) == list(CANDIDATE_COLUMNS)
    for column in CANDIDATE_COLUMNS:
        left, right = expected[column].to_numpy(), back[column].to_numpy()
        if expected[column].dtype.kind == "f":
            np.testing.assert_allclose(right.astype(float), left, rtol=1e-12, equal_nan=True)
        else:
            assert [str(v) for v in right] == [str(v) for v in left], column


def test_unknown_format_and_bad_arguments(found: Candidates, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="ods"):
        found.write(tmp_path / "candidates.ods")
    with pytest.raises(InputError, match="level"):
        detect(tmp_path, level="canton")
    with pytest.raises(InputError, match="alpha"):
        detect(tmp_path, level="epci", alpha=1.5)
    with pytest.raises(InputError, match="permutations"):
        detect(tmp_path, level="epci", permutations=-1)


def test_ze_level_works_with_the_packaged_zones_d_emploi(
    fabric: tuple[Path, list[PlantedCluster]],
) -> None:
    from grappe.refdata import territories

    assert not territories.ze_imported()  # no `grappe refdata import-ze`
    found = detect(fabric[0], level="ze", permutations=0)
    assert len(found) > 0
    names = territories.names("ze")
    frame = found.to_frame()
    assert frame["territory_name"].tolist() == [names[c] for c in frame["territory_code"]]


def test_sector_group_file_as_sectors(
    fabric: tuple[Path, list[PlantedCluster]], tmp_path: Path
) -> None:
    groups = [
        SectorGroup("decolletage", "Décolletage et mécanique de précision",
                    ("25.62A", "25.62B", "28.41")),
        SectorGroup("plasturgie", "Plasturgie", ("22.2",)),
        SectorGroup("commerce", "Commerce de détail", ("47",)),
        SectorGroup("construction", "Construction", ("F",)),
    ]
    path = tmp_path / "filieres.toml"
    dump(groups, path)
    found = detect(fabric[0], level=LEVEL, sectors=path, permutations=PERMUTATIONS, seed=1,
                   minimum_mass=EVERY_PRESENCE)
    frame = found.frame
    assert set(frame["sector"]) <= {g.code for g in groups}
    assert set(frame["sector_name"]) <= {g.name for g in groups}
    assert found.sector_level == "filieres"
    arve = territories_of(next(c for c in fabric[1] if c.naf == "25.62A"), LEVEL)
    hits = frame[(frame["sector"] == "decolletage") & frame["territory_code"].isin(arve)]
    assert hits["significant"].any()
    assert hits["rank"].min() <= 10


@pytest.mark.spark
@pytest.mark.slow
def test_duckdb_and_spark_give_the_same_candidates(
    found: Candidates, fabric: tuple[Path, list[PlantedCluster]]
) -> None:
    from grappe.storage.analytics import stop_spark

    try:
        on_spark = detect(fabric[0], level=LEVEL, permutations=PERMUTATIONS, seed=7,
                          minimum_mass=EVERY_PRESENCE, engine="spark")
    finally:
        stop_spark()
    pd.testing.assert_frame_equal(on_spark.frame, found.frame)


def test_hypergeometric_tail_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    n = rng.integers(50, 40_000, 500)
    k = rng.integers(0, 60, 500)
    c = rng.integers(1, 40, 500)
    j = rng.integers(0, 10, 500)
    ours = np.concatenate([_hypergeometric_sf(j[i:i + 1], int(n[i]), k[i:i + 1], c[i:i + 1])
                           for i in range(500)])
    np.testing.assert_allclose(ours, stats.hypergeom.sf(j - 1, n, k, c), rtol=1e-8, atol=1e-300)


def test_hypergeometric_bound_covers_the_exact_permutation_p_value() -> None:
    """On a ring of 12 territories the exact conditional p-value is enumerable."""
    from itertools import combinations

    from grappe.detection.hotspots import _hypergeometric_bound
    from grappe.detection.weights import SpatialWeights

    n = 12
    ids = np.array([f"t{i:02d}" for i in range(n)])
    rows = np.arange(n)
    weights = SpatialWeights.from_pairs(
        ids, np.concatenate([rows, rows]), np.concatenate([(rows + 1) % n, (rows - 1) % n]),
        "ring",
    )
    y = np.array([0, 3, 5, 2, 0, 0, 1, 0, 0, 0, 4, 0], dtype=float)
    values = sp.csc_array(y[:, None])
    for i in range(n):
        lag = float((weights.adjacency @ y)[i])
        others = np.delete(y, i)
        sums = np.array([others[list(s)].sum() for s in combinations(range(n - 1), 2)])
        exact = float((sums >= lag - 1e-9).mean())
        bound = _hypergeometric_bound(values, weights, np.array([i]), np.array([0]),
                                      np.array([lag]))[0]
        assert bound >= exact - 1e-12, (i, bound, exact)


def test_the_detection_package_exports_the_public_verbs() -> None:
    from grappe import detection

    assert detection.detect is detect
    for name in detection.__all__:
        assert getattr(detection, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute"):
        _ = detection.nothing_here


def test_local_sectors_come_back_on_request_marked_as_such(
    found: Candidates, fabric: tuple[Path, list[PlantedCluster]]
) -> None:
    both = detect(fabric[0], level=LEVEL, permutations=PERMUTATIONS, seed=7, include_local=True,
                  minimum_mass=EVERY_PRESENCE)
    assert both.include_local
    frame = both.frame
    counts = aggregate(fabric[0], LEVEL, "sous-classe")
    assert len(frame) == counts.establishments.nnz  # every presence, local ones included
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    assert (frame["traded"] == frame["sector"].map(clusters.traded)).all()
    local = set(frame.loc[~frame["traded"], "sector"])
    assert {"85.20Z", "49.32Z", "43.22A", "41.20A", "56.10A"} <= local
    # the default leaves exactly those out, and the local sectors still count in the
    # territories' totals: the evidence of the traded cells does not move
    assert not found.frame["sector"].isin(local).any()
    key = ["territory_code", "sector"]
    mine = frame[frame["traded"]].set_index(key).loc[found.frame.set_index(key).index]
    for column in ("establishments", "lq", "size", "strong", "stars", "score_specialisation"):
        np.testing.assert_array_equal(
            mine[column].to_numpy(), found.frame[column].to_numpy(), err_msg=column
        )
    with pytest.raises(InputError, match="include_local"):
        detect(fabric[0], level=LEVEL, include_local="yes")  # type: ignore[arg-type]


def test_cluster_categories_as_sectors(fabric: tuple[Path, list[PlantedCluster]]) -> None:
    found = detect(fabric[0], level=LEVEL, sectors="clusters", permutations=PERMUTATIONS, seed=1,
                   minimum_mass=EVERY_PRESENCE)
    frame = found.frame
    assert found.sector_level == "clusters"
    names = {code: name for code, (name, _) in clusters.members().items()}
    assert set(frame["sector"]) <= set(names)
    assert (frame["sector_name"] == frame["sector"].map(names)).all()
    assert frame["traded"].all()
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    # the planted décolletage of the Arve valley makes its category a hot spot there
    arve = territories_of(next(c for c in fabric[1] if c.naf == "25.62A"), LEVEL)
    hits = frame[(frame["sector"] == "travail-des-metaux") & frame["territory_code"].isin(arve)]
    assert hits["significant"].any()
    assert hits["rank"].min() <= 10


def test_real_bas_rhin_top_is_no_longer_led_by_local_sectors(
    real_data: Path, tmp_path: Path
) -> None:
    from grappe.fabric.store import FabricStore

    store = tmp_path / "store"
    FabricStore.open(store).import_files([real_data / "sirene_bas_rhin_2019_geocoded_latin1.csv"])
    every = detect(store, level="epci", permutations=99, seed=0, include_local=True,
                   minimum_mass=EVERY_PRESENCE).frame
    # over every sector and every presence, local ones crowd the top of the real extract; the
    # domiciliation addresses of 68.20B (no employee) no longer lead it (test_ranking.py)
    assert (~every.head(10)["traded"]).sum() >= 3
    assert "68.20B" in set(every["sector"])
    default = detect(store, level="epci", permutations=99, seed=0,
                     minimum_mass=EVERY_PRESENCE).frame
    assert default["traded"].all()
    assert "68.20B" not in set(default["sector"])
    assert len(default) == every["traded"].sum()
