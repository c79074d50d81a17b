"""Rank potential clusters: minimum mass, specialisation with its uncertainty, score, reasons.

Basis: what a candidate's mass and specialisation rest on
---------------------------------------------------------
A cluster is a group of firms with staff. SIRENE lists many establishments without any:
domiciliation addresses (68.20B), holdings (64.20Z), head offices without staff (70.10Z),
dormant companies. Counted as establishments they make "clusters" of letter boxes (on the
Bas-Rhin SIRENE file, 171 establishments of 68.20B with 2 jobs led the ranking). So where the
data have employment (``basis = "employment"``):

* the **mass** of a candidate is its number of **employer establishments** — SIRENE
  establishments whose size band has at least one employee (every band but ``NN`` and
  ``00``); in URSSAF and generic tables with headcounts, the establishments as given (URSSAF
  counts employer establishments only) — and its (estimated) **employment**;
* its **specialisation** is the location quotient of employment.

A table without any headcount (``basis = "establishments"``: a generic table whose
``employees`` column is empty) keeps its rows: mass and location quotient are then counts of
establishments, and every candidate says so (``basis`` column and ``reasons``).

Minimum mass
------------
A candidate needs at least :data:`DEFAULT_MIN_ESTABLISHMENTS` employer establishments and
:data:`DEFAULT_MIN_EMPLOYMENT` jobs (employment, central estimate) by default
(:class:`MinimumMass`; no employment condition on the ``establishments`` basis). Cells
below are absent from every output: they are not potential clusters, however specialised.
Well-known French specialised clusters count 15 to 50 employer establishments in their
département, fewer in each zone d'emploi they span, so the default keeps them at both levels.

Specialisation with its uncertainty
-----------------------------------
A location quotient resting on 3 establishments is noise: one establishment of a rare sector
in a small territory makes a quotient in the hundreds. The ranking therefore uses a credible
interval of the quotient from the Gamma–Poisson model of relative risks of Clayton & Kaldor
(1987, "Empirical Bayes estimates of age-standardized relative risks for use in disease
mapping", *Biometrics* 43, 671–681): the cell's ``k`` units (its mass establishments) are
Poisson with mean ``theta * e``, ``theta`` the true quotient and ``e = k / LQ`` the units
expected at the national rate (on the establishment basis exactly the expected count
``x_t. x_.s / x_..``; on employment, the establishments the observed quotient is built on,
as jobs within one establishment are not independent draws). With the prior
``Gamma(a, a)`` centred on no specialisation (``theta = 1``), ``a`` =
:data:`PRIOR_STRENGTH` (worth one establishment at the national rate), the posterior is
``Gamma(a + k, a + e)``; ``lq_credible_low`` and ``lq_credible_high`` are its quantiles at
``(1 - level) / 2`` and ``(1 + level) / 2``, ``level`` = :data:`CREDIBLE_LEVEL`. The score
uses the lower bound: 3 establishments with LQ = 500 give a lower bound of 1.4, 250
establishments with LQ = 6 one of 5.3, 15 establishments with LQ = 40 one of 7.3. Where the
expected count ``e`` is below the prior's weight, the interval is pulled towards 1 and may
lie below the observed quotient (15 establishments at LQ 40: 7.3 to 16.8); the reasons then
call it a cautious estimate.

Score
-----
See :class:`ScoreWeights`: a weighted mean of four bounded components (mass and share,
specialisation lower bound, hot-spot significance, dynamism).

Reasons
-------
Each candidate carries one French sentence (``reasons``): its mass, its specialisation with
its credible range, its hot-spot test, its creations against its sector's national pace (when
known) and its rank within its sector, numbers in French (Babel's ``fr_FR`` symbols).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from grappe.detection.levels import DEFAULT_MIN_EMPLOYMENT, DEFAULT_MIN_ESTABLISHMENTS
from grappe.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CREDIBLE_LEVEL",
    "DEFAULT_MIN_EMPLOYMENT",
    "DEFAULT_MIN_ESTABLISHMENTS",
    "PRIOR_STRENGTH",
    "Basis",
    "MinimumMass",
    "ScoreWeights",
    "lq_credible_interval",
]

Basis = Literal["employment", "establishments"]
FloatArray = npt.NDArray[np.float64]

#: Strength ``a`` of the ``Gamma(a, a)`` prior of the location quotient (in establishments).
PRIOR_STRENGTH = 1.0
#: Probability of the credible interval of the location quotient.
CREDIBLE_LEVEL = 0.90

# Half-saturation share of the sector's national measure for the size component.
SIZE_HALF = 0.02
# Half-saturation number of (employer) establishments for the size component.
MASS_HALF = 5.0
# Location quotient (lower bound) at which the specialisation component reaches tanh(1).
LQ_SCALE = 4.0
# Gi* z-value at which the significance component reaches 1 - 1/e.
Z_SCALE = 5.0


@dataclass(frozen=True)
class MinimumMass:
    """The smallest candidate kept in the output (see the module notes).

    Attributes
    ----------
    establishments : float
        Minimum (employer) establishments (default :data:`DEFAULT_MIN_ESTABLISHMENTS`).
    employment : float
        Minimum employment, central estimate (default :data:`DEFAULT_MIN_EMPLOYMENT`);
        ignored for data without headcounts.
    """

    establishments: float = DEFAULT_MIN_ESTABLISHMENTS
    employment: float = DEFAULT_MIN_EMPLOYMENT

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                raise InputError(f"MinimumMass.{item.name}={value!r}: expected a finite number >= 0")

    def keeps(self, mass: FloatArray, employment: FloatArray, basis: Basis) -> npt.NDArray[np.bool_]:
        """Which cells reach the minimum mass (``mass``: their employer establishments)."""
        kept = np.asarray(mass) >= self.establishments
        if basis == "employment":
            kept &= np.asarray(employment) >= self.employment
        return kept


@dataclass(frozen=True)
class ScoreWeights:
    """Weights of the four bounded components of the candidate score.

    ``score = (w_size * size + w_spec * specialisation + w_sig * significance
    + w_dyn * dynamism) / (w_size + w_spec + w_sig + w_dyn)``, in [0, 1], with:

    * ``size = s / (s + SIZE_HALF) * m / (m + MASS_HALF)``: the territory's share ``s`` of
      the sector's national employment (of its establishments on the establishment basis),
      0.5 at ``SIZE_HALF`` = 2 %, times the critical mass of ``m`` employer establishments,
      0.5 at ``MASS_HALF`` = 5 and 0.83 at 25;
    * ``specialisation = tanh(max(ln L, 0) / ln LQ_SCALE)``, ``L`` the lower bound of the
      credible interval of the location quotient (``lq_credible_low``, see the module
      notes), ``LQ_SCALE`` = 4: 0 at L <= 1, 0.46 at L = 2, 0.76 at L = 4, 0.96 at L = 16;
    * ``significance = 1 - exp(-max(gi_z, 0) / Z_SCALE)``, ``Z_SCALE`` = 5, when the cell is
      significant (Gi* hot spot, Benjamini–Hochberg adjusted p-value <= alpha), else 0;
    * ``dynamism = r / (r + 1)``, ``r`` the cell's creation rate over its sector's national
      creation rate (0.5 at the national pace); 0.5 when either rate is undefined.

    Attributes
    ----------
    size, specialisation, significance, dynamism : float
        Non-negative weights, not all zero (defaults 0.25, 0.30, 0.35, 0.10).
    """

    size: float = 0.25
    specialisation: float = 0.30
    significance: float = 0.35
    dynamism: float = 0.10

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise InputError(
                    f"ScoreWeights.{item.name}={value!r}: expected a finite number >= 0"
                )
        if self.total <= 0:
            raise InputError("ScoreWeights: at least one weight must be positive")

    @property
    def total(self) -> float:
        """Sum of the weights."""
        return self.size + self.specialisation + self.significance + self.dynamism


def lq_credible_interval(
    lq: FloatArray,
    units: FloatArray,
    level: float = CREDIBLE_LEVEL,
    prior: float = PRIOR_STRENGTH,
) -> tuple[FloatArray, FloatArray]:
    """Credible interval of location quotients resting on ``units`` establishments.

    The posterior ``Gamma(prior + k, prior + k / LQ)`` of the module notes (Clayton & Kaldor
    1987); a quotient of 0 has the interval (0, 0), an undefined one (NaN) NaN bounds.

    Examples
    --------
    >>> low, high = lq_credible_interval(np.array([500.0, 6.0]), np.array([3.0, 250.0]))
    >>> bool(low[0] < low[1])
    True
    """
    from scipy.special import gammaincinv  # here: the CLI imports this module's defaults

    lq = np.asarray(lq, dtype=np.float64)
    k = np.asarray(units, dtype=np.float64)
    shape = prior + k
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = prior + np.where(lq > 0, k / np.where(lq > 0, lq, 1.0), np.inf)
        tail = (1.0 - level) / 2.0
        low = gammaincinv(shape, tail) / rate
        high = gammaincinv(shape, 1.0 - tail) / rate
    undefined = ~np.isfinite(lq)
    low[undefined] = np.nan
    high[undefined] = np.nan
    return low, high


def add_score(frame: pd.DataFrame, weights: ScoreWeights, mass: FloatArray) -> None:
    """Add the four bounded components and the score (see :class:`ScoreWeights`)."""
    size = frame["size"].to_numpy(dtype=np.float64)
    size = np.where(np.isfinite(size), size, 0.0)
    mass = np.asarray(mass, dtype=np.float64)
    size_c = size / (size + SIZE_HALF) * mass / (mass + MASS_HALF)
    low = frame["lq_credible_low"].to_numpy(dtype=np.float64)
    positive = np.isfinite(low) & (low > 1.0)
    log_low = np.log(np.where(positive, low, 1.0))
    spec_c = np.tanh(log_low / math.log(LQ_SCALE))
    z = np.nan_to_num(frame["gi_z"].to_numpy(dtype=np.float64), nan=0.0, posinf=1e6)
    sig_c = np.where(
        frame["significant"].to_numpy(), 1.0 - np.exp(-np.maximum(z, 0.0) / Z_SCALE), 0.0
    )
    ratio = _creation_ratio(frame)
    defined = np.isfinite(ratio)
    dyn_c = np.where(defined, ratio / (np.where(defined, ratio, 0.0) + 1.0), 0.5)
    frame["score_size"] = size_c
    frame["score_specialisation"] = spec_c
    frame["score_significance"] = sig_c
    frame["score_dynamism"] = dyn_c
    frame["score"] = (
        weights.size * size_c
        + weights.specialisation * spec_c
        + weights.significance * sig_c
        + weights.dynamism * dyn_c
    ) / weights.total


def sector_ranks(sectors: npt.NDArray[np.integer], n_sectors: int) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """Rank of each row within its sector (1 = best) and the rows of its sector, for rows
    given best first."""
    sectors = np.asarray(sectors, dtype=np.int64)
    if len(sectors) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    # A stable sort by sector keeps the overall order inside each sector.
    order = np.argsort(sectors, kind="stable")
    sizes = np.bincount(sectors, minlength=n_sectors)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rank = np.empty(len(sectors), dtype=np.int64)
    rank[order] = np.arange(len(sectors)) - starts[sectors[order]] + 1
    return rank, sizes[sectors].astype(np.int64)


def reasons(
    frame: pd.DataFrame, basis: Basis, from_establishments: bool, reference: str = ""
) -> list[str]:
    """One French sentence per candidate (rows best first, ``sector_rank`` filled).

    ``reference`` names the store the specialisation compares with, when it is not the
    analysed store itself.
    """
    mass = frame["employer_establishments"].to_numpy(dtype=np.float64)
    total = frame["establishments"].to_numpy(dtype=np.float64)
    employment = frame["employment"].to_numpy(dtype=np.float64)
    lq = frame["lq"].to_numpy(dtype=np.float64)
    low = frame["lq_credible_low"].to_numpy(dtype=np.float64)
    high = frame["lq_credible_high"].to_numpy(dtype=np.float64)
    significant = frame["significant"].to_numpy()
    tested = np.isfinite(frame["p_adjusted"].to_numpy(dtype=np.float64))
    ratio = _creation_ratio(frame)
    rank = frame["sector_rank"].to_numpy()
    count = frame["sector_candidates"].to_numpy()
    if basis == "establishments":
        masses = [
            f"{_count(n, 'établissement', 'établissements')} "
            "(effectifs absents : classement sur les établissements)"
            for n in total.tolist()
        ]
        measure = " des établissements"
    else:
        jobs = "emplois estimés" if from_establishments else "salariés"
        noun = ("établissement employeur", "établissements employeurs") if from_establishments \
            else ("établissement", "établissements")
        masses = [
            f"{_count(m, *noun)}{_out_of(m, n)}, {french_number(e)} {jobs}"
            for m, n, e in zip(mass.tolist(), total.tolist(), employment.tolist(), strict=True)
        ]
        measure = " de l'emploi"
    against = f" de la référence « {reference} »" if reference else ""
    sentences = []
    for i, text in enumerate(masses):
        parts = [text]
        if math.isfinite(lq[i]):
            cautious = "estimation prudente, peu d'établissements : " if lq[i] > high[i] else ""
            parts.append(
                f"spécialisation{measure} {_quotient(lq[i])} fois la moyenne{against} "
                f"({cautious}entre {_quotient(low[i])} et {_quotient(high[i])})"
            )
        if significant[i]:
            parts.append("point chaud significatif")
        elif tested[i]:
            parts.append("pas de point chaud significatif")
        else:
            parts.append("point chaud non testé")
        if math.isfinite(ratio[i]):
            parts.append(f"créations à {_quotient(ratio[i])} fois le rythme national du secteur")
        parts.append(
            "seul candidat du secteur" if count[i] == 1
            else f"{_ordinal(int(rank[i]))} du secteur sur {int(count[i])}"
        )
        sentences.append(" ; ".join(parts))
    return sentences


def french_number(value: float, digits: int = 0) -> str:
    """``value`` with French separators (Babel's ``fr_FR`` symbols): ``1 250``, ``6,2``."""
    if not math.isfinite(value):
        return "–"
    decimal, group = _symbols()
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group)


# --------------------------------------------------------------------------------------------
# implementation


@lru_cache(maxsize=1)
def _symbols() -> tuple[str, str]:
    from babel.numbers import get_decimal_symbol, get_group_symbol

    return get_decimal_symbol("fr_FR"), get_group_symbol("fr_FR")


def _creation_ratio(frame: pd.DataFrame) -> FloatArray:
    """The cell's creation rate over its sector's national rate (NaN when undefined)."""
    rate = frame["creation_rate"].to_numpy(dtype=np.float64)
    national = frame["sector_creation_rate"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = rate / national
    return np.where(np.isfinite(ratio) & (ratio >= 0), ratio, np.nan)


def _count(n: float, singular: str, plural: str) -> str:
    return f"{french_number(n)} {singular if round(n) <= 1 else plural}"


def _out_of(mass: float, total: float) -> str:
    return f" sur {french_number(total)}" if total > mass else ""


def _quotient(value: float) -> str:
    """Two significant figures at most below 10, whole numbers above."""
    if not math.isfinite(value):
        return "–"
    if value >= 10:
        return french_number(value)
    return french_number(value, 1 if value >= 1 else 2)


def _ordinal(n: int) -> str:
    return "1er" if n == 1 else f"{n}e"
