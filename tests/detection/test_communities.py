"""Sector groups by community detection: planted groups, reproducibility, score, export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grappe.detection import sector_groups
from grappe.detection.communities import (
    EXAMPLE_SECTOR_GROUPS,
    grouping_score,
    sector_communities,
)
from grappe.detection.relatedness import Relatedness, relatedness_from_matrix
from grappe.errors import InputError
from grappe.refdata import naf

N_SECTORS = 30
N_BLOCKS = 3


def _naf_codes(n: int) -> np.ndarray:
    table = naf.table()
    codes = [
        c
        for c, lvl in zip(table["code"].to_pylist(), table["level"].to_pylist(), strict=True)
        if lvl == "sous-classe"
    ]
    return np.array(sorted(codes)[:n])


def _planted(seed: int, n_territories: int = 240) -> tuple[Relatedness, np.ndarray]:
    """Each territory specialises in one of 3 blocks of 10 sectors (block = sector index % 3)."""
    rng = np.random.default_rng(seed)
    block = np.arange(N_SECTORS) % N_BLOCKS
    home = rng.integers(0, N_BLOCKS, n_territories)
    rate = np.where(block[np.newaxis, :] == home[:, np.newaxis], 3.0, 0.3)
    values = rng.poisson(rate).astype(float)
    territories = np.array([f"ze{i:04d}" for i in range(n_territories)])
    return relatedness_from_matrix(values, territories, _naf_codes(N_SECTORS)), block


def _structureless(seed: int, n_territories: int = 240) -> Relatedness:
    rng = np.random.default_rng(seed)
    values = rng.poisson(2.0, size=(n_territories, N_SECTORS)).astype(float)
    territories = np.array([f"ze{i:04d}" for i in range(n_territories)])
    return relatedness_from_matrix(values, territories, _naf_codes(N_SECTORS))


def _partition(labels: np.ndarray) -> set[frozenset[int]]:
    return {frozenset(np.flatnonzero(labels == k).tolist()) for k in np.unique(labels)}


@pytest.mark.parametrize("normalisation", ["probability", "association", "cosine", "jaccard"])
def test_planted_blocks_are_recovered_and_score_far_above_random(normalisation: str) -> None:
    rel, block = _planted(seed=1)
    found = sector_communities(rel, seed=0, normalisation=normalisation, permutations=199)
    assert _partition(found.labels) == _partition(block)
    for score in (found.score, found.holdout):
        assert score is not None
        assert score.observed > score.random_mean + 0.3
        assert score.z > 10
        assert score.p_value == 1 / 200  # no random grouping comes close


def test_same_seed_gives_identical_groups_and_file(tmp_path: Path) -> None:
    rel, _ = _planted(seed=2)
    first = sector_communities(rel, seed=7, resolution=1.2, permutations=99)
    again = sector_communities(rel, seed=7, resolution=1.2, permutations=99)
    np.testing.assert_array_equal(first.labels, again.labels)
    assert first.groups == again.groups
    np.testing.assert_array_equal(first.score.random_shares, again.score.random_shares)
    first.write(tmp_path / "a.toml")
    again.write(tmp_path / "b.toml")
    assert (tmp_path / "a.toml").read_bytes() == (tmp_path / "b.toml").read_bytes()


def test_input_order_does_not_change_the_groups() -> None:
    rel, _ = _planted(seed=3)
    rng = np.random.default_rng(0)
    rows, cols = rng.permutation(len(rel.territories)), rng.permutation(len(rel.sectors))
    values = rel.values.toarray()[rows][:, cols]
    shuffled = relatedness_from_matrix(values, rel.territories[rows], rel.sectors[cols])
    a = sector_communities(rel, seed=4, permutations=49)
    b = sector_communities(shuffled, seed=4, permutations=49)
    assert a.groups == b.groups


def test_structureless_groups_do_not_validate_out_of_sample() -> None:
    p_values, z_values = [], []
    for seed in range(20):
        found = sector_communities(_structureless(seed), seed=0, permutations=199)
        assert found.holdout is not None
        p_values.append(found.holdout.p_value)
        z_values.append(found.holdout.z)
    # Groups fitted to noise keep no more relatedness than random groups elsewhere: the
    # out-of-sample p-values are those of a calibrated test (measured with these settings:
    # 6 % below 0.05 over 100 seeds, z of mean 0.05 and sd 0.99).
    assert np.mean(np.array(p_values) < 0.05) <= 0.15
    assert abs(np.mean(z_values)) < 0.6
    planted = sector_communities(_planted(seed=0)[0], seed=0, permutations=199)
    assert planted.holdout is not None
    assert planted.holdout.p_value < 0.01


def test_association_tests_co_location_alone_when_sizes_differ() -> None:
    # Independent presences, but sectors (and territories) of very unequal sizes: the
    # proximity of two large sectors is high by ubiquity alone, the association is not.
    significant = {"probability": 0, "association": 0}
    for seed in range(10):
        rng = np.random.default_rng(seed)
        rate = np.outer(rng.lognormal(0, 1, 240), rng.lognormal(0, 1.5, N_SECTORS))
        rel = relatedness_from_matrix(
            rng.poisson(rate).astype(float),
            [f"ze{i:04d}" for i in range(240)],
            _naf_codes(N_SECTORS),
        )
        for normalisation in significant:
            found = sector_communities(rel, seed=0, permutations=199, normalisation=normalisation)
            assert found.holdout is not None
            significant[normalisation] += found.holdout.p_value < 0.05
    assert significant["association"] <= 2
    assert significant["probability"] >= 5


def test_resolution_changes_the_number_of_groups() -> None:
    rel, _ = _planted(seed=4)
    # Probability weights link every pair, so a low resolution can merge the blocks (the
    # association weights leave the blocks disconnected, and Louvain never merges those).
    options = {"seed": 0, "normalisation": "probability", "permutations": 9, "holdout": False}
    coarse = sector_communities(rel, resolution=0.1, **options)
    fine = sector_communities(rel, resolution=5.0, **options)
    assert coarse.holdout is None
    assert len(coarse.groups) < N_BLOCKS < len(fine.groups)


def test_sparsification_keeps_a_spanning_tree() -> None:
    rel, _ = _planted(seed=5)
    options = {"seed": 0, "normalisation": "probability", "permutations": 9, "holdout": False}
    full = sector_communities(rel, top_k=None, **options)
    sparse = sector_communities(rel, top_k=1, **options)
    strong = sector_communities(rel, top_k=None, quantile=0.95, **options)
    assert full.edges == N_SECTORS * (N_SECTORS - 1) // 2  # every pair co-occurs somewhere
    # Maximum spanning tree (S - 1 edges) plus each sector's strongest link.
    assert N_SECTORS - 1 <= sparse.edges < 2 * N_SECTORS
    assert N_SECTORS - 1 <= strong.edges < full.edges
    # The score is computed on the whole relatedness, whatever the graph kept.
    assert full.score.observed == pytest.approx(
        grouping_score(_weights(rel), full.labels, permutations=9).observed, abs=1e-12
    )


def _weights(rel: Relatedness) -> np.ndarray:
    weights = rel.matrix.copy()
    np.fill_diagonal(weights, 0)
    return weights


def test_groups_are_named_after_their_largest_sectors() -> None:
    rel, _ = _planted(seed=6)
    found = sector_communities(rel, seed=0, permutations=9, names=2, holdout=False)
    assert [g.code for g in found.groups] == ["g01", "g02", "g03"]
    totals = [rel.sector_totals[found.labels == k].sum() for k in range(3)]
    assert totals == sorted(totals, reverse=True)
    for k, group in enumerate(found.groups):
        members = np.flatnonzero(found.labels == k)
        top = members[np.argsort(-rel.sector_totals[members], kind="stable")[:2]]
        expected = " ; ".join(naf.label(c) for c in rel.sectors[top])
        assert group.name == f"{expected} (+ {len(members) - 2} autres)"
        assert group.naf == tuple(rel.sectors[members])
    frame = found.to_frame()
    assert list(frame.columns) == ["sector", "group", "group_name"]
    assert sorted(frame["sector"]) == sorted(rel.sectors)


def test_export_round_trips_through_sector_groups_load(tmp_path: Path) -> None:
    rel, _ = _planted(seed=7)
    found = sector_communities(rel, seed=3, permutations=99)
    path = tmp_path / "groups.toml"
    found.write(path)
    assert sector_groups.load(path) == found.to_sector_groups() == list(found.groups)
    header = [
        line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")
    ]
    text = "\n".join(header)
    assert "graine (seed) : 3" in text
    assert f"z = {found.score.z:.2f}" in text
    assert "Validation hors échantillon" in text
    # Every sector of the relatedness lands in exactly one group.
    exported = [c for g in sector_groups.load(path) for c in g.naf]
    assert sorted(exported) == sorted(rel.sectors)


def test_groups_of_codes_that_are_not_naf_cannot_be_exported(tmp_path: Path) -> None:
    rel, _ = _planted(seed=8)
    renamed = relatedness_from_matrix(
        rel.values, rel.territories, np.array([f"x{i:02d}" for i in range(N_SECTORS)])
    )
    found = sector_communities(renamed, seed=0, permutations=9, holdout=False)
    assert found.groups[0].name.startswith("x")  # named by code when there is no label
    with pytest.raises(InputError, match="not NAF"):
        found.write(tmp_path / "groups.toml")


def test_grouping_score_on_a_hand_example() -> None:
    # Four sectors, two strong pairs: {0, 1} and {2, 3}.
    weights = np.array([[0, 5, 1, 1], [5, 0, 1, 1], [1, 1, 0, 5], [1, 1, 5, 0]], dtype=float)
    score = grouping_score(weights, [0, 0, 1, 1], permutations=999, seed=0)
    assert score.observed == pytest.approx(10 / 14)
    # Three equally likely pairings; their shares are 10/14, 2/14, 2/14: mean 1/3.
    assert score.random_mean == pytest.approx(1 / 3, abs=0.03)
    assert np.isin(np.round(score.random_shares * 14, 9), [2, 10]).all()
    assert score.p_value == pytest.approx(1 / 3, abs=0.05)
    one_group = grouping_score(weights, [0, 0, 0, 0], permutations=9)
    assert one_group.observed == 1.0
    assert np.isnan(one_group.z)
    assert one_group.p_value == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resolution": 0}, "resolution=0"),
        ({"quantile": 1.0}, r"quantile=1.0: expected a number in \[0, 1\)"),
        ({"top_k": 0}, "top_k=0"),
        ({"permutations": 0}, "permutations=0"),
        ({"names": 0}, "names=0"),
        ({"normalisation": "pmi"}, "normalisation='pmi'"),
    ],
)
def test_wrong_arguments_are_named(kwargs: dict[str, object], message: str) -> None:
    rel, _ = _planted(seed=9, n_territories=20)
    with pytest.raises(InputError, match=message):
        sector_communities(rel, **kwargs)


def test_unrelated_sectors_are_refused() -> None:
    # Each territory holds one sector only: no two sectors ever co-occur.
    values = np.eye(4)
    rel = relatedness_from_matrix(values, ["a", "b", "c", "d"], _naf_codes(4), presence="count")
    with pytest.raises(InputError, match="no two sectors are related"):
        sector_communities(rel)
    with pytest.raises(InputError, match=r"weights have shape \(4, 4\), expected \(3, 3\)"):
        grouping_score(np.ones((4, 4)), [0, 1, 1])


def test_the_shipped_example_is_a_valid_partition_of_the_divisions() -> None:
    groups = sector_groups.load(EXAMPLE_SECTOR_GROUPS)
    codes = [code for group in groups for code in group.naf]
    table = naf.table()
    divisions = [
        c
        for c, lvl in zip(table["code"].to_pylist(), table["level"].to_pylist(), strict=True)
        if lvl == "division"
    ]
    assert sorted(codes) == sorted(divisions)  # each division in exactly one group
    header = EXAMPLE_SECTOR_GROUPS.read_text(encoding="utf-8").split("\n[groups.", 1)[0]
    assert "graine (seed) : 0" in header
    assert "Validation hors échantillon" in header
