"""Readings of values: thresholds, marks, percentile ranks, distributions, results-based funding."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grappe.errors import InputError
from grappe.evaluation import scoring
from grappe.evaluation.scoring import Colour, Threshold

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


def test_thresholds_read_both_directions() -> None:
    higher = Threshold(0.7, 0.5)
    assert [higher.colour(v) for v in (0.8, 0.7, 0.6, 0.4, None)] == [
        Colour.GREEN,
        Colour.GREEN,
        Colour.AMBER,
        Colour.RED,
        Colour.NONE,
    ]
    lower = Threshold(30, 80, higher_is_better=False)
    assert [lower.colour(v) for v in (10, 30, 50, 90)] == [
        Colour.GREEN,
        Colour.GREEN,
        Colour.AMBER,
        Colour.RED,
    ]


def test_overrides_are_checked() -> None:
    assert scoring.thresholds({"members": (10, 5)})["members"] == Threshold(10, 5)
    with pytest.raises(InputError, match="seuil vert"):
        scoring.thresholds({"members": (5, 10)})
    with pytest.raises(InputError, match="inconnu"):
        scoring.thresholds({"nope": (1, 0)})


def test_a_mark_is_the_mean_of_its_indicators() -> None:
    assert scoring.mark_colour([Colour.GREEN, Colour.AMBER]) is Colour.GREEN  # 1.5
    assert scoring.mark_colour([Colour.GREEN, Colour.RED]) is Colour.AMBER  # 1
    assert scoring.mark_colour([Colour.AMBER, Colour.RED, Colour.RED]) is Colour.RED  # 0.33
    assert scoring.mark_colour([Colour.NONE, Colour.GREEN]) is Colour.GREEN
    assert scoring.mark_colour([Colour.NONE]) is Colour.NONE


def test_percentile_rank_is_the_mid_rank() -> None:
    assert scoring.percentile_rank(3, [1, 2, 3, 4]) == pytest.approx(62.5)
    assert scoring.percentile_rank(3, [1, 2, 3, 4], higher_is_better=False) == pytest.approx(37.5)
    assert scoring.percentile_rank(None, [1]) is None
    assert scoring.percentile_rank(1, []) is None


@given(st.lists(finite, min_size=1, max_size=40), finite)
def test_percentile_rank_is_bounded_and_monotone(peers: list[float], value: float) -> None:
    rank = scoring.percentile_rank(value, peers)
    assert rank is not None
    assert 0 <= rank <= 100
    better = scoring.percentile_rank(value + 1, peers)
    assert better is not None
    assert better >= rank


@given(st.lists(finite, min_size=1, max_size=60))
def test_the_distribution_is_numpys(values: list[float]) -> None:
    out = scoring.distribution(values)
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    assert out.count == len(values)
    assert out.q1 == pytest.approx(q1, abs=1e-6)
    assert out.median == pytest.approx(median, abs=1e-6)
    assert out.q3 == pytest.approx(q3, abs=1e-6)
    assert out.minimum == min(values)
    assert out.maximum == max(values)


@given(finite, finite, st.one_of(st.none(), finite), st.booleans())
def test_achievement_is_capped(actual: float, target: float, baseline: float | None, higher: bool) -> None:
    assert 0 <= scoring.achievement(actual, target, baseline, higher) <= 1


def test_achievement_from_the_baseline() -> None:
    assert scoring.achievement(15, 20, 10) == 0.5
    assert scoring.achievement(25, 20, 10) == 1.0  # capped at 100 %
    assert scoring.achievement(5, 20, 10) == 0.0
    assert scoring.achievement(40, 30, 60, higher_is_better=False) == pytest.approx(20 / 30)
    assert scoring.achievement(None, 20, 10) == 0.0
    assert scoring.achievement(12, 12, 12) == 1.0
    assert scoring.achievement(8, 10, None) == 0.8


def test_results_based_funding() -> None:
    funding = scoring.results_based_funding(Decimal(300_000), 3, Decimal("0.2"), [(2, 1.0), (1, 0.25)])
    assert funding.yearly_amount == Decimal("100000.00")
    assert funding.at_stake == Decimal("20000.00")
    assert funding.achievement == pytest.approx(0.75)
    assert funding.paid == Decimal("95000.00")  # 80 000 fixed + 75 % of 20 000
    nothing = scoring.results_based_funding(Decimal(100), 1, scoring.DEFAULT_SHARE_AT_STAKE, [])
    assert nothing.paid == Decimal("80.00")


def test_size_bands() -> None:
    assert scoring.size_band(0) == "moins de 20 adhérents"
    assert scoring.size_band(20) == "20 à 49 adhérents"
    assert scoring.size_band(120) == "100 adhérents et plus"


@given(st.lists(finite, max_size=40), st.one_of(st.none(), finite), st.booleans())
def test_the_ranker_is_the_percentile_rank(peers: list[float], value: float | None, higher: bool) -> None:
    assert scoring.Ranker(peers, higher).rank(value) == scoring.percentile_rank(value, peers, higher)
