"""Strong clusters (U.S. Cluster Mapping) and stars (European Cluster Observatory)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from grappe.detection.counts import Counts
from grappe.detection.indicators import indicators
from grappe.detection.rules import RuleThresholds, apply_rules
from grappe.errors import InputError


def make_counts(est: np.ndarray, emp: np.ndarray, *, from_establishments: bool = True) -> Counts:
    est = np.asarray(est, dtype=float)
    emp = np.asarray(emp, dtype=float)
    n_t, n_s = est.shape
    return Counts(
        territory_level="ze",
        sector_level="division",
        territories=np.array([f"T{i:02d}" for i in range(n_t)]),
        sectors=np.array([f"S{j:02d}" for j in range(n_s)]),
        establishments=sp.csr_array(est),
        employment=sp.csr_array(emp),
        employment_low=sp.csr_array(emp),
        employment_high=sp.csr_array(emp),
        sme_establishments=sp.csr_array(est),
        employment_sq=sp.csr_array(emp**2),
        from_establishments=from_establishments,
    )


def reference_rules(frame: pd.DataFrame, th: RuleThresholds) -> pd.DataFrame:
    """The published rules written plainly with pandas, sector by sector."""
    out = []
    for _, group in frame[frame.establishments > 0].groupby("sector"):
        lq = group.lq.dropna()
        lq_cut = np.percentile(lq, th.strong_lq_percentile) if len(lq) else np.nan
        emp_cut = np.percentile(group.employment, th.strong_employment_percentile)
        est_cut = np.percentile(group.establishments, th.strong_establishments_percentile)
        n = len(group)
        greater_emp = np.array([(group.employment > v).sum() for v in group.employment])
        greater_focus = np.array([(group.focus > v).sum() for v in group.focus])
        out.append(
            pd.DataFrame(
                {
                    "territory_code": group.territory_code,
                    "sector": group.sector,
                    "strong_ref": (group.lq >= lq_cut)
                    & (group.lq >= th.strong_lq_min)
                    & (group.employment > emp_cut)
                    & (group.establishments > est_cut),
                    "size_ref": greater_emp < th.star_size_top_share * n,
                    "spec_ref": group.lq >= th.star_specialisation_lq,
                    "focus_ref": greater_focus < th.star_focus_top_share * n,
                }
            )
        )
    return pd.concat(out)


@pytest.mark.parametrize("seed", range(5))
def test_rules_agree_with_a_plain_pandas_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    est = rng.integers(0, 6, size=(40, 6)) * (rng.random((40, 6)) < 0.7)
    emp = est * rng.integers(1, 5, size=est.shape) * 5  # coarse values: ties at the cuts
    ind = indicators(make_counts(est, emp))
    th = RuleThresholds()
    rules = apply_rules(ind)
    frame = rules.to_frame()
    merged = frame.merge(reference_rules(frame, th), on=["territory_code", "sector"])
    assert len(merged) == len(frame)
    np.testing.assert_array_equal(merged.strong, merged.strong_ref)
    np.testing.assert_array_equal(merged.size_star, merged.size_ref)
    np.testing.assert_array_equal(merged.specialisation_star, merged.spec_ref)
    np.testing.assert_array_equal(merged.focus_star, merged.focus_ref)
    np.testing.assert_array_equal(
        merged.stars, merged.size_ref.astype(int) + merged.spec_ref + merged.focus_ref
    )
    assert frame.strong.any()
    assert (frame.stars == 0).any()


def crafted() -> tuple[np.ndarray, np.ndarray]:
    """Sector S00 in eight territories; S01 everywhere as the rest of the economy."""
    est = np.array(
        [
            [10, 10],  # T00 big and specialised
            [6, 10],  # T01
            [2, 10],  # T02
            [1, 10],  # T03
            [1, 10],  # T04
            [1, 10],  # T05
            [1, 10],  # T06
            [1, 20],  # T07 small share
            [0, 10],  # T08 absent from S00
        ]
    )
    emp = est * 10
    emp[1, 0] = 50  # T01: employment 50
    return est, emp


def test_strong_rule_on_a_crafted_sector() -> None:
    est, emp = crafted()
    rules = apply_rules(indicators(make_counts(est, emp)))
    frame = rules.to_frame().set_index(["territory_code", "sector"])
    s00 = frame.xs("S00", level="sector")
    # percentiles over the 8 present territories only (T08 is absent)
    assert rules.establishments_cut[0] == np.percentile(est[:8, 0], 25)
    assert rules.employment_cut[0] == np.percentile(emp[:8, 0], 25)
    assert rules.lq_cut[0] == pytest.approx(np.percentile(s00.lq, 75))
    assert "T08" not in s00.index
    # T00 and T01 are the top-quartile LQ with mass; the single-plant territories are not
    assert list(s00.index[s00.strong]) == ["T00", "T01"]
    # in S01, T07 (20 establishments, 200 jobs, LQ 1.17) is the one strong territory
    s01 = frame.xs("S01", level="sector")
    assert list(s01.index[s01.strong]) == ["T07"]
    sectors = rules.sectors_frame().set_index("sector")
    assert sectors.loc["S00", "strong_clusters"] == 2


def test_strong_rule_edges_lq_at_the_cut_and_mass_at_the_cut() -> None:
    est, emp = crafted()
    rules = apply_rules(indicators(make_counts(est, emp)))
    frame = rules.to_frame()
    s00 = frame[frame.sector == "S00"].reset_index(drop=True)
    # an LQ equal to the cut passes ("at or above"); mass equal to the cut fails ("above")
    at_cut = RuleThresholds(strong_lq_percentile=100.0)
    top = apply_rules(rules.indicators, at_cut).to_frame()
    top00 = top[top.sector == "S00"]
    assert top00.strong.sum() == 1
    assert top00.loc[top00.lq.idxmax(), "strong"]
    # mass equal to the 25th percentile is not "above" it: the most specialised territory
    # T00 has 3 establishments, the cut of [3, 3, 3, 4] is 3
    edge = np.array([[3, 1], [4, 5], [3, 9], [3, 13]])
    edge_rules = apply_rules(indicators(make_counts(edge, edge * 10)))
    edge_frame = edge_rules.to_frame()
    edge00 = edge_frame[edge_frame.sector == "S00"].set_index("territory_code")
    assert edge_rules.establishments_cut[0] == 3
    assert edge00.lq.idxmax() == "T00"
    assert edge00.loc["T00", "lq"] >= edge_rules.lq_cut[0]
    assert not edge00.loc["T00", "strong"]
    # one more establishment there (same LQ) makes it strong
    edge[0] = [6, 2]
    bumped = apply_rules(indicators(make_counts(edge, edge * 10))).to_frame()
    assert bumped.set_index(["territory_code", "sector"]).loc[("T00", "S00"), "strong"]
    # LQ >= 1 is required even in the top quartile: raise the floor above every LQ
    floor = RuleThresholds(strong_lq_min=float(s00.lq.max()) + 1e-9)
    assert not apply_rules(rules.indicators, floor).strong.any()


def test_stars_on_a_crafted_sector() -> None:
    est, emp = crafted()
    rules = apply_rules(indicators(make_counts(est, emp)))
    frame = rules.to_frame().set_index(["territory_code", "sector"])
    t00 = frame.loc[("T00", "S00")]
    # 8 present territories: top 10 % means nobody larger (0.8 > 0): only the largest
    assert t00.size_star
    assert t00.focus_star
    assert t00.lq >= 2
    assert t00.specialisation_star
    assert t00.stars == 3
    assert frame.xs("S00", level="sector").size_star.sum() == 1
    # T07: 1 establishment out of 21 in its territory, LQ well below 2: no star
    assert frame.loc[("T07", "S00"), "stars"] == 0


def test_ties_at_the_top_share_the_star_and_lq_two_is_a_star() -> None:
    est = np.array([[5, 5], [5, 5], [1, 9], [1, 9], [1, 9]])
    rules = apply_rules(indicators(make_counts(est, est)))
    frame = rules.to_frame()
    s00 = frame[frame.sector == "S00"]
    assert list(s00.size_star) == [True, True, False, False, False]
    # S00 is 4/20 = 0.2 of the nation and 2/5 = 0.4 of T00: LQ = 2 exactly
    lq_two = np.array([[2, 3], [2, 13]])
    at_two = apply_rules(indicators(make_counts(lq_two, lq_two)))
    assert at_two.indicators.lq.data[0] == 2.0
    assert at_two.specialisation_star[0]
    just_above = RuleThresholds(star_specialisation_lq=2.0 + 1e-9)
    assert not apply_rules(at_two.indicators, just_above).specialisation_star[0]


def test_without_employment_the_employment_condition_is_dropped() -> None:
    est, _ = crafted()
    counts = make_counts(est, np.zeros_like(est), from_establishments=False)
    rules = apply_rules(indicators(counts, measure="establishments"))
    assert np.isnan(rules.employment_cut).all()
    frame = rules.to_frame()
    assert frame[frame.sector == "S00"].strong.any()


def test_undefined_lq_is_never_strong_nor_a_star() -> None:
    est = np.array([[3, 1], [1, 3], [2, 2], [4, 1]])
    emp = np.array([[30, 10], [10, 30], [0, 0], [40, 10]])  # T02: no employment at all
    rules = apply_rules(indicators(make_counts(est, emp)))
    frame = rules.to_frame()
    t02 = frame[frame.territory_code == "T02"]
    assert t02.lq.isna().all()
    assert not t02.strong.any()
    assert not t02.specialisation_star.any()
    assert not t02.focus_star.any()


def test_the_measure_of_the_indicators_drives_the_rules() -> None:
    est, emp = crafted()
    emp[7, 0] = 5000  # T07 employs a lot in S00 with one establishment
    counts = make_counts(est, emp)
    by_employment = (
        apply_rules(indicators(counts)).to_frame().set_index(["territory_code", "sector"])
    )
    by_plants = (
        apply_rules(indicators(counts, measure="establishments"))
        .to_frame()
        .set_index(["territory_code", "sector"])
    )
    assert by_employment.loc[("T07", "S00"), "size_star"]
    assert not by_plants.loc[("T07", "S00"), "size_star"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("strong_lq_percentile", 120.0, r"percentile in \[0, 100\]"),
        ("strong_employment_percentile", -1.0, "percentile"),
        ("star_size_top_share", 0.0, r"share in \(0, 1\]"),
        ("star_focus_top_share", 1.5, "share"),
        ("star_specialisation_lq", -2.0, "negative"),
        ("strong_lq_min", float("nan"), "finite number"),
    ],
)
def test_thresholds_are_validated(field: str, value: float, message: str) -> None:
    with pytest.raises(InputError, match=rf"RuleThresholds\.{field}=.*{message}"):
        RuleThresholds(**{field: value})


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 12).flatmap(lambda n_t: arrays(np.int64, (n_t, 3), elements=st.integers(0, 4))),
    st.integers(1, 4),
    st.sampled_from([0.0, 25.0, 50.0, 75.0, 100.0]),
    st.sampled_from([0.05, 0.1, 0.5, 1.0]),
)
def test_rules_agree_with_the_reference_on_arbitrary_counts(
    est: np.ndarray, per_plant: int, percentile: float, share: float
) -> None:
    est[0, 0] = max(est[0, 0], 1)
    est[1, 1] = max(est[1, 1], 1)
    emp = est * per_plant + (est > 0) * np.arange(est.shape[0])[:, None] % 3
    th = RuleThresholds(
        strong_lq_percentile=percentile,
        strong_employment_percentile=100 - percentile,
        star_size_top_share=share,
        star_focus_top_share=share,
    )
    rules = apply_rules(indicators(make_counts(est, emp)), th)
    frame = rules.to_frame()
    merged = frame.merge(reference_rules(frame, th), on=["territory_code", "sector"])
    assert len(merged) == len(frame)
    np.testing.assert_array_equal(merged.strong, merged.strong_ref)
    np.testing.assert_array_equal(merged.size_star, merged.size_ref & (merged.employment > 0))
    np.testing.assert_array_equal(merged.specialisation_star, merged.spec_ref)
    np.testing.assert_array_equal(merged.focus_star, merged.focus_ref & (merged.focus > 0))
    assert frame.stars.between(0, 3).all()
    assert (frame.lq[frame.strong] >= 1).all()


def test_a_sector_group_is_rated_against_each_territory_whole_economy() -> None:
    """Focus and specialisation of a group use the territory's whole economy, not the
    sum of the groups: a territory whose only group is a small part of a large economy
    does not earn the focus star that the within-groups share would give it."""
    from dataclasses import replace

    from grappe.detection.counts import Totals

    # group g in 10 territories; T00 has nothing else of the groups but 1,000 jobs outside
    est = np.array([[5, 0], *([[5, 5]] * 9)], dtype=float)
    emp = est * 10
    whole_est = np.array([100.0, *([10.0] * 9)])
    whole_emp = whole_est * 10
    counts = replace(
        make_counts(est, emp),
        totals=Totals(whole_est, whole_emp, whole_emp, whole_emp, whole_est),
    )
    rules = apply_rules(indicators(counts))
    frame = rules.to_frame().set_index(["territory_code", "sector"])
    g = frame.xs("S00", level="sector")
    assert g.loc["T00", "focus"] == pytest.approx(0.05)
    assert g.loc["T01", "focus"] == pytest.approx(0.5)
    # LQ(T00) = 0.05 / (50 / 190) < 1; LQ(T01) = 0.5 / (50 / 190) ~ 1.9
    assert g.loc["T00", "lq"] == pytest.approx(0.05 / (500 / 1900))
    assert not g.loc["T00", "focus_star"]
    assert not g.loc["T00", "strong"]
    # without the totals the group would be all of T00's activity: the top focus
    plain = apply_rules(indicators(make_counts(est, emp))).to_frame().set_index(["territory_code", "sector"])
    assert plain.loc[("T00", "S00"), "focus"] == 1.0
    assert plain.loc[("T00", "S00"), "focus_star"]


def test_frame_with_chosen_columns_is_the_full_frame_cut() -> None:
    est, emp = crafted()
    rules = apply_rules(indicators(make_counts(est, emp)))
    full = rules.to_frame()
    chosen = ["stars", "sector", "lq", "strong", "territory_code", "creation_rate"]
    pd.testing.assert_frame_equal(rules.to_frame(chosen), full[chosen])
    pd.testing.assert_frame_equal(
        rules.indicators.to_frame(["lq", "territory_code"]), full[["lq", "territory_code"]]
    )
    with pytest.raises(InputError, match="unknown columns"):
        rules.to_frame(["lq", "nope"])
