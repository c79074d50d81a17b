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
   and Benjamini–Hochberg control across the communes of each sector
   (:mod:`grappe.detection.hotspots`).
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
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from grappe.detection.aggregate import SectorSpec, StoreOrFiles, aggregate, aggregate_levels
from grappe.detection.aggregate.sources import _sector_spec
from grappe.detection.aggregate.tables import RollUpError
from grappe.detection.cells import _values
from grappe.detection.counts import TERRITORY_LEVELS, Counts, EstablishmentCounts
from grappe.detection.hotspots import FloatArray, IntArray, Support, _lift, _significance, _weights
from grappe.detection.indicators import indicators
from grappe.detection.measures import Measure
from grappe.detection.output import file_format, json_default, write_frame
from grappe.detection.ranking import (
    Basis,
    MinimumMass,
    ScoreWeights,
    add_score,
    lq_credible_interval,
    reasons,
    sector_ranks,
)
from grappe.detection.reference import OWN_REFERENCE, reference_at_snapshot
from grappe.detection.rules import RuleThresholds, apply_rules
from grappe.detection.sector_groups import SectorGroup, traded_sectors
from grappe.detection.significance import ALPHA, MAX_PERMUTATIONS, PERMUTATIONS
from grappe.errors import InputError
from grappe.memory import release_freed_memory
from grappe.progress import SILENT, Reporter
from grappe.storage.analytics import Analytics

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
    "reference",
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
    reference : str
        What the location quotients and sizes compare with (:mod:`grappe.detection.reference`):
        the reference store's name, or :data:`~grappe.detection.reference.OWN_REFERENCE`
        when the store is its own reference; also the ``reference`` column of every row.
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
    reference: str = OWN_REFERENCE

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

    def map(self, path: Path | str, top: int = 20, source: str = "") -> Path:
        """Draw the ``top`` candidates on a map of France, PNG or SVG by the suffix of ``path``.

        ``source`` names the data in the caption. See
        :func:`grappe.detection.maps.candidates_map`.
        """
        from grappe.detection.maps import candidates_map

        return candidates_map(self.top(top), Path(path), self.territory_level,
                              title_date=self.date, source=source)

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
    permutations: int = PERMUTATIONS,
    alpha: float = ALPHA,
    seed: int = 0,
    reporter: Reporter = SILENT,
    weights: ScoreWeights | None = None,
    support: Support = "commune",
    max_permutations: int | None = MAX_PERMUTATIONS,
    minimum_mass: MinimumMass | None = None,
    include_local: bool = False,
    reference: StoreOrFiles | None = None,
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
        Conditional permutations of the Gi* test (``PERMUTATIONS`` by default; 0 for
        analytic p-values only).
    alpha : float
        False discovery rate of the ``significant`` call, in (0, 1).
    seed : int
        Seed of the permutations: the same seed gives the same candidates, bit for bit.
    reporter : Reporter
        Progress of the steps.
    weights : ScoreWeights, optional
        Weights of the score components (defaults: :class:`ScoreWeights`).
    support : {"commune", "level"}
        Territories of the Gi* test: communes (default; see :mod:`grappe.detection.hotspots`) or the
        territories of ``level``.
    max_permutations : int, optional
        Cap of the sequential refinement of :func:`~grappe.detection.significance.getis_ord`
        (more draws, up to this many, only for the cells whose call at ``alpha`` depends on
        them; ``MAX_PERMUTATIONS`` by default). ``None`` (or any value up to
        ``permutations``) turns the refinement off.
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
    reference : FabricStore, Path or sequence of Path, optional
        Another store whose sector totals the location quotients and sizes compare with
        (e.g. the national file for a regional store; :mod:`grappe.detection.reference`),
        counted at the same snapshot date ``at``. Default: the store itself.

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
    compared = None
    if reference is not None:
        with reporter.step("Totaux de la référence"):
            compared = reference_at_snapshot(reference, counts, level, sectors, at, engine)
    reference_name = OWN_REFERENCE if compared is None else compared.name
    groups = _groups_of(sectors)
    sector_traded = traded_sectors(counts.sectors.tolist(), groups)
    measure: Measure = "employment" if counts.employment.nnz else "establishments"
    with reporter.step("Indicateurs, grappes fortes et étoiles"):
        # The columns of the output only (at commune level millions of rows, kept through
        # the test), for the presences; the cells' territory and sector stay integer indices.
        rules = apply_rules(indicators(counts, measure=measure, reference=compared), thresholds)
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
            "reference": (np.array([reference_name]), np.zeros(len(frame), dtype=np.int8)),
            "sector": (level_sectors, cols),
            "sector_name": (sector_names, cols),
            # No hot spot (-1): the label after the support territories, "".
            "hotspot": (np.append(support_ids, ""), np.where(hotspot >= 0, hotspot, len(support_ids))),
        }
        # The ordered output is new memory (at commune level 0.75 GB): first give back what
        # the test freed, which glibc would otherwise keep (about 0.3 GB of the peak there).
        release_freed_memory()
        frame = _rank(frame, strings)
        _add_reasons(frame, basis, from_establishments, len(level_sectors),
                     "" if compared is None else compared.name)
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
        reference=reference_name,
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
    except RollUpError as exc:
        # Aggregated tables stored above the commune level cannot go down to communes.
        if exc.level != "commune":
            raise
        counts = aggregate(store, level, sectors, at=at, engine=engine, reporter=reporter)
        return EstablishmentCounts.of(counts), counts, "level"
    fine, rolled = both["commune"], both[level]
    assert isinstance(fine, EstablishmentCounts)
    assert isinstance(rolled, Counts)
    return fine, rolled, "commune"


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
    frame: pd.DataFrame, basis: Basis, from_establishments: bool, n_sectors: int,
    reference: str = "",
) -> None:
    """Add the rank within the sector, the candidates of the sector and the reasons, to
    candidates ordered best first."""
    codes, _ = pd.factorize(frame["sector"])
    rank, count = sector_ranks(codes, max(n_sectors, int(codes.max(initial=-1)) + 1))
    frame["sector_rank"] = rank
    frame["sector_candidates"] = count
    frame["reasons"] = pd.Series(
        reasons(frame, basis, from_establishments, reference),
        dtype=pd.StringDtype(na_value=np.nan),
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

