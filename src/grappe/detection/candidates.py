"""Potential clusters: test, score and rank the territory x sector cells of the productive fabric.

The pipeline of :func:`detect` (``grappe detect``)
-------------------------------------------------
1. **Aggregate** the fabric store on communes (for the test) and at the requested level
   (for the candidates), on one DuckDB or Spark connection
   (:func:`grappe.detection.aggregate.aggregate`). A store holding only aggregated tables
   above the commune level has no commune counts: the test then runs at the level.
2. **Indicators** (:func:`grappe.detection.indicators.indicators`, on estimated employment,
   or on establishments when the input has no headcount) and the published rules
   (:func:`grappe.detection.rules.apply_rules`): U.S. Cluster Mapping "strong" clusters and
   European Cluster Observatory stars.
3. **Significance**: local Getis–Ord Gi* (self included, binary weights), per sector across
   the **communes** of France (:func:`grappe.detection.significance.getis_ord`), of the
   surprise of the sector's count in each commune, with conditional permutation inference
   and Benjamini–Hochberg control across the communes of each sector (see *Significance*).
4. **Mass, score and rank** (:mod:`grappe.detection.ranking`): the cells below the minimum
   mass are left out, the location quotient gets its credible interval, the score
   (:class:`ScoreWeights`) ranks the rest, and each candidate gets its reasons.

Candidates
----------
One row per territory x sector cell with active establishments of the sector in the
territory (a *presence*) reaching the minimum mass (:class:`MinimumMass`: employer
establishments and employment where the data have employment, establishments otherwise;
see :mod:`grappe.detection.ranking`). ``significant`` is the Gi* call, and only it (no
percentile rule).

Significance
------------
*What is tested.* For commune ``i`` and sector ``s`` the value is the *surprise* of the
sector's establishment count: ``v = -log10 P(X >= x_is)`` with ``X`` Poisson of mean
``e_is = x_i. x_.s / x_..``, the count expected if the sector were spread like all
establishments (``v = 0`` without establishment). Where nothing is clustered
``P(v >= t) <= 10^-t`` in every commune, dense or sparse, so the values share one tail and
are exchangeable, as the permutation test assumes; a cluster is a group of neighbouring
communes that are each surprising. Two simpler values were measured worse on the synthetic
fabrics of ``tests/detection/test_recall.py``: raw counts follow the density of the fabric
and make every dense area a hot spot of every sector (about 0.5 % of all presences called
with nothing planted, the communes of Paris first); Pearson residuals
``(x - e) / sqrt(e)`` explode for one establishment of a rare sector in a village
(``e`` ~ 0.001 gives ~ 30), so random draws of such villages outweigh a real cluster and
the clusters of denser fabrics (Toulouse's aerospace at 1 M establishments) are lost.

*Why communes.* Conditional permutation keeps a territory's own value and asks whether its
neighbours are unusually high. A cluster that fits inside one zone d'emploi or EPCI
(Toulouse's aerospace in Toulouse Métropole, Oyonnax's plastics in its zone d'emploi) has
ordinary neighbours at that level, so no Gi* test at that level can see it; at the commune
scale the same cluster is a group of neighbouring communes, which is what Gi* detects. A
candidate territory is therefore significant in a sector when at least one of its communes
is a Gi* hot spot of the sector at false discovery rate ``alpha`` (Benjamini–Hochberg across
the communes of the sector, untested communes counting with ``p = 1``); its ``gi_z``,
``p_value`` and ``p_adjusted`` are those of its most significant commune (``hotspot``).
``support="level"`` runs the same test on the territories of the requested level instead
(faster, blind to clusters that fit in one territory).

*Weights.* Contiguity from shared borders (the packaged commune contiguity, aggregated to
the level for ``support="level"``); a territory without any neighbour (an island such as
Ouessant or Île-de-Sein) gets its nearest territory by population-weighted centroid (k = 1,
the link made both ways); territories without coordinates keep no neighbour and are never
tested (their neighbour sum is empty).

*Screened p-values.* ``permutations`` conditional permutations (999 by default, one seeded
block shared by every cell, counted exactly by :mod:`grappe.detection.significance`) give
each cell its upper-tail p-value ``(r + 1) / (P + 1)``, ``r`` the draws whose neighbour sum
reaches the observed one. That estimate cannot go below ``1 / (P + 1)``, while
Benjamini–Hochberg over ~35,000 communes needs ``alpha * k / 35,000`` for ``k`` discoveries:
with 999 draws a sector needs 35 hot communes before any is called, and the clusters of a
full-size fabric are lost. Two steps lift that floor:

1. the sequential refinement of :func:`~grappe.detection.significance.getis_ord` gives more
   draws (doubling, up to ``max_permutations`` = 199,999) to the cells whose call at
   ``alpha`` still depends on them, and stops as soon as no call can change;
2. where no draw reaches the observed sum (``r = 0`` after the refinement), the p-value is
   ``min(1 / (draws + 1), B)`` with ``B`` an upper bound of the exact permutation p-value:
   reaching the observed neighbour sum ``A`` takes at least ``j*`` non-zero neighbours,
   ``j*`` the fewest of the other communes' largest values whose sum reaches ``A``, and the
   number of non-zero values among ``c`` neighbours drawn without replacement is
   hypergeometric, so ``p <= B = P(H >= j*)``.

The permutations decide every call above their resolution; the bound, never below the
exact permutation p-value, decides only below it, where the draws cannot: for a null cell
``P(p <= t) <= t`` at every ``t``, so the Benjamini–Hochberg calls keep their guarantee.
Cells in the lower tail of their permutation distribution (upper-tail p-value >= 1/2) enter
their family with ``p = 1``, which only makes the calls more conservative. With
``permutations=0`` the p-value is the normal one of the analytic z.

*False discoveries.* The family of Benjamini–Hochberg is one sector across communes, as
the rule asks: each sector may make a false call with probability up to ``alpha``, so with
~730 sous-classes a fabric where nothing is clustered still gets calls, mostly two or three
establishments of a rare sector in neighbouring communes (0.4 % of the presences of the
synthetic fabrics of ``tests/detection/test_recall.py`` with nothing planted). The score's
critical-mass factor ranks them below real clusters of the same specialisation, but they
can fill a top 20 when nothing else stands out.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy import stats

from grappe.detection.aggregate import SectorSpec, StoreOrFiles, aggregate, aggregate_levels
from grappe.detection.aggregate.sources import _sector_spec
from grappe.detection.counts import TERRITORY_LEVELS, Counts, EstablishmentCounts
from grappe.detection.indicators import (
    Measure,
    _values,
    file_format,
    indicators,
    json_default,
    write_frame,
)
from grappe.detection.kernels import best_per_group
from grappe.detection.ranking import (
    Basis,
    MinimumMass,
    ScoreWeights,
    add_score,
    lq_credible_interval,
    reasons,
    sector_ranks,
)
from grappe.detection.rules import RuleThresholds, apply_rules
from grappe.detection.sector_groups import SectorGroup, traded_sectors
from grappe.detection.segments import positions
from grappe.detection.significance import MAX_PERMUTATIONS, benjamini_hochberg, getis_ord
from grappe.detection.weights import SpatialWeights, contiguity
from grappe.errors import InputError
from grappe.memory import release_freed_memory
from grappe.progress import SILENT, Reporter
from grappe.storage.analytics import Analytics

__all__ = [
    "CANDIDATE_COLUMNS",
    "CANDIDATE_FORMATS",
    "Candidates",
    "MinimumMass",
    "ScoreWeights",
    "detect",
]

Support = Literal["commune", "level"]
CandidateFormat = Literal["csv", "csv-excel", "xlsx", "json", "parquet", "geojson"]
CANDIDATE_FORMATS: tuple[CandidateFormat, ...] = (
    "csv", "csv-excel", "xlsx", "json", "parquet", "geojson"
)

#: What to do when the candidates would pass an XLSX sheet's 1,048,576 rows.
XLSX_HINT = "gardez les meilleurs avec --top N ou écrivez un CSV (--format csv)"

#: Columns of :meth:`Candidates.to_frame`, in order.
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "rank",
    "territory_level",
    "territory_code",
    "territory_name",
    "sector_level",
    "sector",
    "sector_name",
    "basis",
    "traded",
    "establishments",
    "employer_establishments",
    "employment",
    "employment_low",
    "employment_high",
    "sme_share",
    "lq",
    "lq_low",
    "lq_high",
    "lq_credible_low",
    "lq_credible_high",
    "size",
    "focus",
    "strong",
    "stars",
    "hotspot",
    "gi_z",
    "p_value",
    "p_adjusted",
    "significant",
    "creation_rate",
    "sector_creation_rate",
    "score_size",
    "score_specialisation",
    "score_significance",
    "score_dynamism",
    "score",
    "sector_rank",
    "sector_candidates",
    "reasons",
)

# Columns of the output made by the ranking (grappe.detection.ranking), not the indicators.
_RANKING_COLUMNS: frozenset[str] = frozenset(
    ("basis", "employer_establishments", "lq_credible_low", "lq_credible_high")
)
# Columns of the output taken from the indicators and the rules: the block from
# establishments to stars, and the creation rate (codes and names are added at the end, from
# integer indices).
_INDICATOR_COLUMNS: tuple[str, ...] = (
    *(
        name
        for name in CANDIDATE_COLUMNS[
            CANDIDATE_COLUMNS.index("establishments") : CANDIDATE_COLUMNS.index("hotspot")
        ]
        if name not in _RANKING_COLUMNS
    ),
    "creation_rate",
)

# Neighbour sums within this relative distance are ties (as in significance.py).
_TIE_RTOL = 1e-10
# Surprise values beyond 10^-300 are capped (the float64 range).
_SURPRISE_CAP = 300.0
# Islands borrow this many nearest territories as neighbours.
_ISLAND_K = 1

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Candidates:
    """Ranked potential clusters, computed once by :func:`detect`.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per candidate (columns :data:`CANDIDATE_COLUMNS`), best first.
    territory_level, sector_level : str
        Levels of the rows.
    support : {"commune", "level"}
        Territories on which the Gi* test ran.
    weights_kind : str
        How the spatial weights were built.
    permutations, seed : int
        Permutation draws and their seed.
    alpha : float
        False discovery rate of the ``significant`` call.
    score_weights : ScoreWeights
        Weights of the score.
    date : str
        Snapshot date of the fabric (the end of the dynamics window), ISO.
    basis : {"employment", "establishments"}
        What mass and specialisation rest on (:mod:`grappe.detection.ranking`):
        employer establishments and employment, or establishments alone for data without
        headcounts.
    minimum_mass : MinimumMass
        The smallest candidate kept.
    include_local : bool
        Whether local sectors are among the candidates (``traded`` false on their rows);
        by default only traded sectors are.
    """

    frame: pd.DataFrame
    territory_level: str
    sector_level: str
    support: str
    weights_kind: str
    permutations: int
    seed: int
    alpha: float
    score_weights: ScoreWeights
    date: str
    basis: Basis = "employment"
    minimum_mass: MinimumMass = field(default_factory=MinimumMass)
    include_local: bool = False

    def __len__(self) -> int:
        return len(self.frame)

    def to_frame(self) -> pd.DataFrame:
        """A copy of the ranked candidates (one row per territory x sector presence)."""
        return self.frame.copy()

    def top(self, n: int = 20) -> pd.DataFrame:
        """The ``n`` best candidates."""
        if not isinstance(n, int) or n < 0:
            raise InputError(f"top: n={n!r}: expected a whole number >= 0")
        return self.frame.head(n).copy()

    def write(
        self, path: Path | str, format: str | None = None, top: int | None = None
    ) -> Path:
        """Write the candidates as CSV, French Excel CSV, XLSX, JSON (records), Parquet or GeoJSON.

        Parameters
        ----------
        path : Path or str
            Output file.
        format : {"csv", "csv-excel", "xlsx", "json", "parquet", "geojson"}, optional
            Defaults to the suffix of ``path`` (``csv-excel`` only when given: see
            :func:`grappe.detection.indicators.write_frame`).
        top : int, optional
            Write only the ``top`` best candidates (default: all).

        Returns
        -------
        Path
            The file written.

        Notes
        -----
        GeoJSON holds one Point feature per candidate at the population-weighted centroid of
        its territory (WGS84 longitude, latitude), its properties the columns; candidates
        whose territory has no coordinates get a null geometry.
        """
        path = Path(path)
        fmt = candidate_format(path, format)
        frame = self.frame if top is None else self.top(top)
        if fmt == "geojson":
            path.write_text(_geojson_text(frame, self.territory_level), encoding="utf-8")
        else:
            write_frame(frame, path, fmt, xlsx_hint=XLSX_HINT)
        return path

    def map(self, path: Path | str, top: int = 20) -> Path:
        """Draw the ``top`` candidates on a map of France, PNG or SVG by the suffix of ``path``.

        See :func:`grappe.detection.maps.candidates_map`.
        """
        from grappe.detection.maps import candidates_map

        return candidates_map(self.top(top), Path(path), self.territory_level, title_date=self.date)

    def geojson(self, top: int | None = None) -> dict[str, Any]:
        """The candidates as a GeoJSON FeatureCollection (a dict); see :meth:`write`."""
        frame = self.frame if top is None else self.top(top)
        result: dict[str, Any] = json.loads(_geojson_text(frame, self.territory_level))
        return result


def detect(
    store: StoreOrFiles,
    level: str = "ze",
    sectors: SectorSpec = "sous-classe",
    engine: str | Analytics | None = None,
    at: dt.date | None = None,
    thresholds: RuleThresholds | None = None,
    permutations: int = 999,
    alpha: float = 0.05,
    seed: int = 0,
    reporter: Reporter = SILENT,
    weights: ScoreWeights | None = None,
    support: Support = "commune",
    max_permutations: int | None = MAX_PERMUTATIONS,
    minimum_mass: MinimumMass | None = None,
    include_local: bool = False,
) -> Candidates:
    """Find, test, score and rank the potential clusters of a fabric store.

    Parameters
    ----------
    store : FabricStore, Path or sequence of Path
        The fabric store (or its directory, or its Parquet files).
    level : {"ze", "epci", "commune", "departement", "region"}
        Territory level of the candidates. ``ze``: the packaged zones d'emploi 2020, or a
        newer vintage imported with ``grappe refdata import-ze``.
    sectors : NAF level, "clusters", sector-group file or list of SectorGroup
        Sector level of the candidates (``section`` ... ``sous-classe``, ``clusters`` for
        the cluster categories of :mod:`grappe.refdata.clusters`, or groups).
    engine : {"duckdb", "spark"} or Analytics, optional
        Engine of the aggregation (default ``Settings.engine``).
    at : datetime.date, optional
        Snapshot date (default: the latest date of the fabric).
    thresholds : RuleThresholds, optional
        Thresholds of the strong rule and the stars (the published ones by default).
    permutations : int
        Conditional permutations of the Gi* test (999; 0 for analytic p-values only).
    alpha : float
        False discovery rate of the ``significant`` call, in (0, 1).
    seed : int
        Seed of the permutations: the same seed gives the same candidates, bit for bit.
    reporter : Reporter
        Progress of the steps.
    weights : ScoreWeights, optional
        Weights of the score components (defaults: :class:`ScoreWeights`).
    support : {"commune", "level"}
        Territories of the Gi* test: communes (default; see the module notes) or the
        territories of ``level``.
    max_permutations : int, optional
        Cap of the sequential refinement of :func:`~grappe.detection.significance.getis_ord`
        (more draws, up to this many, only for the cells whose call at ``alpha`` depends on
        them; 199,999 by default). ``None`` (or any value up to ``permutations``) turns the
        refinement off.
    minimum_mass : MinimumMass, optional
        The smallest candidate kept (default :class:`MinimumMass`: 10 employer
        establishments and 50 jobs); ``MinimumMass(0, 0)`` keeps every presence.
    include_local : bool
        Keep the local sectors (activités présentielles: they serve the population where it
        lives) among the candidates, marked ``traded`` false. By default only traded
        sectors are candidates and tested (:func:`grappe.refdata.clusters.traded`; a NAF
        code above the sous-classe or a sector group is traded when one of its sous-classes
        is); the local ones still count in every territory's total, so the indicators of the
        traded sectors are the same either way.

    Returns
    -------
    Candidates
        Ranked, best first.

    Raises
    ------
    InputError
        A wrong argument, zones d'emploi not imported for ``level="ze"``, an empty store.

    Examples
    --------
    >>> from grappe.detection.candidates import detect
    >>> found = detect("store/", level="epci", permutations=999, seed=1)  # doctest: +SKIP
    >>> found.top(5)[["territory_name", "sector_name", "score"]]  # doctest: +SKIP
    """
    _check_arguments(level, permutations, alpha, seed, support)
    if not isinstance(include_local, bool):
        raise InputError(f"include_local={include_local!r}: expected True or False")
    if max_permutations is not None and (
        isinstance(max_permutations, bool)
        or not isinstance(max_permutations, int)
        or max_permutations < 0
    ):
        raise InputError(f"max_permutations={max_permutations!r}: expected a whole number >= 0")
    # The refinement cap is at least the first round (no refinement at or below it).
    cap = permutations if max_permutations is None else max(max_permutations, permutations)
    score_weights = weights if weights is not None else ScoreWeights()
    if not isinstance(score_weights, ScoreWeights):
        raise InputError(f"weights must be a ScoreWeights, not {type(weights).__name__}")
    minimum = minimum_mass if minimum_mass is not None else MinimumMass()
    if not isinstance(minimum, MinimumMass):
        raise InputError(f"minimum_mass must be a MinimumMass, not {type(minimum_mass).__name__}")
    # The test needs only the support's establishment counts (for the commune support of a
    # coarser level, nothing else of the communes is assembled).
    fine, counts, used_support = _counts(store, level, sectors, engine, at, reporter, support)
    groups = _groups_of(sectors)
    sector_traded = traded_sectors(counts.sectors.tolist(), groups)
    measure: Measure = "employment" if counts.employment.nnz else "establishments"
    with reporter.step("Indicateurs, grappes fortes et étoiles"):
        # The columns of the output only (at commune level millions of rows, kept through
        # the test), for the presences; the cells' territory and sector stay integer indices.
        rules = apply_rules(indicators(counts, measure=measure), thresholds)
        rows, cols = rules.indicators.cell_coordinates()
        frame = rules.to_frame(_INDICATOR_COLUMNS)
        del rules
        present = (frame["establishments"] > 0).to_numpy()
        if not include_local:
            present = present & sector_traded[cols]
        if not present.all():
            frame = frame[present].reset_index(drop=True)
            rows, cols = rows[present], cols[present]
        frame["traded"] = sector_traded[cols]
        frame["sector_creation_rate"] = _sector_creation_rates(counts)[cols]
        basis, mass, keep = _mass(frame, counts, rows, cols, minimum)
        if not keep.all():
            frame = frame[keep].reset_index(drop=True)
            rows, cols, mass = rows[keep], cols[keep], mass[keep]
        _specialisation_interval(frame, mass)
    from_establishments = counts.from_establishments
    level_territories, level_sectors = counts.territories, counts.sectors
    sector_level = counts.sector_level
    date = counts.dynamics.end if counts.dynamics is not None else ""
    del counts  # the level's matrices are not needed any more
    weights_ = _weights(used_support if used_support == "commune" else level)
    # Local sectors left out are not tested (their cells would never be candidates).
    tested = None if include_local else traded_sectors(fine.sectors.tolist(), groups)
    test = _significance(fine, weights_, permutations, seed, alpha, cap, reporter, tested)
    with reporter.step("Score et classement des candidats"):
        lifted, hotspot = _lift(test, level_territories, level_sectors, rows, cols, used_support, level)
        support_ids = test.ids
        del test, fine  # the tested cells are not needed any more
        for name, values in lifted.items():
            frame[name] = values
        frame["significant"] = frame["p_adjusted"].to_numpy() <= alpha
        add_score(frame, score_weights, mass)
        territory_names, sector_names = _names(level_territories, level_sectors, level, sectors)
        strings = {
            "territory_level": (np.array([level]), np.zeros(len(frame), dtype=np.int8)),
            "territory_code": (level_territories, rows),
            "territory_name": (territory_names, rows),
            "sector_level": (np.array([sector_level]), np.zeros(len(frame), dtype=np.int8)),
            "basis": (np.array([basis]), np.zeros(len(frame), dtype=np.int8)),
            "sector": (level_sectors, cols),
            "sector_name": (sector_names, cols),
            # No hot spot (-1): the label after the support territories, "".
            "hotspot": (np.append(support_ids, ""), np.where(hotspot >= 0, hotspot, len(support_ids))),
        }
        # The ordered output is new memory (at commune level 0.75 GB): first give back what
        # the test freed, which glibc would otherwise keep (about 0.3 GB of the peak there).
        release_freed_memory()
        frame = _rank(frame, strings)
        _add_reasons(frame, basis, from_establishments, len(level_sectors))
    return Candidates(
        frame=frame,
        territory_level=level,
        sector_level=sector_level,
        support=used_support,
        weights_kind=weights_.kind,
        permutations=int(permutations),
        seed=int(seed),
        alpha=float(alpha),
        score_weights=score_weights,
        date=date,
        basis=basis,
        minimum_mass=minimum,
        include_local=include_local,
    )


def candidate_format(path: Path | None, format: str | None) -> CandidateFormat:
    """The output format: ``format`` when given, else the suffix of ``path`` (else CSV).

    Raises
    ------
    InputError
        The format (or the suffix) is not one of :data:`CANDIDATE_FORMATS`.
    """
    return file_format(path, format, CANDIDATE_FORMATS)


def name_columns(frame: pd.DataFrame, level: str, sectors: SectorSpec) -> pd.DataFrame:
    """The frame with ``territory_name`` after ``territory_code`` and ``sector_name`` after
    ``sector`` (names of the level's territories and of the sectors; the code without one).

    For the outputs made of indicator frames (``grappe indicators``): people read names.
    """
    from grappe.refdata import territories

    frame = frame.copy()
    if "territory_code" in frame.columns and "territory_name" not in frame.columns:
        known = territories.names(level)
        codes = frame["territory_code"].astype(str)
        frame.insert(frame.columns.get_loc("territory_code") + 1, "territory_name",
                     codes.map(known).fillna(codes))
    if "sector" in frame.columns and "sector_name" not in frame.columns:
        codes = frame["sector"].astype(str)
        frame.insert(frame.columns.get_loc("sector") + 1, "sector_name",
                     codes.map(_sector_labels(sectors)).fillna(codes))
    return frame


# --------------------------------------------------------------------------------------------
# implementation


def _check_arguments(
    level: str, permutations: int, alpha: float, seed: int, support: str
) -> None:
    if level not in TERRITORY_LEVELS:
        raise InputError(f"level {level!r}: expected one of {', '.join(TERRITORY_LEVELS)}")
    if isinstance(permutations, bool) or not isinstance(permutations, int) or permutations < 0:
        raise InputError(f"permutations={permutations!r}: expected a whole number >= 0")
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise InputError(f"alpha={alpha!r}: expected a false discovery rate between 0 and 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed={seed!r}: expected a whole number >= 0")
    if support not in ("commune", "level"):
        raise InputError(f"support={support!r}: expected 'commune' or 'level'")


def _counts(
    store: StoreOrFiles,
    level: str,
    sectors: SectorSpec,
    engine: str | Analytics | None,
    at: dt.date | None,
    reporter: Reporter,
    support: Support,
) -> tuple[EstablishmentCounts, Counts, Support]:
    """Establishments of the Gi* support (communes) and Counts of the candidate level, from
    one engine pass.

    Establishment rows are counted once by commune and rolled up to the level
    (:func:`~grappe.detection.aggregate.aggregate_levels`), closures and start-of-window
    stock of communes without establishment at the snapshot included.
    """
    if support == "level" or level == "commune":
        counts = aggregate(store, level, sectors, at=at, engine=engine, reporter=reporter)
        return EstablishmentCounts.of(counts), counts, "level" if level != "commune" else "commune"
    try:
        both = aggregate_levels(
            store, ("commune", level), sectors, at=at, engine=engine, reporter=reporter,
            establishments_only=("commune",),
        )
    except InputError as exc:
        # Aggregated tables stored above the commune level cannot go down to communes.
        if "cannot give level 'commune'" not in str(exc):
            raise
        counts = aggregate(store, level, sectors, at=at, engine=engine, reporter=reporter)
        return EstablishmentCounts.of(counts), counts, "level"
    fine, rolled = both["commune"], both[level]
    assert isinstance(fine, EstablishmentCounts)
    assert isinstance(rolled, Counts)
    return fine, rolled, "commune"


@lru_cache(maxsize=8)
def _level_weights(level: str, ze_key: object) -> SpatialWeights:
    """Contiguity of every territory of a level, islands tied to their nearest territory."""
    from grappe.refdata import territories

    levels = territories.commune_levels()
    codes = pc.unique(levels.column(level).drop_null()).to_pylist()
    weights = contiguity(np.asarray(sorted(codes)), level)
    if len(weights.islands) == 0:
        return weights
    centroids = territories.centroids(level)
    located = centroids.filter(pc.is_valid(centroids.column("x")))
    located_codes = np.asarray(located.column("code").to_pylist(), dtype=str)
    inside = np.isin(weights.ids, located_codes)
    sub = weights.reindex(weights.ids[inside])
    coords = located.filter(pc.is_in(located.column("code"), pa.array(sub.ids.tolist())))
    filled = sub.fill_islands(coords, k=_ISLAND_K)
    if inside.all():
        return filled
    # Territories without coordinates keep no neighbour (never tested).
    coo = filled.adjacency.tocoo()
    rows = np.searchsorted(weights.ids, filled.ids[coo.row])
    cols = np.searchsorted(weights.ids, filled.ids[coo.col])
    return SpatialWeights.from_pairs(weights.ids, rows, cols, filled.kind)


def _weights(level: str) -> SpatialWeights:
    from grappe.refdata import territories

    key = territories._ze_key() if level == "ze" else None  # follows a re-import of the ZE
    return _level_weights(level, key)


@dataclass(frozen=True)
class _Test:
    """Gi* outcome on the tested support cells (flat, row-major on weights.ids x sectors)."""

    rows: npt.NDArray[np.int32]  # support territory (row of the weights)
    cols: npt.NDArray[np.int32]  # sector
    z: FloatArray
    p: FloatArray
    p_adjusted: FloatArray
    ids: npt.NDArray[np.str_]
    sectors: npt.NDArray[np.str_]
    valid_sector: npt.NDArray[np.bool_]


def _significance(
    fine: EstablishmentCounts,
    weights: SpatialWeights,
    permutations: int,
    seed: int,
    alpha: float,
    max_permutations: int,
    reporter: Reporter,
    tested: npt.NDArray[np.bool_] | None = None,
) -> _Test:
    """Gi* hot-spot p-values of establishments on the support, refined below 1 / (P + 1).

    ``tested`` (one flag per sector of ``fine``) limits the test to those sectors; the
    others keep empty columns. The expected counts use every establishment either way.
    """
    n, s = weights.n, len(fine.sectors)
    located = np.searchsorted(weights.ids, fine.territories)
    located = np.minimum(located, n - 1)
    inside = weights.ids[located] == fine.territories
    est = fine.establishments.tocoo()
    keep = inside[est.row]
    if tested is not None:
        keep &= tested[est.col]
    # The surprise of each count, not the count (see the module notes): raw counts follow
    # the density of the fabric and would make every dense area a hot spot of every sector.
    data = est.data[keep]
    row_total = np.asarray(fine.establishments.sum(axis=1)).ravel()
    col_total = np.asarray(fine.establishments.sum(axis=0)).ravel()
    expected = row_total[est.row[keep]] * col_total[est.col[keep]] / col_total.sum()
    data = _surprise(data, expected)
    values = sp.csc_array(
        (data, (located[est.row[keep]], est.col[keep])), shape=(n, s)
    )
    values.sum_duplicates()
    values.eliminate_zeros()
    rng = np.random.default_rng(seed)
    result = getis_ord(
        values,
        weights,
        transform="B",
        permutations=permutations,
        rng=rng if permutations else None,
        sectors=fine.sectors,
        reporter=reporter,
        max_permutations=max_permutations if permutations else None,
        alpha=alpha,
    )
    # Only cells in the upper tail can be hot spots; the others (upper-tail p-value >= 1/2)
    # enter their family with p = 1, which can only make the calls more conservative, and
    # halves the arrays kept from tens of millions of tested cells.
    upper = np.flatnonzero(result.cell_tail > 0)
    rows, cols = result.cell_rows[upper], result.cell_cols[upper]  # 32-bit, sector-major
    z = result.cell_z[upper]
    if permutations:
        p = result.p_sim_of(upper)
        floor = np.flatnonzero(result.cell_folded[upper] == 0)  # upper tail: folded = larger
        if len(floor):
            f_rows, f_cols = rows[floor].astype(np.int64), cols[floor].astype(np.int64)
            totals = np.asarray(values.sum(axis=0)).ravel()
            gi = result.cell_statistic[upper[floor]]
            own = np.asarray(values[f_rows, f_cols]).ravel()
            lag = gi * totals[f_cols] - own
            bound = _hypergeometric_bound(values, weights, f_rows, f_cols, lag)
            p[floor] = np.minimum(p[floor], bound)
    else:
        p = np.asarray(stats.norm.sf(z))
    # Sectors without variance have no test at all.
    valid_sector = result.valid_sector
    del result, upper
    # Each sector's family is every support territory, the untested ones with p = 1.
    families = cols.astype(np.uint16) if s < 2**16 else cols  # less memory
    p_adjusted = benjamini_hochberg(p, families, np.full(s, n))
    del families
    return _Test(rows, cols, z, p, p_adjusted, weights.ids, fine.sectors, valid_sector)


def _surprise(observed: FloatArray, expected: FloatArray) -> FloatArray:
    """``-log10 P(X >= observed)`` for ``X ~ Poisson(expected)``: 0 for no establishment.

    Under the null (a sector spread like all establishments) ``P(v >= t) <= 10 ** -t`` in
    every commune, dense or sparse: the values share one tail, as the permutation test
    assumes.
    """
    log_sf = stats.poisson.logsf(observed - 1.0, expected)
    return np.minimum(-log_sf / math.log(10.0), _SURPRISE_CAP)


def _hypergeometric_bound(
    values: sp.csc_array,
    weights: SpatialWeights,
    rows: IntArray,
    cols: IntArray,
    lag: FloatArray,
) -> FloatArray:
    """Upper bound of the conditional-permutation p-value ``P(D >= lag)`` of each cell.

    ``D`` is the sum of ``c_i`` values drawn without replacement among the other
    territories. Reaching ``lag`` takes at least ``j*`` non-zero draws, ``j*`` the fewest of
    the other territories' largest values whose sum reaches ``lag``; the count of non-zero
    draws is hypergeometric.
    """
    n = weights.n
    cards = weights.cardinalities[rows]
    own = np.asarray(values[rows, cols]).ravel()
    needed = np.empty(len(rows), dtype=np.int64)
    nonzero = np.diff(values.indptr)
    for j in np.unique(cols).tolist():
        at = np.flatnonzero(cols == j)
        column = values.data[values.indptr[j] : values.indptr[j + 1]]
        ascending = np.sort(column)
        top = np.cumsum(ascending[::-1])  # top[k - 1]: sum of the k largest values
        target = lag[at] * (1.0 - _TIE_RTOL)
        # The draws come from the other territories: the cell's own value, when among the
        # largest, is not available. With ``r`` its rank (1 = largest), the others' k
        # largest sum to top[k - 1] for k < r and to top[k] - own from k = r on.
        rank = len(ascending) - np.searchsorted(ascending, own[at], side="right") + 1
        first = np.searchsorted(top, target, side="left") + 1
        without = np.searchsorted(top, target + own[at], side="left")
        needed[at] = np.where((first < rank) | (own[at] <= 0), first, np.maximum(rank, without))
    needed[lag <= 0] = 0  # an empty neighbour sum is always reached
    others_nonzero = nonzero[cols] - (own > 0)
    bound = _hypergeometric_sf(needed, n - 1, others_nonzero, cards)
    # The observed draw itself has a positive probability: never report exactly zero.
    return np.maximum(bound, np.finfo(np.float64).tiny)


def _hypergeometric_sf(
    j: IntArray, population: int, successes: IntArray, draws: IntArray
) -> FloatArray:
    """``P(H >= j)`` for ``H`` hypergeometric, vectorised (scipy's ``sf`` loops per element).

    The first term comes from log-gamma functions, the next ones from the ratio of
    consecutive terms; the loop runs over the at most ``max(draws)`` terms, not the cells.
    """
    from scipy.special import gammaln

    j = np.asarray(j, dtype=np.int64)
    k = np.asarray(successes, dtype=np.float64)
    c = np.asarray(draws, dtype=np.float64)
    big_n = float(population)
    last = np.minimum(k, c)
    start = np.maximum(j, 0).astype(np.float64)
    possible = start <= last
    h = np.where(possible, start, 0.0)

    def log_choose(a: FloatArray, b: FloatArray) -> FloatArray:
        return np.asarray(gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1))

    with np.errstate(invalid="ignore"):
        log_term = (
            log_choose(k, h) + log_choose(big_n - k, c - h) - log_choose(np.full_like(k, big_n), c)
        )
    term = np.where(possible, np.exp(log_term), 0.0)
    total = term.copy()
    for _ in range(int(np.max(last - h, initial=0))):
        going = possible & (h < last)
        if not going.any():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (k - h) * (c - h) / ((h + 1.0) * (big_n - k - c + h + 1.0))
        term = np.where(going, term * ratio, 0.0)
        total += term
        h = np.where(going, h + 1.0, h)
    return np.minimum(total, 1.0)


def _lift(
    test: _Test,
    level_territories: npt.NDArray[np.str_],
    level_sectors: npt.NDArray[np.str_],
    cand_rows: IntArray,
    cand_cols: IntArray,
    support: Support,
    level: str,
) -> tuple[dict[str, np.ndarray], IntArray]:
    """The most significant support territory of each candidate (row ``cand_rows`` of the
    level's territories, column ``cand_cols`` of its sectors, in row-major order): gi_z and
    p-values, and the index of the hot spot among the support territories (-1: none)."""
    s = len(level_sectors)
    # The support and the level may hold different sectors: align their columns by code.
    column = np.searchsorted(level_sectors, test.sectors)
    column = np.minimum(column, s - 1)
    known_sector = level_sectors[column] == test.sectors
    support_ids = test.ids
    if support == "commune" and level != "commune":
        from grappe.refdata import territories

        parent = territories.parents(support_ids, level)
    else:
        parent = support_ids
    t_index = np.searchsorted(level_territories, parent)
    t_index = np.minimum(t_index, len(level_territories) - 1)
    has_parent = level_territories[t_index] == parent
    # The candidate of each tested cell (-1: outside every candidate, or of a territory or
    # sector the level does not hold), then per candidate, in one compiled pass: the smallest
    # p, among those the largest z, among those the first territory (tens of millions of
    # tested cells, none copied).
    ok = has_parent[test.rows] & known_sector[test.cols]
    key = t_index[test.rows].astype(np.int64) * s + column[test.cols]
    key[~ok] = -1
    del ok
    # The candidates come in row-major order: their keys are sorted.
    cand_key = cand_rows.astype(np.int64) * s + cand_cols
    n_cand = len(cand_key)
    at = positions(cand_key, key)
    del key
    valid = np.zeros(s, dtype=bool)
    valid[column[known_sector & test.valid_sector]] = True
    out_p = np.ones(n_cand)
    best_z = np.full(n_cand, -np.inf)
    first = np.full(n_cand, np.iinfo(np.int64).max)
    out_padj = np.where(valid[cand_cols], 1.0, np.nan)
    # Benjamini-Hochberg is monotone in p within a sector: the smallest p has the smallest
    # adjusted p.
    best_per_group(at, test.p, test.z, test.rows, test.p_adjusted, out_p, best_z, first, out_padj)
    found = first < np.iinfo(np.int64).max
    out_z = np.where(found & np.isfinite(best_z), best_z, np.nan)
    hotspot = np.where(found, first, -1)
    return {"gi_z": out_z, "p_value": out_p, "p_adjusted": out_padj}, hotspot


def _sector_creation_rates(counts: Counts) -> FloatArray:
    """Creation rate of every sector nationally (created / stock at the window start)."""
    if counts.dynamics is None:
        return np.full(len(counts.sectors), np.nan)
    created = np.asarray(counts.dynamics.created.sum(axis=0)).ravel()
    stock = np.asarray(counts.dynamics.stock_start.sum(axis=0)).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(stock > 0, created / stock, np.nan)
    if not counts.from_establishments:
        rate[:] = np.nan
    return rate


def _mass(
    frame: pd.DataFrame, counts: Counts, rows: IntArray, cols: IntArray, minimum: MinimumMass
) -> tuple[Basis, FloatArray, npt.NDArray[np.bool_]]:
    """The basis, the mass of each cell (its employer establishments, or its establishments
    without headcounts) and the cells reaching ``minimum``; adds ``employer_establishments``
    (NaN without headcounts)."""
    establishments = frame["establishments"].to_numpy(dtype=np.float64)
    if not counts.employment.nnz:
        frame["employer_establishments"] = np.nan
        basis: Basis = "establishments"
        mass = establishments
    else:
        basis = "employment"
        # URSSAF's and generic tables' establishments with headcounts are employers already.
        employer = counts.employer_establishments
        mass = establishments if employer is None else _values(employer, rows, cols)
        frame["employer_establishments"] = mass
    return basis, mass, minimum.keeps(mass, frame["employment"].to_numpy(), basis)


def _specialisation_interval(frame: pd.DataFrame, mass: FloatArray) -> None:
    """Add the credible interval of the location quotient, resting on the cell's mass."""
    low, high = lq_credible_interval(frame["lq"].to_numpy(dtype=np.float64), mass)
    frame["lq_credible_low"] = low
    frame["lq_credible_high"] = high


def _add_reasons(
    frame: pd.DataFrame, basis: Basis, from_establishments: bool, n_sectors: int
) -> None:
    """Add the rank within the sector, the candidates of the sector and the reasons, to
    candidates ordered best first."""
    codes, _ = pd.factorize(frame["sector"])
    rank, count = sector_ranks(codes, max(n_sectors, int(codes.max(initial=-1)) + 1))
    frame["sector_rank"] = rank
    frame["sector_candidates"] = count
    frame["reasons"] = pd.Series(
        reasons(frame, basis, from_establishments), dtype=pd.StringDtype(na_value=np.nan)
    )


def _names(
    level_territories: np.ndarray, level_sectors: np.ndarray, level: str, sectors: SectorSpec
) -> tuple[np.ndarray, np.ndarray]:
    """The names of the level's territories and sectors (the code itself without one)."""
    from grappe.refdata import territories

    territory_names = territories.names(level)
    labels = _sector_labels(sectors)
    return (
        np.array([territory_names.get(c, c) for c in level_territories.tolist()], dtype=object),
        np.array([labels.get(c, c) for c in level_sectors.tolist()], dtype=object),
    )


def _sector_labels(sectors: SectorSpec) -> dict[str, str]:
    """Code -> name of the sectors: the groups' names, else the NAF labels."""
    from grappe.refdata import naf

    groups = _groups_of(sectors)
    if groups is not None:
        return {g.code: g.name for g in groups}
    table = naf.table()
    return dict(zip(table["code"].to_pylist(), table["label"].to_pylist(), strict=True))


def _groups_of(sectors: SectorSpec) -> list[SectorGroup] | None:
    return _sector_spec(sectors)[1]


def _rank(
    frame: pd.DataFrame, strings: dict[str, tuple[np.ndarray, npt.NDArray[np.integer]]]
) -> pd.DataFrame:
    """Order by score (ties: significant first, larger mass, then codes) and rank.

    The frame comes in (territory code, sector) order (the indicators' cells, row-major on
    sorted codes), and lexsort is stable: the row position breaks the last ties as the codes
    would. ``strings`` gives each text column as labels and the index of each row's label;
    the columns are gathered by Arrow in the final order (millions of rows at commune level,
    where building Python strings would cost seconds).
    """
    # Ties: the larger mass first (employer establishments; establishments without them).
    employers = frame["employer_establishments"].to_numpy()
    mass = np.where(np.isnan(employers), frame["establishments"].to_numpy(), employers)
    order = np.lexsort(
        (
            -mass,
            ~frame["significant"].to_numpy(),
            -frame["score"].to_numpy(),
        )
    )
    # Column by column, each released from the input once reordered: one copy at a time.
    columns: dict[str, Any] = {"rank": np.arange(1, len(order) + 1, dtype=np.int64)}
    text = pd.StringDtype(na_value=np.nan)
    for name in CANDIDATE_COLUMNS:
        if name in strings:
            labels, index = strings[name]
            gathered = pa.array(labels.tolist(), pa.string()).take(pa.array(index[order]))
            columns[name] = pd.Series(gathered, dtype=text)
        elif name in frame.columns:
            columns[name] = frame.pop(name).to_numpy()[order]
    columns["stars"] = columns["stars"].astype(np.int64)
    columns["strong"] = columns["strong"].astype(bool)
    columns["significant"] = columns["significant"].astype(bool)
    columns["traded"] = columns["traded"].astype(bool)
    # The columns that depend on the order (rank within the sector, reasons) come after.
    return pd.DataFrame(
        {name: columns[name] for name in CANDIDATE_COLUMNS if name in columns}, copy=False
    )


def _geojson_text(frame: pd.DataFrame, level: str) -> str:
    """A FeatureCollection of Points at the territories' population-weighted centroids."""
    from grappe.refdata import territories

    centroids = territories.centroids(level)
    codes = np.asarray(centroids.column("code").to_pylist(), dtype=str)
    lon = np.asarray(centroids.column("lon").to_pylist(), dtype=object)
    lat = np.asarray(centroids.column("lat").to_pylist(), dtype=object)
    wanted = frame["territory_code"].to_numpy().astype(str)
    pos = np.minimum(np.searchsorted(codes, wanted), max(len(codes) - 1, 0))
    found = codes[pos] == wanted
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    features = []
    for k, record in enumerate(records):
        x, y = (lon[pos[k]], lat[pos[k]]) if found[k] else (None, None)
        geometry = (
            {"type": "Point", "coordinates": [round(float(x), 6), round(float(y), 6)]}
            if x is not None and y is not None
            else None
        )
        features.append({"type": "Feature", "geometry": geometry, "properties": record})
    return json.dumps(
        {"type": "FeatureCollection", "features": features},
        ensure_ascii=False,
        default=json_default,
        allow_nan=False,
    ) + "\n"
