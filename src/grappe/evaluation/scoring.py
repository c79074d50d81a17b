"""Readings of indicator values: red/amber/green, peers, percentile ranks, results-based funding.

Pure functions on values (no SQL): the service hands them what :mod:`.compute` found.

Defaults, documented here and read by the documentation (never typed twice):

* **Thresholds**: each indicator's ``green`` and ``amber`` in
  :data:`grappe.evaluation.indicators.CATALOGUE`; a caller may override any of them
  (:class:`Threshold`). A mark's colour is the mean of its indicators' points (green 2,
  amber 1, red 0): green from :data:`MARK_GREEN`, amber from :data:`MARK_AMBER`; indicators
  without a value do not count, a mark without any is "n/d".
* **Peers**: clusters sharing the label held at the year's end (pôle, grappe, regional, none),
  the NAF section of their first sector, and the size band of their members
  (:data:`SIZE_BANDS`); each criterion may be dropped.
* **Percentile rank**: the share of peers with a worse value, plus half of those with an equal
  one (the mid-rank definition), in the indicator's direction, 0 to 100.
* **Results-based funding** (:func:`results_based_funding`): the yearly amount is the
  contract's amount spread evenly over its years; the share at stake (default
  :data:`DEFAULT_SHARE_AT_STAKE`) is paid in proportion to the weighted achievement of the
  year's targets; an indicator's achievement is ``(actual - baseline) / (target - baseline)``
  (``actual / target`` without a baseline; the inverse ratio when lower is better), capped to
  0..100 %; a missing actual value achieves 0.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Final

from grappe.errors import InputError
from grappe.evaluation.indicators import BY_CODE, Indicator

DEFAULT_SHARE_AT_STAKE: Final = Decimal("0.20")
"""Share of a contract's funding paid on results unless the contract says otherwise."""
MARK_GREEN: Final = 1.5
MARK_AMBER: Final = 0.75
SIZE_BANDS: Final[tuple[tuple[int, str], ...]] = (
    (0, "moins de 20 adhérents"),
    (20, "20 à 49 adhérents"),
    (50, "50 à 99 adhérents"),
    (100, "100 adhérents et plus"),
)
"""Size bands of clusters by members at the year's end: (lower bound, French name)."""
CENT: Final = Decimal("0.01")


class Colour(StrEnum):
    """A reading against thresholds."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NONE = "none"  # no value


COLOUR_NAMES: Final = {Colour.GREEN: "vert", Colour.AMBER: "orange", Colour.RED: "rouge", Colour.NONE: "n/d"}
POINTS: Final = {Colour.GREEN: 2, Colour.AMBER: 1, Colour.RED: 0}


@dataclass(frozen=True)
class Threshold:
    """Green at or beyond ``green``, amber at or beyond ``amber``, in the indicator's direction."""

    green: float
    amber: float
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        if self.higher_is_better and self.green < self.amber:
            raise InputError(
                f"seuils : le seuil vert ({self.green}) doit être ≥ au seuil orange ({self.amber})"
            )
        if not self.higher_is_better and self.green > self.amber:
            raise InputError(
                f"seuils : pour un indicateur où moins est mieux, le seuil vert ({self.green}) "
                f"doit être ≤ au seuil orange ({self.amber})"
            )

    def colour(self, value: float | None) -> Colour:
        if value is None:
            return Colour.NONE
        sign = 1 if self.higher_is_better else -1
        if sign * value >= sign * self.green:
            return Colour.GREEN
        if sign * value >= sign * self.amber:
            return Colour.AMBER
        return Colour.RED


def default_threshold(indicator: Indicator) -> Threshold:
    return Threshold(indicator.green, indicator.amber, indicator.higher_is_better)


def thresholds(overrides: Mapping[str, tuple[float, float]] | None = None) -> dict[str, Threshold]:
    """Every indicator's threshold: the catalogue's defaults, with ``overrides`` (code -> green, amber)."""
    out = {code: default_threshold(ind) for code, ind in BY_CODE.items()}
    for code, (green, amber) in (overrides or {}).items():
        if code not in BY_CODE:
            raise InputError(f"seuils : indicateur « {code} » inconnu (attendu l'un de {', '.join(BY_CODE)})")
        try:
            out[code] = Threshold(green, amber, BY_CODE[code].higher_is_better)
        except InputError as exc:
            raise InputError(f"{exc} (indicateur « {code} »)") from None
    return out


def mark_colour(colours: Sequence[Colour]) -> Colour:
    """A mark's colour from its indicators' (see the module notes)."""
    points = [POINTS[c] for c in colours if c is not Colour.NONE]
    if not points:
        return Colour.NONE
    mean = sum(points) / len(points)
    if mean >= MARK_GREEN:
        return Colour.GREEN
    if mean >= MARK_AMBER:
        return Colour.AMBER
    return Colour.RED


def size_band(members: float | None) -> str:
    """The French name of the size band of a number of members."""
    count = members or 0
    bounds = [low for low, _ in SIZE_BANDS]
    return SIZE_BANDS[bisect.bisect_right(bounds, count) - 1][1]


def percentile_rank(
    value: float | None, peers: Sequence[float], higher_is_better: bool = True
) -> float | None:
    """Mid-rank percentile of ``value`` among ``peers`` (0..100, higher is better); None without data."""
    if value is None or not peers:
        return None
    sign = 1 if higher_is_better else -1
    worse = sum(1 for p in peers if sign * p < sign * value)
    equal = sum(1 for p in peers if p == value)
    return 100.0 * (worse + 0.5 * equal) / len(peers)


class Ranker:
    """Percentile ranks and the distribution of one set of peer values, sorted once.

    :func:`percentile_rank` for many values against the same peers, in O(log n) each.
    """

    def __init__(self, peers: Sequence[float], higher_is_better: bool = True) -> None:
        self._sign = 1 if higher_is_better else -1
        self._signed = sorted(self._sign * p for p in peers)
        self.distribution = distribution(peers)

    def rank(self, value: float | None) -> float | None:
        if value is None or not self._signed:
            return None
        signed = self._sign * value
        worse = bisect.bisect_left(self._signed, signed)
        equal = bisect.bisect_right(self._signed, signed) - worse
        return 100.0 * (worse + 0.5 * equal) / len(self._signed)


@dataclass(frozen=True)
class Distribution:
    """How values spread: count, minimum, quartiles, maximum, mean."""

    count: int
    minimum: float | None
    q1: float | None
    median: float | None
    q3: float | None
    maximum: float | None
    mean: float | None


def _quantile(ordered: Sequence[float], q: float) -> float:
    # Linear interpolation between closest ranks (NumPy's default, "linear").
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def distribution(values: Sequence[float]) -> Distribution:
    if not values:
        return Distribution(0, None, None, None, None, None, None)
    ordered = sorted(values)
    return Distribution(
        len(ordered),
        ordered[0],
        _quantile(ordered, 0.25),
        _quantile(ordered, 0.5),
        _quantile(ordered, 0.75),
        ordered[-1],
        sum(ordered) / len(ordered),
    )


def achievement(
    actual: float | None, target: float, baseline: float | None, higher_is_better: bool = True
) -> float:
    """How much of a target is reached, 0..1 (see the module notes)."""
    if actual is None:
        return 0.0
    if baseline is not None and target != baseline:
        ratio = (actual - baseline) / (target - baseline)
    elif baseline is not None or target == 0:
        # A target equal to the baseline (or zero without one) is met or missed, nothing between.
        reached = actual >= target if higher_is_better else actual <= target
        ratio = 1.0 if reached else 0.0
    elif higher_is_better:
        ratio = actual / target
    else:
        ratio = target / actual if actual else 1.0
    return max(0.0, min(1.0, ratio))


@dataclass(frozen=True)
class Funding:
    """The results-based funding of one contract year."""

    yearly_amount: Decimal
    at_stake: Decimal
    achievement: float  # weighted, 0..1
    paid: Decimal


def results_based_funding(
    amount: Decimal, years: int, share_at_stake: Decimal, weighted: Sequence[tuple[float, float]]
) -> Funding:
    """The year's payment: the fixed part, plus the share at stake times the weighted achievement.

    ``weighted``: (weight, achievement) of each indicator with a target that year.
    """
    yearly = (amount / years).quantize(CENT, ROUND_HALF_UP)
    at_stake = (yearly * share_at_stake).quantize(CENT, ROUND_HALF_UP)
    total_weight = sum(w for w, _ in weighted)
    reached = sum(w * a for w, a in weighted) / total_weight if total_weight else 0.0
    earned = (at_stake * Decimal(str(round(reached, 6)))).quantize(CENT, ROUND_HALF_UP)
    return Funding(yearly, at_stake, reached, yearly - at_stake + earned)
