"""Published cluster rules on indicators: U.S. Cluster Mapping strong clusters, ECO stars.

Both rules compare, sector by sector, the territories of one level that have at least one
establishment in the sector (the "present" territories): a territory without activity in
a sector is never a cluster of it, and counting it would lower every percentile.

LQ and focus are read from the indicators, which measure every sector (or sector group)
against the territory's whole economy (``Counts.totals``): a sector group is rated as one
more sector of the full nomenclature would be, whatever the other groups of its file.

Sources
-------
* Strong clusters: Delgado, Porter & Stern (2014), "Clusters, convergence, and economic
  performance", *Research Policy* 43(10); Delgado, Porter & Stern (2016), "Defining
  clusters of related industries", *Journal of Economic Geography* 16(1); U.S. Cluster
  Mapping Project methodology (clustermapping.us, "Cluster Mapping Methodology"). A
  regional cluster is strong when its specialisation (LQ) is in the top quartile of the
  regions and at least 1, and it has a minimal mass (employment and establishments).
* Stars: European Cluster Observatory, star rating of regional clusters (Center for
  Strategy and Competitiveness, Stockholm School of Economics); Ketels & Protsiv (2014),
  *Methodology and Findings Report for a Cluster Mapping of Related Sectors*, European
  Cluster Observatory. One star each for size (employment in the top 10 % of regions in
  the same category), specialisation (LQ >= 2) and focus (share of the region's employment
  in the top 10 %): 0 to 3 stars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import scipy.sparse as sp

from grappe.detection.indicators import Indicators
from grappe.detection.segments import order_within
from grappe.errors import InputError


@dataclass(frozen=True)
class RuleThresholds:
    """Thresholds of the strong-cluster rule and of the stars (defaults: the published ones).

    Attributes
    ----------
    strong_lq_percentile : float
        Percentile (0-100) of LQ among present territories that a strong cluster reaches
        (75: the top quartile).
    strong_lq_min : float
        LQ a strong cluster reaches in any case (1: more specialised than the nation).
    strong_employment_percentile : float
        Percentile of employment among present territories that a strong cluster exceeds
        (25). Dropped when the input has no employment (aggregated table without
        headcounts): the establishments condition still applies.
    strong_establishments_percentile : float
        Percentile of establishments among present territories that a strong cluster
        exceeds (25).
    star_size_top_share : float
        A size star goes to the territories in this top share (0.10: top 10 %) of the
        present territories by the measure (employment by default).
    star_specialisation_lq : float
        A specialisation star goes to LQ at or above this value (2).
    star_focus_top_share : float
        A focus star goes to the territories in this top share of the present territories
        by focus (the sector's share of the territory).

    Notes
    -----
    Percentiles interpolate linearly between order statistics (``numpy.percentile``'s
    default). "In the top share ``q``" means: fewer than ``q * n`` of the ``n`` present
    territories have a strictly larger value, so ties at the cut share the star and the
    largest territory always gets it.
    """

    strong_lq_percentile: float = 75.0
    strong_lq_min: float = 1.0
    strong_employment_percentile: float = 25.0
    strong_establishments_percentile: float = 25.0
    star_size_top_share: float = 0.10
    star_specialisation_lq: float = 2.0
    star_focus_top_share: float = 0.10

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int | float) or not np.isfinite(value):
                raise InputError(f"RuleThresholds.{item.name}={value!r} is not a finite number")
        for name in (
            "strong_lq_percentile",
            "strong_employment_percentile",
            "strong_establishments_percentile",
        ):
            if not 0 <= getattr(self, name) <= 100:
                raise InputError(
                    f"RuleThresholds.{name}={getattr(self, name)!r} is not a percentile in [0, 100]"
                )
        for name in ("star_size_top_share", "star_focus_top_share"):
            if not 0 < getattr(self, name) <= 1:
                raise InputError(
                    f"RuleThresholds.{name}={getattr(self, name)!r} is not a share in (0, 1]"
                )
        for name in ("strong_lq_min", "star_specialisation_lq"):
            if getattr(self, name) < 0:
                raise InputError(f"RuleThresholds.{name}={getattr(self, name)!r} is negative")


@dataclass(frozen=True)
class ClusterRules:
    """Strong clusters and stars of every present cell, computed once by :func:`apply_rules`.

    Cell attributes are 1-D arrays aligned with the rows of ``indicators.to_frame()``
    (the cells of :attr:`Indicators.cells`); cells without establishments are ``False``
    and get 0 stars. Sector attributes are arrays over ``indicators.counts.sectors``.

    Attributes
    ----------
    indicators : Indicators
        The input.
    thresholds : RuleThresholds
        The thresholds used.
    strong : ndarray of bool
        U.S. Cluster Mapping strong cluster.
    size_star, specialisation_star, focus_star : ndarray of bool
        The three European Cluster Observatory stars.
    stars : ndarray of int8
        Number of stars, 0 to 3.
    lq_cut, employment_cut, establishments_cut : ndarray of float, shape (sectors,)
        The sector's percentiles used by the strong rule (``NaN`` without present
        territories; ``employment_cut`` is ``NaN`` when the employment condition is
        dropped).
    """

    indicators: Indicators
    thresholds: RuleThresholds
    strong: np.ndarray
    size_star: np.ndarray
    specialisation_star: np.ndarray
    focus_star: np.ndarray
    stars: np.ndarray
    lq_cut: np.ndarray
    employment_cut: np.ndarray
    establishments_cut: np.ndarray

    def to_frame(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """``indicators.to_frame()`` with the columns ``strong, size_star,
        specialisation_star, focus_star, stars``; ``columns`` keeps only these, in order."""
        if columns is None:
            frame = self.indicators.to_frame()
            for name in _RULE_COLUMNS:
                frame[name] = getattr(self, name)
            return frame
        names = list(columns)
        frame = self.indicators.to_frame([name for name in names if name not in _RULE_COLUMNS])
        for name in names:
            if name in _RULE_COLUMNS:
                frame[name] = getattr(self, name)
        return frame[names]

    def sectors_frame(self) -> pd.DataFrame:
        """One row per sector: the cuts of the strong rule and the number of strong cells."""
        ind = self.indicators
        _, cols = ind.cell_coordinates()
        n_s = len(ind.counts.sectors)
        return pd.DataFrame(
            {
                "sector_level": ind.counts.sector_level,
                "sector": ind.counts.sectors,
                "lq_cut": self.lq_cut,
                "employment_cut": self.employment_cut,
                "establishments_cut": self.establishments_cut,
                "strong_clusters": np.bincount(cols, weights=self.strong, minlength=n_s).astype(
                    np.int64
                ),
                "three_star_clusters": np.bincount(
                    cols, weights=self.stars == 3, minlength=n_s
                ).astype(np.int64),
            }
        )


_RULE_COLUMNS = ("strong", "size_star", "specialisation_star", "focus_star", "stars")


def apply_rules(indicators: Indicators, thresholds: RuleThresholds | None = None) -> ClusterRules:
    """Apply the strong-cluster rule and the star rating to every cell.

    Strong (U.S. Cluster Mapping), per sector across present territories::

        LQ >= percentile(LQ, 75) and LQ >= 1
        and employment > percentile(employment, 25)
        and establishments > percentile(establishments, 25)

    Stars (European Cluster Observatory), per sector across present territories: size
    (top 10 % by the measure), specialisation (LQ >= 2), focus (top 10 % by focus).

    LQ, size and focus are those of ``indicators.measure`` (employment by default, as in
    both sources). Undefined LQ (``NaN``) meets no LQ condition.

    Parameters
    ----------
    indicators : Indicators
        Indicators of one territory level x one sector level.
    thresholds : RuleThresholds, optional
        Thresholds; the published defaults when omitted.

    Returns
    -------
    ClusterRules
        The flags and the per-sector cuts.
    """
    return _apply(indicators, thresholds if thresholds is not None else RuleThresholds())


# --------------------------------------------------------------------------------------------
# implementation


def _apply(ind: Indicators, th: RuleThresholds) -> ClusterRules:
    if not isinstance(th, RuleThresholds):
        raise InputError(f"thresholds must be a RuleThresholds, not {type(th).__name__}")
    rows, cols = ind.cell_coordinates()
    n_s = len(ind.counts.sectors)
    counts = ind.counts
    establishments = _on_cells(counts.establishments, rows, cols)
    employment = _on_cells(counts.employment, rows, cols)
    present = establishments > 0
    selected = ind.selected
    lq = selected.lq.data
    measure = employment if ind.measure == "employment" else establishments

    lq_cut = _segment_percentile(lq, cols, present, n_s, th.strong_lq_percentile)
    establishments_cut = _segment_percentile(
        establishments, cols, present, n_s, th.strong_establishments_percentile
    )
    has_employment = bool(employment.any())
    if has_employment:
        employment_cut = _segment_percentile(
            employment, cols, present, n_s, th.strong_employment_percentile
        )
    else:
        employment_cut = np.full(n_s, np.nan)
    with np.errstate(invalid="ignore"):
        strong = (
            present
            & (lq >= lq_cut[cols])
            & (lq >= th.strong_lq_min)
            & (establishments > establishments_cut[cols])
        )
        if has_employment:
            strong &= employment > employment_cut[cols]
        # a zero measure (establishments without employees) never earns a size or focus
        # star, even when every present territory ties at zero
        size_star = (
            present & (measure > 0) & _in_top(measure, cols, present, n_s, th.star_size_top_share)
        )
        specialisation_star = present & (lq >= th.star_specialisation_lq)
        focus_star = (
            present
            & (selected.focus.data > 0)
            & _in_top(selected.focus.data, cols, present, n_s, th.star_focus_top_share)
        )
    stars = (
        size_star.astype(np.int8) + specialisation_star.astype(np.int8) + focus_star.astype(np.int8)
    )
    return ClusterRules(
        indicators=ind,
        thresholds=th,
        strong=strong,
        size_star=size_star,
        specialisation_star=specialisation_star,
        focus_star=focus_star,
        stars=stars,
        lq_cut=lq_cut,
        employment_cut=employment_cut,
        establishments_cut=establishments_cut,
    )


def _on_cells(matrix: sp.sparray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    if len(rows) == 0:
        return np.zeros(0)
    return np.asarray(sp.csr_array(matrix, dtype=np.float64)[rows, cols], dtype=np.float64).ravel()


def _sorted_segments(
    values: np.ndarray, groups: np.ndarray, keep: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Kept, defined values sorted by (group, value) with each group's start and size."""
    index = np.flatnonzero(keep & ~np.isnan(values))
    order = index[order_within(groups[index], values[index])]
    sorted_groups = groups[order]
    starts = np.searchsorted(sorted_groups, np.arange(n_groups), side="left")
    sizes = np.bincount(sorted_groups, minlength=n_groups)
    return order, values[order], starts, sizes


def _segment_percentile(
    values: np.ndarray, groups: np.ndarray, keep: np.ndarray, n_groups: int, q: float
) -> np.ndarray:
    """Per-group percentile ``q`` (linear interpolation, as ``numpy.percentile``)."""
    _, sorted_values, starts, sizes = _sorted_segments(values, groups, keep, n_groups)
    result = np.full(n_groups, np.nan)
    has = sizes > 0
    position = q / 100.0 * (sizes[has] - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, sizes[has] - 1)
    low = sorted_values[starts[has] + below]
    high = sorted_values[starts[has] + above]
    result[has] = low + (position - below) * (high - low)
    return result


def _in_top(
    values: np.ndarray, groups: np.ndarray, keep: np.ndarray, n_groups: int, share: float
) -> np.ndarray:
    """True where fewer than ``share * n`` kept values of the group are strictly larger."""
    order, sorted_values, starts, sizes = _sorted_segments(values, groups, keep, n_groups)
    result = np.zeros(len(values), dtype=bool)
    if len(order) == 0:
        return result
    sorted_groups = groups[order]
    position = np.arange(len(order))
    # last index of each run of equal (group, value): the number of values <= v is then
    # that index + 1 - start of the group
    run_end = np.ones(len(order), dtype=bool)
    run_end[:-1] = (sorted_groups[1:] != sorted_groups[:-1]) | (
        sorted_values[1:] != sorted_values[:-1]
    )
    last = np.where(run_end, position, len(order))
    last = np.minimum.accumulate(last[::-1])[::-1]
    group_end = starts[sorted_groups] + sizes[sorted_groups]
    greater = group_end - (last + 1)
    result[order] = greater < share * sizes[sorted_groups]
    return result
