"""Invariants of the indicators on arbitrary counts (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from grappe.detection.counts import Counts, Totals
from grappe.detection.indicators import indicators
from grappe.errors import InputError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def counts_of(est: np.ndarray, emp: np.ndarray, spread: np.ndarray) -> Counts:
    n_t, n_s = est.shape

    def csr(a: np.ndarray) -> sp.csr_array:
        return sp.csr_array(np.asarray(a, dtype=float))

    return Counts(
        territory_level="commune",
        sector_level="classe",
        territories=np.array([f"{i:05d}" for i in range(n_t)]),
        sectors=np.array([f"{j:02d}.{j:02d}" for j in range(n_s)]),
        establishments=csr(est),
        employment=csr(emp),
        employment_low=csr(np.maximum(emp - spread, 0)),
        employment_high=csr(emp + spread),
        sme_establishments=csr(est),
        employment_sq=csr(emp**2),
    )


@st.composite
def fabrics(draw: st.DrawFn, min_territories: int = 2, min_sectors: int = 2) -> Counts:
    """Counts with at least two active territories and sectors; employment only where
    there are establishments."""
    n_t = draw(st.integers(min_territories, 9))
    n_s = draw(st.integers(min_sectors, 7))
    est = draw(arrays(np.int64, (n_t, n_s), elements=st.integers(0, 6)))
    # make sure the comparison is defined: two territories and two sectors with activity
    est[0, 0] = max(est[0, 0], 1)
    est[1, 1] = max(est[1, 1], 1)
    per_plant = draw(arrays(np.int64, (n_t, n_s), elements=st.integers(0, 50)))
    emp = est * per_plant
    spread = draw(arrays(np.int64, (n_t, n_s), elements=st.integers(0, 10))) * est
    return counts_of(est, emp, spread)


def scaled(counts: Counts, factor: float) -> Counts:
    return Counts(
        territory_level=counts.territory_level,
        sector_level=counts.sector_level,
        territories=counts.territories,
        sectors=counts.sectors,
        establishments=counts.establishments * factor,
        employment=counts.employment * factor,
        employment_low=counts.employment_low * factor,
        employment_high=counts.employment_high * factor,
        sme_establishments=counts.sme_establishments * factor,
        employment_sq=counts.employment_sq * factor**2,
    )


@SETTINGS
@given(fabrics(), st.sampled_from([0.5, 3.0, 7.25, 1000.0]))
def test_lq_unchanged_when_every_count_is_scaled(counts: Counts, factor: float) -> None:
    base = indicators(counts, measure="establishments")
    other = indicators(scaled(counts, factor), measure="establishments")
    for name in ("lq", "focus", "size"):
        np.testing.assert_allclose(
            getattr(other.establishments, name).data,
            getattr(base.establishments, name).data,
            rtol=1e-9,
        )
        np.testing.assert_allclose(
            getattr(other.employment, name).data, getattr(base.employment, name).data, rtol=1e-9
        )
    for name in ("lq_low", "lq_high"):
        np.testing.assert_allclose(
            getattr(other.employment, name).data, getattr(base.employment, name).data, rtol=1e-9
        )
    for name in ("krugman", "hachman", "herfindahl", "gini", "hoover", "eg_gamma"):
        np.testing.assert_allclose(
            getattr(other.employment, name), getattr(base.employment, name), rtol=1e-9, atol=1e-12
        )
        if name != "eg_gamma":  # on counts the plant Herfindahl is 1/N: not scale-free
            np.testing.assert_allclose(
                getattr(other.establishments, name),
                getattr(base.establishments, name),
                rtol=1e-9,
                atol=1e-12,
            )


@SETTINGS
@given(fabrics())
def test_shares_sum_to_one(counts: Counts) -> None:
    result = indicators(counts, measure="establishments")
    for block in (result.establishments, result.employment):
        focus = block.focus.toarray()
        size = block.size.toarray()
        row_totals = np.nansum(focus, axis=1)
        col_totals = np.nansum(size, axis=0)
        # a territory (sector) with a positive total has shares summing to 1
        defined_rows = ~np.isnan(focus).any(axis=1) & (row_totals > 0)
        defined_cols = ~np.isnan(size).any(axis=0) & (col_totals > 0)
        np.testing.assert_allclose(row_totals[defined_rows], 1.0, rtol=1e-12)
        np.testing.assert_allclose(col_totals[defined_cols], 1.0, rtol=1e-12)


@SETTINGS
@given(fabrics())
def test_concentration_and_specialisation_stay_in_their_domain(counts: Counts) -> None:
    result = indicators(counts, measure="establishments")
    n_t = len(counts.territories)
    for block, matrix in (
        (result.establishments, counts.establishments),
        (result.employment, counts.employment),
    ):
        # defined exactly where the total is positive, whatever the other rows and columns
        positive_sector = np.asarray(matrix.sum(axis=0)).ravel() > 0
        positive_territory = np.asarray(matrix.sum(axis=1)).ravel() > 0
        for name in ("herfindahl", "gini", "hoover"):
            assert np.array_equal(np.isfinite(getattr(block, name)), positive_sector), name
        for name in ("krugman", "hachman"):
            assert np.array_equal(np.isfinite(getattr(block, name)), positive_territory), name
        defined = ~np.isnan(block.herfindahl)
        assert np.all(block.herfindahl[defined] >= 1 / n_t - 1e-12)
        assert np.all(block.herfindahl[defined] <= 1 + 1e-12)
        hoover = block.hoover[~np.isnan(block.hoover)]
        assert np.all(hoover >= -1e-12)
        assert np.all(hoover < 1)
        gini = block.gini[~np.isnan(block.gini)]
        assert np.all((gini >= 0) & (gini < 1))
        krugman = block.krugman[~np.isnan(block.krugman)]
        assert np.all((krugman >= -1e-12) & (krugman < 2))
        hachman = block.hachman[~np.isnan(block.hachman)]
        assert np.all((hachman > 0) & (hachman <= 1 + 1e-12))


@SETTINGS
@given(fabrics())
def test_ranges_hold_the_central_value(counts: Counts) -> None:
    emp = indicators(counts, measure="establishments").employment
    for name in ("lq", "focus", "size"):
        central = getattr(emp, name).data
        low, high = getattr(emp, f"{name}_low").data, getattr(emp, f"{name}_high").data
        defined = ~np.isnan(central)
        assert np.all(low[defined] <= central[defined])
        assert np.all(central[defined] <= high[defined])
        assert np.all(low[defined] >= 0)
    # LQ, focus and size are exact when the bands are points
    point = counts_of(
        counts.establishments.toarray(),
        counts.employment.toarray(),
        np.zeros(counts.employment.shape),
    )
    exact = indicators(point, measure="establishments")
    lq = exact.employment.lq.data
    defined = ~np.isnan(lq)
    np.testing.assert_allclose(exact.employment.lq_low.data[defined], lq[defined], rtol=1e-9)
    np.testing.assert_allclose(exact.employment.lq_high.data[defined], lq[defined], rtol=1e-9)


@SETTINGS
@given(
    st.integers(1, 6).flatmap(lambda n_s: arrays(np.int64, (1, n_s), elements=st.integers(0, 9)))
)
def test_one_territory_raises_a_clear_error(est: np.ndarray) -> None:
    if not est.any():
        with pytest.raises(InputError, match="aucun établissement"):
            indicators(counts_of(est, est, est * 0))
        return
    with pytest.raises(InputError, match="au moins 2 territoires"):
        indicators(counts_of(est, est, est * 0))


@SETTINGS
@given(st.integers(0, 5), st.integers(0, 5))
def test_empty_inputs_raise_a_clear_error(n_t: int, n_s: int) -> None:
    est = np.zeros((n_t, n_s))
    with pytest.raises(InputError, match=r"aucune donnée|aucun établissement"):
        indicators(counts_of(est, est, est))


def whole_economy_totals(counts: Counts) -> Totals:
    """The row sums of counts whose columns partition the economy."""
    return counts.territory_totals()


def columns(
    counts: Counts, keep: np.ndarray, totals: Totals, extra: dict[str, sp.csr_array] | None = None
) -> Counts:
    """Some columns of ``counts`` (plus ``extra`` ones, e.g. unions), measured against ``totals``."""
    names = (
        "establishments",
        "employment",
        "employment_low",
        "employment_high",
        "sme_establishments",
        "employment_sq",
    )
    matrices = {}
    for name in names:
        kept = sp.csr_array(getattr(counts, name))[:, keep]
        if extra is not None:
            kept = sp.csr_array(sp.hstack([kept, extra[name]]))
        matrices[name] = kept
    sectors = counts.sectors[keep]
    if extra is not None:
        sectors = np.concatenate([sectors, ["union"]])
    return Counts(
        territory_level=counts.territory_level,
        sector_level="groups",
        territories=counts.territories,
        sectors=sectors,
        totals=totals,
        **matrices,
    )


CELL_FIGURES = (
    "lq",
    "lq_low",
    "lq_high",
    "focus",
    "focus_low",
    "focus_high",
    "size",
    "size_low",
    "size_high",
)
SECTOR_FIGURES = ("herfindahl", "gini", "hoover", "eg_gamma")


def assert_same_columns(
    part: Counts, part_columns: np.ndarray, full: Counts, full_columns: np.ndarray
) -> None:
    ours, reference = indicators(part, measure="establishments"), indicators(full, measure="establishments")
    for measure in ("establishments", "employment"):
        a, b = getattr(ours, measure), getattr(reference, measure)
        for name in CELL_FIGURES:
            np.testing.assert_allclose(
                getattr(a, name).toarray()[:, part_columns],
                getattr(b, name).toarray()[:, full_columns],
                rtol=1e-9,
                atol=1e-12,
                err_msg=f"{measure} {name}",
            )
        for name in SECTOR_FIGURES:
            for suffix in ("", "_low", "_high"):
                np.testing.assert_allclose(
                    getattr(a, name + suffix)[part_columns],
                    getattr(b, name + suffix)[full_columns],
                    rtol=1e-9,
                    atol=1e-12,
                    err_msg=f"{measure} {name}{suffix}",
                )


@SETTINGS
@given(fabrics(min_sectors=3), st.data())
def test_a_part_of_the_economy_is_measured_as_in_the_full_level(counts: Counts, data: st.DataObject) -> None:
    """Columns kept from a full level, with the whole-economy totals: the same cell figures and
    sector indices as in the full level (a sector group covering part of the economy)."""
    n_s = len(counts.sectors)
    keep = np.asarray(data.draw(st.lists(st.booleans(), min_size=n_s, max_size=n_s)))
    kept_establishments = counts.establishments.toarray()[:, keep]
    assume(kept_establishments.sum() > 0 and keep.sum() < n_s)
    part = columns(counts, keep, whole_economy_totals(counts))
    assert_same_columns(part, np.arange(keep.sum()), counts, np.flatnonzero(keep))


@SETTINGS
@given(fabrics(min_sectors=3), st.data())
def test_an_overlapping_group_leaves_the_other_columns_unchanged(counts: Counts, data: st.DataObject) -> None:
    """A column that unions two others (an overlapping group) changes no territory total:
    every other column keeps its figures, and the union is measured as a sector."""
    n_s = len(counts.sectors)
    first, second = data.draw(st.lists(st.integers(0, n_s - 1), min_size=2, max_size=2, unique=True))
    names = ("establishments", "employment", "employment_low", "employment_high", "sme_establishments")
    union = {
        name: sp.csr_array(getattr(counts, name))[:, [first]]
        + sp.csr_array(getattr(counts, name))[:, [second]]
        for name in names
    }
    # plants: the union's squared sizes are the sum of its members'
    union["employment_sq"] = (
        sp.csr_array(counts.employment_sq)[:, [first]] + sp.csr_array(counts.employment_sq)[:, [second]]
    )
    every = np.ones(n_s, dtype=bool)
    grouped = columns(counts, every, whole_economy_totals(counts), extra=union)
    assert_same_columns(grouped, np.arange(n_s), counts, np.arange(n_s))
    # the union as a sector of a partition: merge the two columns (unless the union is the
    # whole economy, where a lone sector is refused)
    merged_keep = every.copy()
    merged_keep[[first, second]] = False
    if counts.establishments.toarray()[:, merged_keep].sum() > 0:
        partition = columns(counts, merged_keep, whole_economy_totals(counts), extra=union)
        assert_same_columns(grouped, np.array([n_s]), partition, np.array([n_s - 2]))
