"""Headcount bands of SIRENE (trancheEffectifs) and firm size categories (décret 2008-1354).

Band bounds are salaried headcounts. The central value of a band is the midpoint of its
bounds; the open band ``53`` (10,000 or more) is closed at 20,000, twice its lower
bound, which puts its midpoint at 15,000. ``NN`` (no information: the unit had no
salaried employee during the reference year, or it is not known) counts as 0 and is
marked ``known = False``; ``00`` is a known zero.
"""

from __future__ import annotations

import math
from functools import lru_cache

import pyarrow as pa

from grappe.errors import InputError, UnknownCodeError

# Upper bound chosen for the open band "10 000 salariés et plus".
OPEN_BAND_HIGH = 20_000

_BANDS: tuple[tuple[str, str, int, int], ...] = (
    ("NN", "Unité non employeuse ou effectif inconnu", 0, 0),
    ("00", "0 salarié", 0, 0),
    ("01", "1 ou 2 salariés", 1, 2),
    ("02", "3 à 5 salariés", 3, 5),
    ("03", "6 à 9 salariés", 6, 9),
    ("11", "10 à 19 salariés", 10, 19),
    ("12", "20 à 49 salariés", 20, 49),
    ("21", "50 à 99 salariés", 50, 99),
    ("22", "100 à 199 salariés", 100, 199),
    ("31", "200 à 249 salariés", 200, 249),
    ("32", "250 à 499 salariés", 250, 499),
    ("41", "500 à 999 salariés", 500, 999),
    ("42", "1 000 à 1 999 salariés", 1_000, 1_999),
    ("51", "2 000 à 4 999 salariés", 2_000, 4_999),
    ("52", "5 000 à 9 999 salariés", 5_000, 9_999),
    ("53", "10 000 salariés et plus", 10_000, OPEN_BAND_HIGH),
)

CATEGORIES = ("TPE", "PME", "ETI", "GE")

# Décret n° 2008-1354, art. 3: (headcount below, turnover at most, balance sheet at most).
_THRESHOLDS: tuple[tuple[str, int, float, float], ...] = (
    ("TPE", 10, 2e6, 2e6),
    ("PME", 250, 50e6, 43e6),
    ("ETI", 5_000, 1.5e9, 2e9),
)


@lru_cache(maxsize=1)
def size_bands() -> pa.Table:
    """Every SIRENE headcount band with its bounds.

    Returns
    -------
    pyarrow.Table
        ``code, label, low, central, high, known`` in increasing order of headcount
        (``NN`` first). ``central`` is the midpoint ``(low + high) / 2``.
    """
    return pa.table({
        "code": pa.array([b[0] for b in _BANDS], pa.string()),
        "label": pa.array([b[1] for b in _BANDS], pa.string()),
        "low": pa.array([b[2] for b in _BANDS], pa.int64()),
        "central": pa.array([(b[2] + b[3]) / 2 for b in _BANDS], pa.float64()),
        "high": pa.array([b[3] for b in _BANDS], pa.int64()),
        "known": pa.array([b[0] != "NN" for b in _BANDS], pa.bool_()),
    })


def band(code: str) -> tuple[int, float, int]:
    """``(low, central, high)`` of one band code; raises UnknownCodeError otherwise."""
    text = code.strip().upper() if isinstance(code, str) else ""
    for band_code, _, low, high in _BANDS:
        if band_code == text:
            return low, (low + high) / 2, high
    raise UnknownCodeError(
        f"tranche d'effectifs inconnue : {code!r} "
        f"(attendu : {', '.join(b[0] for b in _BANDS)})"
    )


def firm_category(
    headcount: float,
    turnover_eur: float | None = None,
    balance_sheet_eur: float | None = None,
) -> str:
    """The size category of a firm per décret 2008-1354: TPE, PME, ETI or GE.

    A firm belongs to a category when its headcount is below the category's ceiling and
    its turnover *or* its balance-sheet total is at most the category's amount. Unknown
    amounts (None) are not held against the firm: with neither known, the headcount
    alone decides.

    Parameters
    ----------
    headcount : float
        Annual average headcount (effectif), >= 0.
    turnover_eur, balance_sheet_eur : float, optional
        Annual turnover and balance-sheet total in euros, >= 0.

    Examples
    --------
    >>> firm_category(9, turnover_eur=2_000_000)
    'TPE'
    >>> firm_category(9, turnover_eur=3_000_000, balance_sheet_eur=2_500_000)
    'PME'
    """
    for name, value in (("headcount", headcount), ("turnover_eur", turnover_eur),
                        ("balance_sheet_eur", balance_sheet_eur)):
        if value is not None and (not isinstance(value, int | float) or value < 0
                                  or math.isnan(value)):
            raise InputError(f"{name} invalide : {value!r} (nombre positif ou nul attendu)")
    for category, max_staff, max_turnover, max_balance in _THRESHOLDS:
        if headcount >= max_staff:
            continue
        if turnover_eur is None and balance_sheet_eur is None:
            return category
        if (turnover_eur is not None and turnover_eur <= max_turnover) or (
            balance_sheet_eur is not None and balance_sheet_eur <= max_balance
        ):
            return category
    return "GE"


def category_of_band(code: str) -> str:
    """The size category implied by a headcount band alone (upper bound of the band).

    ``NN`` and ``00`` are TPE; ``31`` (200-249) is PME; ``32`` (250-499) to ``51``
    (2,000-4,999) are ETI; ``52`` and ``53`` are GE.
    """
    _, _, high = band(code)
    return firm_category(high)
