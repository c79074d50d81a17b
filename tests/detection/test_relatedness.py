"""Relatedness, density and complexity: hand-computed cases, invariants, and py-ecomplexity."""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from grappe.detection.counts import Counts
from grappe.detection.relatedness import (
    NORMALISATIONS,
    relatedness,
    relatedness_from_matrix,
)
from grappe.errors import InputError

# Presence by raw count >= 1 of this matrix gives the binary matrix M below:
#        a  b  c
#   t1   1  1  0
#   t2   1  1  1
#   t3   1  0  1
#   t4   0  0  1
# ubiquity u = (3, 2, 3), N = 4 territories, co-occurrence C = M^T M:
#   C = [[3, 2, 2], [2, 2, 1], [2, 1, 3]]
HAND = np.array([[5.0, 2, 0], [1, 3, 7], [2, 0, 1], [0, 0, 4]])
HAND_EXPECTED = {
    # C_ij / max(u_i, u_j)
    "probability": [[1, 2 / 3, 2 / 3], [2 / 3, 1, 1 / 3], [2 / 3, 1 / 3, 1]],
    # N C_ij / (u_i u_j); diagonal N / u_i
    "association": [[4 / 3, 4 / 3, 8 / 9], [4 / 3, 2, 2 / 3], [8 / 9, 2 / 3, 4 / 3]],
    # C_ij / sqrt(u_i u_j)
    "cosine": [
        [1, 2 / np.sqrt(6), 2 / 3],
        [2 / np.sqrt(6), 1, 1 / np.sqrt(6)],
        [2 / 3, 1 / np.sqrt(6), 1],
    ],
    # C_ij / (u_i + u_j - C_ij)
    "jaccard": [[1, 2 / 3, 1 / 2], [2 / 3, 1, 1 / 4], [1 / 2, 1 / 4, 1]],
}


def _hand(normalisation: str = "probability"):
    return relatedness_from_matrix(
        HAND,
        ["t1", "t2", "t3", "t4"],
        ["a", "b", "c"],
        presence="count",
        normalisation=normalisation,
    )


@pytest.mark.parametrize("normalisation", NORMALISATIONS)
def test_normalisations_on_a_hand_computed_example(normalisation: str) -> None:
    rel = _hand(normalisation)
    np.testing.assert_array_equal(rel.cooccurrence, [[3, 2, 2], [2, 2, 1], [2, 1, 3]])
    np.testing.assert_array_equal(rel.ubiquity, [3, 2, 3])
    np.testing.assert_array_equal(rel.diversity, [2, 3, 2, 1])
    np.testing.assert_allclose(rel.matrix, HAND_EXPECTED[normalisation], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(rel.matrix, rel.matrix.T)
    # Any result can give the others from the same co-occurrence.
    for other in NORMALISATIONS:
        np.testing.assert_allclose(rel.normalised(other), HAND_EXPECTED[other], atol=1e-15)


def test_density_on_the_hand_computed_example() -> None:
    rel = _hand()
    # Row sums of the proximity: a 7/3, b 2, c 2. Territory t4 holds only c:
    # density(t4, a) = phi_ac / (7/3) = 2/7, (t4, b) = phi_bc / 2 = 1/6, (t4, c) = 1/2.
    np.testing.assert_allclose(rel.density[3], [2 / 7, 1 / 6, 1 / 2], atol=1e-15)
    # t2 holds every sector: its density is 1 everywhere.
    np.testing.assert_allclose(rel.density[1], [1, 1, 1], atol=1e-15)


def test_rca_presence_on_a_hand_computed_example() -> None:
    # Totals: rows 5, 5, 7; columns 7, 3, 7; grand total 17. RCA_23 = (2/5)/(7/17) = 34/35 < 1.
    x = np.array([[4.0, 1, 0], [3, 0, 2], [0, 2, 5]])
    rel = relatedness_from_matrix(x, ["t1", "t2", "t3"], ["a", "b", "c"])
    np.testing.assert_allclose(rel.rca.toarray()[1], [51 / 35, 0, 34 / 35], atol=1e-15)
    np.testing.assert_array_equal(rel.presence_matrix.toarray(), [[1, 1, 0], [1, 0, 0], [0, 1, 1]])
    np.testing.assert_array_equal(rel.proximity, [[1, 0.5, 0], [0.5, 1, 0.5], [0, 0.5, 1]])


def test_a_sector_present_nowhere_has_no_relatedness_and_an_undefined_density() -> None:
    x = np.array([[1.0, 0, 2], [3, 0, 0], [0, 0, 1]])
    rel = relatedness_from_matrix(x, ["t1", "t2", "t3"], ["a", "b", "c"], presence="count")
    for normalisation in NORMALISATIONS:
        matrix = rel.normalised(normalisation)
        assert not matrix[1].any()
        assert not matrix[:, 1].any()
    assert np.isnan(rel.density[:, 1]).all()
    assert np.isnan(rel.pci[1])


def _random_values(seed: int, n_territories: int = 40, n_sectors: int = 25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Gamma-Poisson counts: unequal sizes and many zeros, as in real fabrics.
    return rng.poisson(rng.gamma(0.8, 4.0, size=(n_territories, n_sectors))).astype(float)


def _codes(prefix: str, n: int) -> np.ndarray:
    return np.array([f"{prefix}{i:03d}" for i in range(n)])


def _anchor(values: np.ndarray, threshold: float) -> tuple[pd.DataFrame, np.ndarray]:
    """py-ecomplexity on the same matrix, given with a time column as it expects."""
    from ecomplexity import ecomplexity, proximity

    n_t, n_s = values.shape
    frame = pd.DataFrame(
        {
            "year": 2024,
            "loc": np.repeat(_codes("t", n_t), n_s),
            "prod": np.tile(_codes("s", n_s), n_t),
            "val": values.ravel(),
        }
    )
    columns = {"time": "year", "loc": "loc", "prod": "prod", "val": "val"}
    # The anchor prints progress and warns about its own pandas idioms: not under test.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        out = ecomplexity(
            frame,
            columns,
            rca_mcp_threshold=threshold,
            check_logsupermodularity=False,
            verbose=False,
        )
        prox = proximity(frame, columns, rca_mcp_threshold=threshold)
    out = out.sort_values(["loc", "prod"]).reset_index(drop=True)
    prox = prox.sort_values(["prod_1", "prod_2"])
    return out, prox["proximity"].to_numpy().reshape(n_s, n_s)


@pytest.mark.parametrize(("seed", "threshold"), [(0, 1.0), (1, 1.0), (2, 1.5), (3, 0.8)])
def test_agrees_with_py_ecomplexity(seed: int, threshold: float) -> None:
    values = _random_values(seed)
    n_t, n_s = values.shape
    assert (values.sum(axis=0) > 0).all()  # the anchor silently drops empty sectors
    out, proximity = _anchor(values, threshold)
    rel = relatedness_from_matrix(values, _codes("t", n_t), _codes("s", n_s), threshold=threshold)

    np.testing.assert_allclose(
        rel.rca.toarray(), out["rca"].to_numpy().reshape(n_t, n_s), rtol=0, atol=1e-9
    )
    np.testing.assert_array_equal(
        rel.presence_matrix.toarray(), out["mcp"].to_numpy().reshape(n_t, n_s)
    )
    np.testing.assert_array_equal(rel.diversity, out.groupby("loc")["diversity"].first())
    np.testing.assert_array_equal(rel.ubiquity, out.groupby("prod")["ubiquity"].first())
    np.testing.assert_allclose(rel.proximity, proximity, rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        rel.density, out["density"].to_numpy().reshape(n_t, n_s), rtol=0, atol=1e-9
    )
    eci = out.groupby("loc")["eci"].first().to_numpy()
    pci = out.groupby("prod")["pci"].first().to_numpy()
    # Up to sign: both follow the convention "ECI grows with diversity", but a sign is a
    # convention, not a result; the magnitudes must agree to 1e-9.
    sign = np.sign(eci @ rel.eci)
    np.testing.assert_allclose(sign * rel.eci, eci, rtol=0, atol=1e-9)
    np.testing.assert_allclose(sign * rel.pci, pci, rtol=0, atol=1e-9)
    assert sign == 1  # and here the convention gives the same sign
    np.testing.assert_allclose(rel.coi, out.groupby("loc")["coi"].first(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(rel.cog, out["cog"].to_numpy().reshape(n_t, n_s), rtol=0, atol=1e-9)


def _counts(values: np.ndarray, territories: np.ndarray, sectors: np.ndarray) -> Counts:
    matrix = sp.csr_array(values)
    zero = sp.csr_array(values.shape)
    return Counts(
        territory_level="ze",
        sector_level="sous-classe",
        territories=territories,
        sectors=sectors,
        establishments=matrix,
        employment=sp.csr_array(2.5 * values),
        employment_low=zero,
        employment_high=zero,
        sme_establishments=matrix,
        employment_sq=zero,
    )


def test_relatedness_reads_the_chosen_matrix_of_counts() -> None:
    values = _random_values(5)
    territories, sectors = _codes("t", values.shape[0]), _codes("s", values.shape[1])
    counts = _counts(values, territories, sectors)
    rel = relatedness(counts, measure="employment", normalisation="cosine")
    bare = relatedness_from_matrix(values, territories, sectors, normalisation="cosine")
    assert (rel.territory_level, rel.sector_level, rel.measure) == (
        "ze",
        "sous-classe",
        "employment",
    )
    # RCA does not change when every count is scaled (employment = 2.5 x establishments).
    np.testing.assert_array_equal(rel.matrix, bare.matrix)
    np.testing.assert_allclose(rel.eci, bare.eci, atol=1e-12)
    with pytest.raises(InputError, match=r"employment_low.*zero everywhere"):
        relatedness(counts, measure="employment_low")
    with pytest.raises(InputError, match="measure='staff'"):
        relatedness(counts, measure="staff")


def test_results_do_not_depend_on_the_order_of_the_input() -> None:
    values = _random_values(6)
    territories, sectors = _codes("t", values.shape[0]), _codes("s", values.shape[1])
    rng = np.random.default_rng(0)
    rows, cols = rng.permutation(len(territories)), rng.permutation(len(sectors))
    rel = relatedness_from_matrix(values, territories, sectors)
    shuffled = relatedness_from_matrix(values[rows][:, cols], territories[rows], sectors[cols])
    np.testing.assert_array_equal(shuffled.sectors, sectors)
    np.testing.assert_array_equal(shuffled.matrix, rel.matrix)
    np.testing.assert_allclose(shuffled.density, rel.density, rtol=0, atol=1e-15)
    np.testing.assert_allclose(shuffled.eci, rel.eci, rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 8), st.integers(2, 8)),
        elements=st.integers(0, 20).map(float),
    ),
    st.sampled_from(["rca", "count"]),
    st.integers(1, 1000).map(float),
)
def test_invariants(values: np.ndarray, presence: str, scale: float) -> None:
    n_t, n_s = values.shape
    territories, sectors = _codes("t", n_t), _codes("s", n_s)
    rel = relatedness_from_matrix(values, territories, sectors, presence=presence)
    present = rel.ubiquity > 0
    matrices = {name: rel.normalised(name) for name in NORMALISATIONS}
    for matrix in matrices.values():
        np.testing.assert_array_equal(matrix, matrix.T)
        assert (matrix >= 0).all()
    for name in ("probability", "cosine", "jaccard"):
        assert (matrices[name] <= 1 + 1e-12).all()
        np.testing.assert_array_equal(np.diag(matrices[name]), present.astype(float))
    np.testing.assert_allclose(
        np.diag(matrices["association"])[present], n_t / rel.ubiquity[present]
    )
    # Jaccard <= probability <= cosine, as u_i + u_j - C_ij >= max(u) >= sqrt(u_i u_j).
    assert (matrices["jaccard"] <= matrices["probability"] + 1e-12).all()
    assert (matrices["probability"] <= matrices["cosine"] + 1e-12).all()
    density = rel.density[:, present]
    assert ((density >= -1e-12) & (density <= 1 + 1e-12)).all()
    if presence == "rca":
        # Specialisation is a ratio: scaling every count changes nothing.
        scaled = relatedness_from_matrix(scale * values, territories, sectors)
        np.testing.assert_array_equal(
            scaled.presence_matrix.toarray(), rel.presence_matrix.toarray()
        )


def test_to_frame_gives_every_table() -> None:
    values = _random_values(7, 12, 6)
    rel = relatedness_from_matrix(values, _codes("t", 12), _codes("s", 6))
    cells = rel.to_frame()
    assert list(cells.columns) == [
        "territory",
        "sector",
        "value",
        "rca",
        "presence",
        "density",
        "cog",
    ]
    assert len(cells) == 72
    np.testing.assert_array_equal(cells["density"].to_numpy().reshape(12, 6), rel.density)
    pairs = rel.to_frame("pairs")
    assert len(pairs) == 15
    assert (pairs["sector_1"] < pairs["sector_2"]).all()
    sectors = rel.to_frame("sectors")
    assert list(sectors.columns) == ["sector", "total", "ubiquity", "pci"]
    np.testing.assert_array_equal(sectors["total"], values.sum(axis=0))
    territories = rel.to_frame("territories")
    assert list(territories.columns) == ["territory", "diversity", "eci", "coi"]
    with pytest.raises(InputError, match=r"what='matrix'.*cells, pairs, sectors, territories"):
        rel.to_frame("matrix")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"presence": "lq"}, "presence='lq': expected one of rca, count"),
        ({"normalisation": "pmi"}, "normalisation='pmi'"),
        ({"threshold": 0.0}, "threshold=0.0"),
        ({"threshold": float("nan")}, "threshold=nan"),
    ],
)
def test_wrong_arguments_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        relatedness_from_matrix(HAND, ["t1", "t2", "t3", "t4"], ["a", "b", "c"], **kwargs)


def test_wrong_matrices_are_refused() -> None:
    with pytest.raises(InputError, match=r"shape \(4, 3\), expected \(3 territories, 3 sectors"):
        relatedness_from_matrix(HAND, ["t1", "t2", "t3"], ["a", "b", "c"])
    with pytest.raises(InputError, match=r"territory 't1', sector 'a' holds -5\.0"):
        relatedness_from_matrix(-HAND[:1], ["t1"], ["a", "b", "c"])
    with pytest.raises(InputError, match="sector 'b' holds nan"):
        relatedness_from_matrix([[1.0, np.nan]], ["t1"], ["a", "b"])
    with pytest.raises(InputError, match="sectors: code 'a' appears more than once"):
        relatedness_from_matrix(HAND, ["t1", "t2", "t3", "t4"], ["a", "b", "a"])


def test_complexity_is_refused_where_undefined() -> None:
    one_territory = relatedness_from_matrix(HAND[:1], ["t1"], ["a", "b", "c"])
    with pytest.raises(InputError, match="at least 2 territories and 2 sectors"):
        _ = one_territory.eci
    # Relatedness itself stays defined: with one territory, RCA is 1 wherever there is a value.
    np.testing.assert_array_equal(one_territory.proximity, [[1, 1, 0], [1, 1, 0], [0, 0, 0]])
