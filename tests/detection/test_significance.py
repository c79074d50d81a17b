"""Gi* and local Moran: esda anchors, permutation inference, refinement, Benjamini–Hochberg."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from grappe.detection.significance import benjamini_hochberg, getis_ord, local_moran
from grappe.detection.significance.fdr import _bh_rejects
from grappe.detection.significance.permutation import _Draws
from grappe.detection.significance.refinement import _schedule
from grappe.detection.weights import SpatialWeights, distance_band, grid, knn
from grappe.errors import InputError


def _points(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "code": np.array([f"t{i:03d}" for i in range(n)]),
        "x": rng.uniform(0, 100_000, n),
        "y": rng.uniform(0, 100_000, n),
    }


def _grid_weights(side: int) -> SpatialWeights:
    xs, ys = np.meshgrid(np.arange(side) * 1000.0 + 1, np.arange(side) * 1000.0 + 1)
    return grid(xs.ravel(), ys.ravel(), 1000).weights


def _esda(cls: type, *args: object, **kwargs: object) -> object:
    # esda warns (DeprecationWarning) that its default tail rule will change; we match today's.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(*args, **kwargs)


WEIGHTS = {
    "knn": lambda: knn(_points(70, 11), k=5),
    "band": lambda: distance_band(_points(70, 12), 18_000.0),  # varying cardinalities
    "grid": lambda: _grid_weights(8),  # 3, 5 and 8 neighbours
}


@pytest.mark.parametrize("kind", sorted(WEIGHTS))
@pytest.mark.parametrize("transform", ["B", "R"])
def test_gi_star_equals_esda(kind: str, transform: str) -> None:
    from esda.getisord import G_Local

    w = WEIGHTS[kind]()
    rng = np.random.default_rng(len(kind))
    values = rng.poisson(rng.uniform(0.3, 4.0, 5), size=(w.n, 5)).astype(float)
    res = getis_ord(values, w, transform=transform, permutations=0)
    for j in range(values.shape[1]):
        ref = _esda(
            G_Local, values[:, j], w.to_libpysal(), transform=transform, star=True, permutations=0
        )
        np.testing.assert_allclose(res.gi[:, j], ref.Gs, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(res.z[:, j], ref.Zs, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(res.p_norm[:, j], ref.p_norm, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(res.expected, ref.EGs, rtol=1e-9)


@pytest.mark.parametrize("kind", sorted(WEIGHTS))
@pytest.mark.parametrize("transform", ["R", "B"])
def test_local_moran_equals_esda(kind: str, transform: str) -> None:
    from esda.moran import Moran_Local

    w = WEIGHTS[kind]()
    rng = np.random.default_rng(7 + len(kind))
    values = rng.poisson(rng.uniform(0.3, 4.0, 4), size=(w.n, 4)).astype(float)
    res = local_moran(values, w, transform=transform, permutations=0)
    for j in range(values.shape[1]):
        ref = _esda(
            Moran_Local, values[:, j], w.to_libpysal(), transformation=transform, permutations=0
        )
        np.testing.assert_allclose(res.Is[:, j], ref.Is, rtol=1e-9, atol=1e-12)
        z_ref = (ref.Is - ref.EI) / np.sqrt(ref.VI)
        np.testing.assert_allclose(res.z[:, j], z_ref, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(res.expected, ref.EI, rtol=1e-9)
        assert (res.quadrant[:, j] == ref.q).all()


def test_tail_rule_equals_esda_on_explicit_draws() -> None:
    """Rebuild every tested cell's 999 permuted Gi* and fold them with esda's own rule."""
    from esda.significance import calculate_significance

    w = _grid_weights(7)
    values = np.random.default_rng(3).poisson(1.5, size=(w.n, 3)).astype(float)
    res = getis_ord(
        values, w, permutations=999, max_permutations=999, rng=np.random.default_rng(99)
    )
    assert res.schedule == (999,)
    assert not res.refined.any()
    draws = _Draws.make(w.cardinalities, 999, np.random.default_rng(99))
    for i in range(w.n):
        c = int(w.cardinalities[i])
        order = np.argsort(draws.idx == i, axis=1, kind="stable")
        drawn = np.take_along_axis(draws.idx, order, axis=1)[:, :c]
        for j in range(values.shape[1]):
            if not res.tested[i, j]:
                continue
            y = values[:, j]
            sims = (y[i] + y[drawn].sum(axis=1)) / y.sum()  # binary Gi*, integer sums: exact
            p = calculate_significance(res.gi[i, j], sims, alternative="directed")
            assert res.p_sim[i, j] == pytest.approx(p, abs=1e-15)


@pytest.mark.parametrize("statistic", ["gi", "moran"])
def test_p_sim_agrees_with_esda_in_distribution(statistic: str) -> None:
    """Same data, 12 seeds each: per-cell mean p_sim and the pooled distributions agree.

    Continuous values: with integer counts esda's local Moran splits exact ties between
    permuted and observed statistics by floating-point noise (they are summed in different
    orders), where grappe counts ties as "at least as large", as the rule says.
    """
    from esda.getisord import G_Local
    from esda.moran import Moran_Local

    w = knn(_points(60, 21), k=5)
    y = np.random.default_rng(5).gamma(2.0, 1.5, w.n)
    y[:6] += 6.0  # a few high values so that small p-values occur
    lw = w.to_libpysal()
    ours, theirs = [], []
    for seed in range(12):
        if statistic == "gi":
            res = getis_ord(y, w, permutations=999, rng=np.random.default_rng(seed))
            ref = _esda(
                G_Local,
                y,
                lw,
                transform="B",
                star=True,
                permutations=999,
                seed=seed,
                n_jobs=1,
                keep_simulations=False,
            )
        else:
            res = local_moran(y, w, permutations=999, rng=np.random.default_rng(seed))
            ref = _esda(
                Moran_Local, y, lw, permutations=999, seed=seed, n_jobs=1, keep_simulations=False
            )
        assert res.tested.all()
        ours.append(res.p_sim[:, 0])
        theirs.append(np.asarray(ref.p_sim, dtype=float))
    a, b = np.array(ours), np.array(theirs)
    # Each cell's p-value estimates the same tail probability: means over seeds agree closely
    # (the standard error of one p_sim near 0.5 is about 0.016, of a 12-seed mean 0.005).
    assert np.abs(a.mean(axis=0) - b.mean(axis=0)).max() < 0.03
    assert stats.ks_2samp(a.ravel(), b.ravel()).pvalue > 0.01
    # And a permutation engine that ignored the data would fail the first check.
    assert np.abs(a.mean(axis=0) - np.roll(b.mean(axis=0), 7)).max() > 0.1


def _moderate() -> tuple[SpatialWeights, sp.csr_array]:
    """Sparse counts on a contiguity-like distance band (several cardinalities, an island)."""
    pts = _points(150, 4)
    pts["x"][0] = 10_000_000.0  # far away: an island when islands are kept
    w = distance_band(pts, 14_000.0, k_islands=0)
    rng = np.random.default_rng(8)
    dense = rng.poisson(rng.uniform(0.05, 2.0, 8), size=(w.n, 8)).astype(float)
    dense[:, 3] = 0.0  # an empty sector
    dense[w.index("t000"), 4] = 3.0
    return w, sp.csr_array(dense)


@pytest.mark.parametrize("verb", [getis_ord, local_moran])
def test_shared_draws_equal_direct_draws(verb: object) -> None:
    """The fast scheme gives every cell the same 999-draw outcome as drawing cell by cell."""
    w, values = _moderate()
    fast = verb(values, w, rng=np.random.default_rng(1), max_permutations=31_999)  # type: ignore[operator]
    slow = verb(values, w, rng=np.random.default_rng(1), method="direct", max_permutations=31_999)  # type: ignore[operator]
    assert fast.tested.sum() > 300
    assert fast.refined.sum() > 5  # the refinement blocks are counted both ways too
    assert (fast.draw_round == slow.draw_round).all()
    assert (fast.folded == slow.folded).all()
    assert (fast.tail == slow.tail).all()
    np.testing.assert_array_equal(fast.p_sim, slow.p_sim)
    np.testing.assert_array_equal(fast.cell_p_sim, fast.p_sim[fast.cell_rows, fast.cell_cols])
    assert (fast.tested[fast.cell_rows, fast.cell_cols]).all()
    assert fast.tested.sum() == len(fast.cell_rows)
    np.testing.assert_array_equal(fast.p_adjusted, slow.p_adjusted)
    np.testing.assert_allclose(fast.z_sim, slow.z_sim, rtol=1e-5, atol=1e-6, equal_nan=True)
    for alpha in (0.05, 0.2):
        assert (fast.significant(alpha) == slow.significant(alpha)).all()
        assert (
            fast.significant(alpha, adjusted=False) == slow.significant(alpha, adjusted=False)
        ).all()
    assert fast.significant(0.2, adjusted=False).sum() > 10


def test_untested_cells_could_never_be_hot() -> None:
    """Cells with an empty neighbourhood: every draw is >= observed, so never upper tail."""
    w, values = _moderate()
    res = getis_ord(values, w, rng=np.random.default_rng(2))
    lag = np.asarray(w.adjacency @ values.toarray())
    assert ((lag == 0) == ~res.tested)[:, [0, 1, 2, 4, 5, 6, 7]].all()
    assert not res.tested[:, 3].any()  # the empty sector
    assert np.isnan(res.p_adjusted[:, 3]).all()
    assert w.islands.tolist() == ["t000"]
    assert not res.tested[w.index("t000")].any()
    untested = ~res.tested[:, 0]
    assert np.isnan(res.p_sim[untested, 0]).all()
    assert (res.p_adjusted[untested, 0] == 1.0).all()
    assert not res.significant(0.5)[untested, 0].any()
    # Direct check of the claim on the draws: no permuted neighbour sum is below zero.
    draws = _Draws.make(w.cardinalities, 999, np.random.default_rng(2))
    y = values.toarray()[:, 0]
    for i in np.flatnonzero(untested & (w.cardinalities > 0))[:20]:
        order = np.argsort(draws.idx == i, axis=1, kind="stable")
        sums = y[np.take_along_axis(draws.idx, order, axis=1)[:, : w.cardinalities[i]]].sum(1)
        assert (sums >= lag[i, 0]).all()


def test_reproducible_bit_for_bit() -> None:
    w, values = _moderate()
    a = getis_ord(values, w, rng=np.random.default_rng(123))
    b = getis_ord(values, w, rng=np.random.default_rng(123))
    c = getis_ord(values, w, rng=np.random.default_rng(124))
    assert a.refined.sum() > 5
    names = ("statistic", "z", "folded", "tail", "z_sim", "p_adjusted", "draws", "unsettled")
    for name in names:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert (a.folded != c.folded).any()
    # The refinement draws of a cell do not depend on the other sectors: one sector alone
    # gets the same bits (its Benjamini–Hochberg family is the same).
    alone = getis_ord(values[:, [4]], w, rng=np.random.default_rng(123))
    for name in ("folded", "tail", "draws", "p_adjusted", "unsettled"):
        np.testing.assert_array_equal(getattr(alone, name)[:, 0], getattr(a, name)[:, 4])


def test_sparse_and_dense_inputs_agree() -> None:
    w, values = _moderate()
    a = local_moran(values, w, rng=np.random.default_rng(5))
    b = local_moran(values.toarray(), w, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.statistic, b.statistic)
    np.testing.assert_array_equal(a.p_adjusted, b.p_adjusted)


def test_benjamini_hochberg_equals_scipy() -> None:
    rng = np.random.default_rng(0)
    p = np.round(rng.uniform(0, 0.2, 300), 3)  # with ties
    np.testing.assert_array_equal(
        benjamini_hochberg(p), stats.false_discovery_control(p, method="bh")
    )
    groups = rng.integers(0, 4, 300)
    got = benjamini_hochberg(p, groups)
    for g in range(4):
        ref = stats.false_discovery_control(p[groups == g], method="bh")
        np.testing.assert_array_equal(got[groups == g], ref)
    # Declared family sizes equal padding the family with p = 1.
    padded = stats.false_discovery_control(np.r_[p, np.ones(200)], method="bh")[:300]
    np.testing.assert_allclose(benjamini_hochberg(p, family_sizes=[500]), padded, rtol=1e-15)
    assert np.isnan(benjamini_hochberg([np.nan, 0.1])[0])
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        benjamini_hochberg([1.5])


@pytest.mark.parametrize("fdr", ["territories", "all"])
def test_p_adjusted_is_bh_over_every_territory(fdr: str) -> None:
    w, values = _moderate()
    res = getis_ord(values, w, rng=np.random.default_rng(6), fdr=fdr)
    p = np.where(res.tested, res.p_sim, 1.0)[:, [0, 1, 2, 4, 5, 6, 7]]
    adjusted = res.p_adjusted[:, [0, 1, 2, 4, 5, 6, 7]]
    if fdr == "territories":
        for j in range(p.shape[1]):
            ref = stats.false_discovery_control(p[:, j], method="bh")
            np.testing.assert_allclose(adjusted[:, j], ref, rtol=1e-15)
    else:
        ref = stats.false_discovery_control(p.ravel(), method="bh").reshape(p.shape)
        np.testing.assert_allclose(adjusted, ref, rtol=1e-15)


def test_planted_hot_spot_is_found_and_nothing_else() -> None:
    w = _grid_weights(12)
    rng = np.random.default_rng(4)
    values = rng.poisson(1.0, size=(w.n, 2)).astype(float)
    block = [
        w.index(f"L93_1000m_N{y}_E{x}") for x in (4000, 5000, 6000) for y in (4000, 5000, 6000)
    ]
    values[block, 1] += 12.0
    res = getis_ord(values, w, rng=np.random.default_rng(0))
    hot = res.hot(0.05)
    assert hot[block, 1].sum() >= 5
    assert hot[:, 0].sum() == 0
    centre = w.index("L93_1000m_N5000_E5000")
    # Cold calls (if any) are low neighbourhoods away from the block: a Gi* below its draws.
    cold = np.flatnonzero(res.cold(0.05)[:, 1])
    assert not set(cold.tolist()) & set(block)
    lag = w.adjacency @ values[:, 1]
    assert (lag[cold] < np.median(lag)).all()
    frame = res.to_frame()
    assert len(frame) == int(res.tested.sum())
    row = frame[(frame.territory == w.ids[centre]) & (frame.sector == "1")].iloc[0]
    assert row.call == "hot"
    # No draw reached the centre's neighbour sum: its p-value is the floor of its draws.
    assert row.p_sim == pytest.approx(1.0 / (row.draws + 1.0))
    assert row.draws > 999
    moran = local_moran(values, w, rng=np.random.default_rng(0), sectors=["a", "b"])
    assert moran.hot(0.05)[centre, 1]
    assert set(moran.to_frame(cells="significant").quadrant) <= {"HH", "LH", "LL", "HL"}


def test_inputs_are_validated() -> None:
    w = knn(_points(10, 1), k=3)
    good = np.ones((10, 2))
    bad = good.copy()
    bad[2, 1] = -1
    with pytest.raises(InputError, match=r"value -1.0 for territory 't002', sector '1'"):
        getis_ord(bad, w, rng=np.random.default_rng(0))
    with pytest.raises(InputError, match="9 rows but the weights hold 10"):
        getis_ord(good[:9], w, rng=np.random.default_rng(0))
    with pytest.raises(InputError, match=r"rng must be a numpy\.random\.Generator"):
        getis_ord(good, w)
    with pytest.raises(InputError, match="transform"):
        getis_ord(good, w, transform="D", permutations=0)
    with pytest.raises(InputError, match="fdr"):
        local_moran(good, w, fdr="sector", permutations=0)
    with pytest.raises(InputError, match="2 sector labels for 1"):
        local_moran(good[:, 0], w, sectors=["a", "b"], permutations=0)


def test_an_unknown_option_is_refused_by_its_name() -> None:
    w = knn(_points(10, 1), k=3)
    for verb in (getis_ord, local_moran):
        with pytest.raises(TypeError, match="unexpected keyword argument 'permutation'"):
            verb(np.ones((10, 2)), w, permutation=0)  # type: ignore[operator]


# --------------------------------------------------------------------------- refinement


def _spots(
    n: int, s: int, seed: int, spots: dict[int, int]
) -> tuple[SpatialWeights, sp.csr_array, dict[int, np.ndarray]]:
    """knn(8) on random points, sparse Poisson counts, and planted spots {sector: size}."""
    pts = _points(n, seed)
    pts["code"] = np.array([f"t{i:05d}" for i in range(n)])
    w = knn(pts, k=8)
    rng = np.random.default_rng(seed)
    dense = rng.poisson(rng.uniform(0.05, 1.5, s), size=(n, s)).astype(float)
    xy = np.column_stack([pts["x"], pts["y"]])
    planted = {}
    for j, size in spots.items():
        near = np.argsort(((xy - xy[rng.integers(n)]) ** 2).sum(axis=1))[:size]
        dense[near, j] += rng.poisson(6, size) + 4.0
        planted[j] = near  # codes t00000... are already sorted: row i is point i
    return w, sp.csr_array(dense), planted


@pytest.mark.parametrize("verb", [getis_ord, local_moran])
def test_sequential_calls_equal_the_full_cap_test(verb: object) -> None:
    """Refining only the undecided cells gives the calls of drawing the cap for every cell."""
    w, values, _ = _spots(400, 10, 31, {2: 7, 6: 5})
    kwargs = {"max_permutations": 19_999, "rng": None}
    runs = {}
    for mode in ("sequential", "full"):
        kwargs["rng"] = np.random.default_rng(17)
        runs[mode] = verb(values, w, refinement=mode, **kwargs)  # type: ignore[operator]
    seq, full = runs["sequential"], runs["full"]
    assert (full.draws[full.tested] == 19_999).all()
    for alpha in (0.05,):
        np.testing.assert_array_equal(seq.significant(alpha), full.significant(alpha))
        np.testing.assert_array_equal(seq.hot(alpha), full.hot(alpha))
        np.testing.assert_array_equal(seq.cold(alpha), full.cold(alpha))
    calls = seq.significant(0.05)
    assert calls.sum() >= 8
    # A cell refined to the cap used exactly the draws of the full test.
    at_cap = seq.draws == 19_999
    assert at_cap.sum() > 0
    np.testing.assert_array_equal(seq.folded[at_cap], full.folded[at_cap])
    # ... at a fraction of the cost, and the 999 shared draws alone would call less.
    assert seq.draws.sum() < 0.1 * full.draws.sum()
    base = verb(values, w, max_permutations=999, rng=np.random.default_rng(17))  # type: ignore[operator]
    assert base.significant(0.05).sum() < calls.sum()
    np.testing.assert_array_equal(base.statistic, seq.statistic)
    np.testing.assert_array_equal(base.z, seq.z)


def test_planted_hot_spot_is_called_among_thousands() -> None:
    """At commune-like scale, 999 draws call nothing; the refinement calls the planted spot."""
    w, values, planted = _spots(3000, 12, 5, {4: 12})
    spot = planted[4]
    res = getis_ord(values, w, rng=np.random.default_rng(3))
    assert res.hot(0.05)[spot, 4].mean() >= 0.9
    assert res.sector_draws[4] > 999
    assert res.refined[spot, 4].all()
    assert not res.unsettled[spot, 4].any()
    report = res.refinement_by_sector()
    assert report.loc[4, "calls"] >= 11
    assert report["refined"].sum() == int(res.refined.sum())
    assert report["draws"].tolist() == res.sector_draws.tolist()
    # The floor of 999 draws: p >= 1/1000 while Benjamini–Hochberg needs <= 0.05 * k / 3000.
    fixed = getis_ord(values, w, max_permutations=999, rng=np.random.default_rng(3))
    assert not fixed.significant(0.05).any()
    assert (fixed.p_sim[spot, 4] == 0.001).all()
    # With too low a cap the spot's calls are not settled: the result says so.
    low = getis_ord(values, w, max_permutations=3999, rng=np.random.default_rng(3))
    assert low.unsettled[spot, 4].all()
    assert (low.draws[low.unsettled] == 3999).all()


def test_no_structure_false_discoveries_are_controlled() -> None:
    """Values without spatial structure: a family makes a call in about alpha of the cases."""
    families = 0
    with_calls = 0
    for seed in range(6):
        pts = _points(800, 100 + seed)
        pts["code"] = np.array([f"t{i:05d}" for i in range(800)])
        w = knn(pts, k=6)
        rng = np.random.default_rng(seed)
        values = rng.poisson(rng.uniform(0.2, 3.0, 10), size=(800, 10)).astype(float)
        res = getis_ord(values, w, rng=np.random.default_rng(seed))
        calls = res.significant(0.05)
        families += 10
        with_calls += int(calls.any(axis=0).sum())
        assert res.refined.any()  # the refinement ran on the smallest p-values
    # Under the null the false discovery rate is P(any call) <= 5 %; loose bound over 60.
    assert with_calls / families <= 0.15


def test_refinement_inputs_are_validated() -> None:
    w = knn(_points(10, 1), k=3)
    good = np.ones((10, 2))
    good[0] = 3.0
    with pytest.raises(InputError, match="max_permutations must be a whole number >= permutations"):
        getis_ord(good, w, rng=np.random.default_rng(0), max_permutations=99)
    with pytest.raises(InputError, match="alpha must be between 0 and 1"):
        getis_ord(good, w, rng=np.random.default_rng(0), alpha=1.5)
    with pytest.raises(InputError, match="confidence"):
        local_moran(good, w, rng=np.random.default_rng(0), confidence=1.0)
    with pytest.raises(InputError, match="refinement must be 'sequential' or 'full'"):
        local_moran(good, w, rng=np.random.default_rng(0), refinement="all")
    res = getis_ord(good, w, permutations=0)
    assert res.schedule == (0,)
    assert not res.draws.any()
    assert not res.unsettled.any()
    assert _schedule(999, 20_000) == (999, 1999, 3999, 7999, 15999, 20_000)


@settings(max_examples=300, deadline=None)
@given(
    draws=st.sampled_from([99, 999, 9_999]),
    tails=st.lists(st.integers(0, 400), min_size=1, max_size=200),
    families=st.integers(1, 6),
    padding=st.integers(0, 40),
    alpha=st.sampled_from([0.05, 0.1, 0.2]),
    seed=st.integers(0, 2**32 - 1),
)
def test_refinement_calls_are_benjamini_hochbergs(
    draws: int, tails: list[int], families: int, padding: int, alpha: float, seed: int
) -> None:
    """The refinement's rejection test equals ``benjamini_hochberg(...) <= alpha``, ties included."""
    p = (np.minimum(np.array(tails), draws) + 1.0) / (draws + 1.0)
    groups = np.random.default_rng(seed).integers(0, families, len(p))
    sizes = np.bincount(groups, minlength=families) + padding
    expected = np.zeros(len(p), dtype=bool)
    low = np.flatnonzero(p <= alpha)
    if len(low):
        expected[low] = benjamini_hochberg(p[low], groups[low], sizes) <= alpha
    np.testing.assert_array_equal(_bh_rejects(p, groups, sizes, alpha), expected)
