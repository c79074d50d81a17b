"""Spatial weights: k nearest, distance band, contiguity from commune pairs, Lambert-93 grid."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from grappe.detection.weights import (
    SpatialWeights,
    cell_id_sql,
    contiguity,
    distance_band,
    grid,
    grid_cells,
    knn,
)
from grappe.errors import InputError, UnknownCodeError


def _points(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "code": np.array([f"t{i:03d}" for i in range(n)]),
        "x": rng.uniform(600_000, 700_000, n),
        "y": rng.uniform(6_800_000, 6_900_000, n),
    }


def _sets(w: SpatialWeights) -> dict[str, set[str]]:
    return {code: set(w.neighbours(code).tolist()) for code in w.ids.tolist()}


@pytest.mark.parametrize("seed", [0, 1])
def test_knn_matches_libpysal(seed: int) -> None:
    from libpysal.weights import KNN

    pts = _points(80, seed)
    w = knn(pts, k=6)
    ref = KNN.from_array(np.column_stack([pts["x"], pts["y"]]), k=6, ids=pts["code"].tolist())
    assert _sets(w) == {k: set(v) for k, v in ref.neighbors.items()}
    assert (w.cardinalities == 6).all()
    assert np.allclose(w.row_standardised.sum(axis=1), 1.0)
    assert len(w.islands) == 0


def test_knn_validates_input() -> None:
    pts = _points(5, 0)
    with pytest.raises(InputError, match="k must be"):
        knn(pts, k=5)
    bad = dict(pts, x=np.r_[np.nan, pts["x"][1:]])
    with pytest.raises(InputError, match=r"'t000' has no valid position"):
        knn(bad, k=2)
    dup = dict(pts, code=np.array(["a", "b", "a", "c", "d"]))
    with pytest.raises(InputError, match="'a' appears more than once"):
        knn(dup, k=2)
    with pytest.raises(InputError, match="lack column"):
        knn({"code": pts["code"], "x": pts["x"]}, k=2)


def test_knn_accepts_an_arrow_table_and_handles_duplicate_points() -> None:
    table = pa.table({"code": ["a", "b", "c", "d"], "x": [0.0, 0.0, 10.0, 30.0], "y": [0.0] * 4})
    w = knn(table, k=1)
    # a and b coincide: each is the other's nearest, never itself.
    assert w.neighbours("a").tolist() == ["b"]
    assert w.neighbours("b").tolist() == ["a"]
    assert w.neighbours("d").tolist() == ["c"]


def test_distance_band_and_island_fallback() -> None:
    coords = {"code": ["a", "b", "c", "z"], "x": [0.0, 900.0, 1800.0, 50_000.0], "y": [0.0] * 4}
    w = distance_band(coords, 1000.0)
    assert _sets(w) == {"a": {"b"}, "b": {"a", "c"}, "c": {"b", "z"}, "z": {"c"}}
    assert "islands(k=1)" in w.kind
    assert (w.adjacency != w.adjacency.T).nnz == 0
    kept = distance_band(coords, 1000.0, k_islands=0)
    assert kept.islands.tolist() == ["z"]
    with pytest.raises(InputError, match="threshold"):
        distance_band(coords, 0.0)


def test_distance_band_matches_libpysal() -> None:
    from libpysal.weights import DistanceBand

    pts = _points(60, 3)
    w = distance_band(pts, 15_000.0, k_islands=0)
    xy = np.column_stack([pts["x"], pts["y"]])
    ref = DistanceBand(xy, threshold=15_000.0, ids=pts["code"].tolist(), silence_warnings=True)
    assert _sets(w) == {k: set(v) for k, v in ref.neighbors.items()}


@pytest.fixture
def communes() -> tuple[pa.Table, pa.Table]:
    """Six communes in two EPCI; 29239 (an island) borders no one."""
    pairs = pa.table(
        {
            "a": ["01001", "01002", "01003", "01004", "01002"],
            "b": ["01002", "01003", "01004", "01005", "01001"],  # last pair repeated reversed
        }
    )
    levels = pa.table(
        {
            "commune": ["01001", "01002", "01003", "01004", "01005", "29239"],
            "epci": ["E1", "E1", "E1", "E2", "E2", "E3"],
            "ze": ["Z1", "Z1", "Z1", "Z1", "Z1", "Z2"],
            "departement": ["01", "01", "01", "01", "01", "29"],
            "region": ["84", "84", "84", "84", "84", "53"],
        }
    )
    return pairs, levels


def test_contiguity_of_communes(communes: tuple[pa.Table, pa.Table]) -> None:
    pairs, levels = communes
    codes = ["01005", "01001", "01002", "01003", "01004", "29239"]
    w = contiguity(codes, "commune", pairs=pairs, commune_levels=levels)
    assert w.ids.tolist() == sorted(codes)
    assert _sets(w)["01002"] == {"01001", "01003"}
    assert _sets(w)["01005"] == {"01004"}
    assert w.islands.tolist() == ["29239"]
    assert (w.adjacency != w.adjacency.T).nnz == 0
    # A subset keeps only the borders inside it.
    sub = contiguity(["01001", "01003"], "commune", pairs=pairs, commune_levels=levels)
    assert sub.islands.tolist() == ["01001", "01003"]


def test_contiguity_aggregates_to_upper_levels(communes: tuple[pa.Table, pa.Table]) -> None:
    pairs, levels = communes
    w = contiguity(["E1", "E2", "E3"], "epci", pairs=pairs, commune_levels=levels)
    assert _sets(w) == {"E1": {"E2"}, "E2": {"E1"}, "E3": set()}
    assert w.kind == "contiguity(epci)"
    # Island attached to its nearest territory by centroid, both ways.
    coords = {"code": ["E1", "E2", "E3"], "x": [0.0, 10.0, 100.0], "y": [0.0, 0.0, 0.0]}
    filled = w.fill_islands(coords, k=1)
    assert _sets(filled) == {"E1": {"E2"}, "E2": {"E1", "E3"}, "E3": {"E2"}}
    with pytest.raises(UnknownCodeError, match="unknown epci code 'E9'"):
        contiguity(["E1", "E9"], "epci", pairs=pairs, commune_levels=levels)
    with pytest.raises(InputError, match="level 'canton'"):
        contiguity(["E1"], "canton", pairs=pairs, commune_levels=levels)


def test_libpysal_round_trip_and_reindex() -> None:
    w = knn(_points(30, 5), k=4)
    back = SpatialWeights.from_libpysal(w.to_libpysal())
    assert (back.ids == w.ids).all()
    assert (back.adjacency != w.adjacency).nnz == 0
    sub = w.reindex(w.ids[:10])
    assert sub.n == 10
    assert sub.adjacency.nnz <= 40
    with pytest.raises(UnknownCodeError, match="'nope'"):
        w.reindex(["nope"])


def test_grid_assigns_points_and_links_queen_neighbours() -> None:
    size = 1000
    # A 3 x 3 block of occupied cells around (652000, 6862000), plus one far cell.
    cx, cy = np.meshgrid(np.arange(651_000, 654_000, size), np.arange(6_861_000, 6_864_000, size))
    x = np.r_[cx.ravel() + 10.0, 652_000.0, 660_500.0]  # 652000 exactly: lower-left corner
    y = np.r_[cy.ravel() + 999.0, 6_862_000.0, 6_862_500.0]
    cells = grid(x, y, size)
    assert cells.weights.n == 10
    centre = "L93_1000m_N6862000_E652000"
    assert len(cells.weights.neighbours(centre)) == 8
    assert cells.weights.neighbours("L93_1000m_N6861000_E651000").size == 3
    assert cells.weights.islands.tolist() == ["L93_1000m_N6862000_E660000"]
    assert cells.point_cells()[9] == centre
    assert int(cells.counts()[cells.weights.index(centre)]) == 2
    # Cells rebuilt from their ids (as aggregated in the engine) give the same weights.
    again = grid_cells(cells.ids)
    assert (again.ids == cells.ids).all()
    assert (again.weights.adjacency != cells.weights.adjacency).nnz == 0
    assert (again.x0 == cells.x0).all()
    assert (again.y0 == cells.y0).all()


def test_grid_5km_and_negative_side() -> None:
    cells = grid([4_999.0, 5_000.0, -1.0], [0.0, 0.0, 0.0], 5000)
    assert cells.point_cells().tolist() == [
        "L93_5000m_N0_E0",
        "L93_5000m_N0_E5000",
        "L93_5000m_N0_E-5000",
    ]
    assert cells.weights.cardinalities.tolist() == [1, 2, 1]


def test_grid_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="size_m"):
        grid([1.0], [1.0], 0)
    with pytest.raises(InputError, match=r"point 1 has no valid position"):
        grid([1.0, np.inf], [1.0, 2.0], 1000)
    with pytest.raises(InputError, match="is not a cell id"):
        grid_cells(["L93_1000m_N1_E2", "cell 7"])
    with pytest.raises(InputError, match="mix cell sizes"):
        grid_cells(["L93_1000m_N0_E0", "L93_5000m_N0_E0"])
    with pytest.raises(InputError, match="not aligned"):
        grid_cells(["L93_1000m_N500_E0"])


def test_cell_id_sql_agrees_with_grid() -> None:
    rng = np.random.default_rng(9)
    x = rng.uniform(100_000, 1_200_000, 200)
    y = rng.uniform(6_100_000, 7_100_000, 200)
    con = duckdb.connect()
    con.register("points", pa.table({"x": x, "y": y}))
    got = con.execute(f"SELECT {cell_id_sql('x', 'y', 1000)} AS cell FROM points").fetchall()
    assert [r[0] for r in got] == grid(x, y, 1000).point_cells().tolist()
