"""Indicators of one measure: location quotients, specialisation, concentration and their ranges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from grappe.detection.cells import FloatArray, _bincount, _Cells, _divide
from grappe.detection.segments import order_within

Measure = Literal["employment", "establishments"]
MEASURES: tuple[Measure, ...] = ("employment", "establishments")


@dataclass(frozen=True)
class MeasureIndicators:
    """The indicators of one measure (establishments or employment), computed once.

    Cell attributes are ``scipy.sparse.csr_array`` of shape (territories, sectors) that
    share one sparsity pattern, :attr:`Indicators.cells`: every cell with establishments
    or employment. Values outside the pattern are not stored (the measure is zero there, so
    LQ, focus and size are 0). Explicit zeros inside the pattern are kept. ``NaN`` marks a
    figure that is undefined (a territory or a sector whose total is zero).

    Ranges. For employment the true cell values are unknown within the box
    ``employment_low <= x <= employment_high`` (cell by cell: each cell is a sum of
    establishments whose size bands are independent). ``*_low`` / ``*_high`` are:

    * cells (``lq``, ``focus``, ``size``): the exact range of the figure over the box
      (the infimum and supremum; attained whenever the totals involved are positive).
      ``focus = a / (a + r)`` rises with the cell ``a`` and falls with the rest of its row
      ``r``, so its bounds are reached at opposite corners; ``size`` likewise with the rest
      of the column. ``LQ = a (a + r + c + o) / ((a + r)(a + c))`` (``c`` the rest of the
      column, ``o`` every other cell) falls with ``r`` and ``c`` and rises with ``o``; in
      ``a`` it rises then falls (``dLQ/da`` has the sign of ``-o a^2 + 2 r c a + r c (o + r +
      c)``), so its minimum is at an end of ``[a_low, a_high]`` and its maximum at the
      positive root of that parabola clipped to ``[a_low, a_high]``. Here ``r = x_t. - a``
      is the rest of the territory's whole economy and ``o = x_.. - x_t. - c``: ``a``,
      ``r``, ``c`` and ``o`` sum disjoint sets of establishments (the cell's own, the
      territory's others whatever their activity, the sector's elsewhere, the rest), so
      they move independently within their bands and the territory total moves with the
      cell. Their bands come from ``Counts.totals`` (``employment_low`` / ``_high``).
    * territory and sector indices (``krugman``, ``hachman``, ``herfindahl``, ``gini``,
      ``hoover``, ``eg_gamma``): a sensitivity range, the minimum and maximum of the index
      evaluated on the ``employment_low``, ``employment`` and ``employment_high``
      matrices, i.e. "every establishment at the bottom (or the top) of its band". It is
      not a guaranteed bound: these indices are not monotone in the cells, and a sound
      enclosure by interval arithmetic on the shares is too wide to inform (typically
      most of the index's domain with SIRENE bands). ``eg_gamma`` keeps the central plant
      Herfindahl in the three evaluations.

    For establishments the counts are exact and ``*_low == *_high ==`` the value.

    Attributes
    ----------
    measure : {"employment", "establishments"}
        The measure these indicators are computed on.
    lq, lq_low, lq_high : csr_array
        Location quotient ``LQ_ts = (x_ts / x_t.) / (x_.s / x_..)`` (Florence 1939; Isard
        1960, *Methods of Regional Analysis*) and its range. It equals Balassa's (1965)
        revealed comparative advantage, see :attr:`rca`.
    mcp : csr_array
        Binary specialisation ``M_ts = 1 if RCA_ts >= 1 else 0`` (Hidalgo & Hausmann 2009;
        ``mcp`` in py-ecomplexity), as float64 (``NaN`` where RCA is undefined).
    focus, focus_low, focus_high : csr_array
        Focus, the sector's share of the territory: ``x_ts / x_t.`` (European Cluster
        Observatory, Ketels & Protsiv 2014).
    size, size_low, size_high : csr_array
        Size, the territory's share of the sector nationally: ``x_ts / x_.s``.
    krugman, krugman_low, krugman_high : ndarray, shape (territories,)
        Krugman (1991, *Geography and Trade*) dissimilarity index of each territory's sector
        mix from the national mix: ``K_t = sum_s |x_ts / x_t. - x_.s / x_..|``, in [0, 2).
        The sum runs over the columns: for sector groups it is the part of the index due to
        the groups (the rest of the economy is not split into sectors).
    hachman, hachman_low, hachman_high : ndarray, shape (territories,)
        Hachman index ``HI_t = 1 / sum_s LQ_ts (x_ts / x_t.)`` (Hachman 1995; Mack, Grubesic
        & Kessler 2007), in (0, 1] over a full NAF level: 1 when the territory mirrors the
        nation. Summed over the columns only, as Krugman: for groups covering part of the
        economy it may exceed 1, and it is undefined (``NaN``) in a territory with none of
        their activity.
    herfindahl, herfindahl_low, herfindahl_high : ndarray, shape (sectors,)
        Herfindahl index of the sector across territories: ``sum_t (x_ts / x_.s)^2``, in
        [1 / T, 1] with ``T`` the number of territories.
    gini, gini_low, gini_high : ndarray, shape (sectors,)
        Locational Gini (Krugman 1991; Audretsch & Feldman 1996): territories are sorted by
        ``LQ_ts`` ascending, the Lorenz curve joins the cumulative shares of total activity
        ``x_t. / x_..`` (abscissa) and of the sector ``x_ts / x_.s`` (ordinate), and the
        Gini is twice the area between the diagonal and that curve, in [0, 1).
    hoover, hoover_low, hoover_high : ndarray, shape (sectors,)
        Hoover (1936) coefficient of localisation
        ``0.5 * sum_t |x_ts / x_.s - x_t. / x_..|``, in [0, 1).
    eg_gamma, eg_gamma_low, eg_gamma_high : ndarray, shape (sectors,)
        Ellison & Glaeser (1997, *JPE* 105(5)) agglomeration index
        ``gamma = (G - (1 - sum_t w_t^2) H) / ((1 - sum_t w_t^2)(1 - H))`` with
        ``G = sum_t (x_ts / x_.s - w_t)^2``, ``w_t = x_t. / x_..`` and the plant Herfindahl
        ``H`` below. ``NaN`` where ``H`` is unknown or equals 1 (a single plant). The
        weights ``w_t`` of the Lorenz curve (Gini), of Hoover and of EG are the whole
        economy's shares.
    plant_herfindahl : ndarray, shape (sectors,)
        The plant Herfindahl ``H = sum_plants (e_j / x_.s)^2``. For employment it is read from
        ``Counts.employment_sq`` (central band values); it is unknown (``NaN``) for
        aggregated inputs (``Counts.from_establishments`` false), which makes ``eg_gamma``
        ``NaN`` there. For establishments every plant weighs 1, so ``H = 1 / x_.s``: the
        index then measures the clustering of plant locations and is defined for aggregated
        inputs too.
    """

    measure: Measure
    lq: sp.csr_array
    lq_low: sp.csr_array
    lq_high: sp.csr_array
    mcp: sp.csr_array
    focus: sp.csr_array
    focus_low: sp.csr_array
    focus_high: sp.csr_array
    size: sp.csr_array
    size_low: sp.csr_array
    size_high: sp.csr_array
    krugman: FloatArray
    krugman_low: FloatArray
    krugman_high: FloatArray
    hachman: FloatArray
    hachman_low: FloatArray
    hachman_high: FloatArray
    herfindahl: FloatArray
    herfindahl_low: FloatArray
    herfindahl_high: FloatArray
    gini: FloatArray
    gini_low: FloatArray
    gini_high: FloatArray
    hoover: FloatArray
    hoover_low: FloatArray
    hoover_high: FloatArray
    eg_gamma: FloatArray
    eg_gamma_low: FloatArray
    eg_gamma_high: FloatArray
    plant_herfindahl: FloatArray

    @property
    def rca(self) -> sp.csr_array:
        """Balassa's (1965) revealed comparative advantage, py-ecomplexity's ``rca``.

        ``RCA_ts = (x_ts / x_t.) / (x_.s / x_..)``: the same formula as :attr:`lq`, kept as a
        named output for users of the economic-complexity literature.
        """
        return self.lq


def _measure_indicators(
    measure: Measure,
    cells: _Cells,
    *,
    a: FloatArray,
    a_low: FloatArray,
    a_high: FloatArray,
    row: FloatArray,
    row_low: FloatArray,
    row_high: FloatArray,
    plant_herfindahl: FloatArray,
    reference: tuple[FloatArray, float] | None = None,
) -> MeasureIndicators:
    """The indicators of one measure: cell values ``a`` (and their band), territory totals
    ``row`` over the whole economy (and their band); LQ and size against the sector totals
    and whole total of ``reference`` when given."""
    rows, cols = cells.rows, cells.cols
    col, total = reference if reference is not None else (cells.col_sum(a), row.sum())
    lq = _divide(a * total, row[rows] * col[cols])
    focus = _divide(a, row[rows])
    size = _divide(a, col[cols])
    central = _aggregates(cells, a, row, plant_herfindahl)

    if measure == "establishments":
        lq_range, focus_range, size_range = (lq, lq), (focus, focus), (size, size)
        ranges = {name: (value, value) for name, value in central.items()}
    else:
        cell_ranges = _cell_ranges(cells, a_low, a_high, row_low, row_high)
        if reference is not None:
            # The reference's totals are fixed: LQ is the focus over the reference's share.
            (f_low, f_high), share = cell_ranges[1], _divide(col[cols], np.full(len(cols), total))
            cell_ranges = ((_divide(f_low, share), _divide(f_high, share)), cell_ranges[1],
                           (_divide(a_low, col[cols]), _divide(a_high, col[cols])))
        # The exact ranges contain the central value in exact arithmetic; the guard only
        # absorbs rounding differences between the two formulas.
        lq_range = _around(lq, *cell_ranges[0])
        focus_range = _around(focus, *cell_ranges[1])
        size_range = _around(size, *cell_ranges[2])
        at_low = _aggregates(cells, a_low, row_low, plant_herfindahl)
        at_high = _aggregates(cells, a_high, row_high, plant_herfindahl)
        ranges = {
            name: _scenario(value, at_low[name], at_high[name]) for name, value in central.items()
        }

    with np.errstate(invalid="ignore"):
        mcp = np.where(np.isnan(lq), np.nan, (lq >= 1.0).astype(np.float64))
    fields: dict[str, object] = {"measure": measure, "mcp": cells.matrix(mcp)}
    for name, value, (low, high) in (
        ("lq", lq, lq_range),
        ("focus", focus, focus_range),
        ("size", size, size_range),
    ):
        fields[name] = cells.matrix(value)
        fields[f"{name}_low"] = cells.matrix(low)
        fields[f"{name}_high"] = cells.matrix(high)
    for name, value in central.items():
        fields[name] = value
        fields[f"{name}_low"], fields[f"{name}_high"] = ranges[name]
    fields["plant_herfindahl"] = plant_herfindahl
    return MeasureIndicators(**fields)  # type: ignore[arg-type]


def _aggregates(
    cells: _Cells, a: FloatArray, row: FloatArray, plant_herfindahl: FloatArray
) -> dict[str, FloatArray]:
    """Territory and sector indices from the cell values ``a`` and territory totals ``row``."""
    rows, cols = cells.rows, cells.cols
    col = cells.col_sum(a)
    total = row.sum()
    lq = _divide(a * total, row[rows] * col[cols])
    focus = _divide(a, row[rows])
    size = _divide(a, col[cols])
    weight = _divide(row, np.full(cells.n_t, total))
    share = _divide(col, np.full(cells.n_s, total))
    krugman, hachman = _specialisation(cells, focus, share, lq, row)
    herfindahl, hoover = _concentration(cells, size, weight, col)
    return {
        "krugman": krugman,
        "hachman": hachman,
        "herfindahl": herfindahl,
        "gini": _gini(cells, a, row),
        "hoover": hoover,
        "eg_gamma": _eg_gamma(cells, size, weight, plant_herfindahl),
    }


def _specialisation(
    cells: _Cells, focus: FloatArray, share: FloatArray, lq: FloatArray, row: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Krugman and Hachman indices of every territory (sparse sums over present cells)."""
    cols = cells.cols
    # sum over all sectors of |f - p| = sum_s p_s + sum over present cells of (|f - p| - p),
    # because f = 0 outside the pattern.
    dissimilarity = np.abs(focus - share[cols]) - share[cols]
    krugman = np.nansum(share) + cells.row_sum(dissimilarity)
    # a present cell with a zero value adds 0, even when its sector total is 0 (LQ 0/0)
    hachman = _divide(np.ones(cells.n_t), cells.row_sum(np.where(focus > 0, lq * focus, 0.0)))
    undefined = ~(row > 0)
    krugman[undefined] = np.nan
    hachman[undefined] = np.nan
    return krugman, hachman


def _concentration(
    cells: _Cells, size: FloatArray, weight: FloatArray, col: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Herfindahl and Hoover indices of every sector."""
    rows = cells.rows
    herfindahl = cells.col_sum(size**2)
    gap = np.abs(size - weight[rows]) - weight[rows]
    hoover = 0.5 * (np.nansum(weight) + cells.col_sum(gap))
    undefined = ~(col > 0)
    herfindahl[undefined] = np.nan
    hoover[undefined] = np.nan
    return herfindahl, hoover


def _gini(cells: _Cells, a: FloatArray, row: FloatArray) -> FloatArray:
    """Locational Gini of every sector, sorting only the present cells.

    Territories absent from the sector have LQ 0: they come first on the Lorenz curve and
    add abscissa without ordinate, so they contribute nothing to the trapezoid sum
    ``sum_k dX_k (Y_k + Y_{k-1})`` and need not be listed.
    """
    gini = np.full(cells.n_s, np.nan)
    col = cells.col_sum(a)
    total = float(row.sum())
    if total <= 0:
        return gini
    lq = _divide(a * total, row[cells.rows] * col[cells.cols])
    # Cells of a territory with zero total have an undefined LQ but also zero weight and
    # zero sector share (a = 0): sorting them anywhere leaves the area unchanged.
    order = order_within(cells.cols, np.where(np.isnan(lq), 0.0, lq))
    cols = cells.cols[order]
    dx = row[cells.rows[order]] / total
    # A sector with a zero total has no Lorenz curve (its Gini stays NaN); its cells get
    # dy = 0 so that the running sum shared by all sectors stays finite for the next ones.
    dy = _divide(a[order], col[cols])
    dy[np.isnan(dy)] = 0.0
    cum_y = np.cumsum(dy)
    starts = np.searchsorted(cols, np.arange(cells.n_s))
    base = np.concatenate([[0.0], cum_y])[starts]
    y = cum_y - base[cols]
    area = _bincount(cols, dx * (2.0 * y - dy), cells.n_s)
    defined = col > 0
    gini[defined] = 1.0 - area[defined]
    return np.clip(gini, 0.0, 1.0)


def _eg_gamma(
    cells: _Cells, size: FloatArray, weight: FloatArray, plant_herfindahl: FloatArray
) -> FloatArray:
    """Ellison-Glaeser gamma of every sector."""
    rows = cells.rows
    sum_w2 = float(np.nansum(weight**2))
    # G = sum_t (s_t - w_t)^2 = sum_t w_t^2 + sum over present cells of (s^2 - 2 s w)
    g = sum_w2 + cells.col_sum(size**2 - 2.0 * size * weight[rows])
    h = plant_herfindahl
    denominator = (1.0 - sum_w2) * (1.0 - h)
    with np.errstate(invalid="ignore", divide="ignore"):
        gamma = (g - (1.0 - sum_w2) * h) / denominator
    undefined = ~(denominator > 1e-15) | np.isnan(g)
    gamma[undefined] = np.nan
    return gamma


def _cell_ranges(
    cells: _Cells,
    a_low: FloatArray,
    a_high: FloatArray,
    row_low: FloatArray,
    row_high: FloatArray,
) -> tuple[tuple[FloatArray, FloatArray], ...]:
    """Exact ranges of LQ, focus and size over the box ``[employment_low, employment_high]``.

    ``row_low`` / ``row_high`` are the territories' whole-economy totals at both ends of the
    box; each includes the cell's own bound, so the rest of the territory is their
    difference with the cell.
    """
    rows, cols = cells.rows, cells.cols
    col_low, col_high = cells.col_sum(a_low), cells.col_sum(a_high)
    total_low, total_high = row_low.sum(), row_high.sum()
    # rest of the territory, of the column, and every other establishment, at both ends of
    # the box (clipped at 0 against rounding: each is a sum of non-negative bands)
    r_low = np.maximum(row_low[rows] - a_low, 0.0)
    r_high = np.maximum(row_high[rows] - a_high, 0.0)
    c_low = np.maximum(col_low[cols] - a_low, 0.0)
    c_high = np.maximum(col_high[cols] - a_high, 0.0)
    o_low = np.maximum(total_low - row_low[rows] - col_low[cols] + a_low, 0.0)
    o_high = np.maximum(total_high - row_high[rows] - col_high[cols] + a_high, 0.0)

    lq_low = np.fmin(
        _lq_limit(a_low, r_high, c_high, o_low), _lq_limit(a_high, r_high, c_high, o_low)
    )
    lq_high = _lq_limit(_lq_argmax(a_low, a_high, r_low, c_low, o_high), r_low, c_low, o_high)
    focus = _share_range(a_low, a_high, r_low, r_high)
    size = _share_range(a_low, a_high, c_low, c_high)
    # no point of the box has a positive territory (or sector) total: nothing is defined
    undefined = (row_high[rows] <= 0) | (col_high[cols] <= 0)
    for values in (lq_low, lq_high, *focus, *size):
        values[undefined] = np.nan
    return (lq_low, lq_high), focus, size


def _scenario(
    central: FloatArray, at_low: FloatArray, at_high: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Min and max over the three scenarios (NaN scenarios ignored)."""
    stacked = np.vstack([central, at_low, at_high])
    defined = ~np.isnan(stacked).all(axis=0)
    low = np.full(central.shape, np.nan)
    high = np.full(central.shape, np.nan)
    low[defined] = np.nanmin(stacked[:, defined], axis=0)
    high[defined] = np.nanmax(stacked[:, defined], axis=0)
    return low, high


def _around(
    central: FloatArray, low: FloatArray, high: FloatArray
) -> tuple[FloatArray, FloatArray]:
    return np.fmin(low, central), np.fmax(high, central)


def _lq_limit(a: FloatArray, r: FloatArray, c: FloatArray, o: FloatArray) -> FloatArray:
    """``LQ = a (a + r + c + o) / ((a + r)(a + c))``, by its limit ``a -> 0+`` where 0/0.

    The limit is the supremum or infimum of LQ near ``a = 0`` inside the box, so using it
    keeps the bounds sound.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        value = a * (a + r + c + o) / ((a + r) * (a + c))
        zero_r = (a == 0) & (r == 0) & (c > 0)
        zero_c = (a == 0) & (c == 0) & (r > 0)
        value = np.where(zero_r, (c + o) / c, value)
        value = np.where(zero_c, (r + o) / r, value)
        both = (a == 0) & (r == 0) & (c == 0)
        return np.where(both & (o > 0), np.inf, value)


def _lq_argmax(
    a_low: FloatArray, a_high: FloatArray, r: FloatArray, c: FloatArray, o: FloatArray
) -> FloatArray:
    """The cell value in ``[a_low, a_high]`` where LQ (fixed r, c, o) is largest."""
    rc = r * c
    with np.errstate(divide="ignore", invalid="ignore"):
        root = (rc + np.sqrt(rc * rc + o * rc * (o + r + c))) / o
    # With o = 0, LQ never decreases in a.
    root = np.where(o > 0, root, np.inf)
    return np.clip(root, a_low, a_high)


def _share_range(
    part_low: FloatArray, part_high: FloatArray, rest_low: FloatArray, rest_high: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Exact range of ``part / (part + rest)`` over the box (rises with part, falls with rest)."""
    rest_low = np.maximum(rest_low, 0.0)
    rest_high = np.maximum(rest_high, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = part_low / (part_low + rest_high)
        high = part_high / (part_high + rest_low)
    # 0/0 at a corner: at the low corner the rest is always 0, so the share is 1 wherever
    # defined; at the high corner the part is always 0, so the share is 0.
    low = np.where((part_low + rest_high) == 0, 1.0, low)
    high = np.where((part_high + rest_low) == 0, 0.0, high)
    undefined = (part_high + rest_high) <= 0
    low[undefined] = np.nan
    high[undefined] = np.nan
    return low, high

