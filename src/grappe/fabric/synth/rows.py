"""The rows of a synthetic file, chunk by chunk: identifiers, places, activities, dates, defects."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grappe.fabric.synth.laws import (
    BAND_SHARES,
    CHUNK_ROWS,
    COMPLEMENT_ARRAY,
    COMPLEMENTS,
    DAYS_PER_YEAR,
    DEFECTS,
    FIRST_CREATION,
    GROWTH,
    HAZARD_OLD,
    HAZARD_YOUNG,
    IMPOSSIBLE_DATES,
    MULTI_ESTABLISHMENT_SHARE,
    POSTAL_CODES,
    POSTAL_LABELS,
    SCHEMA,
    SIREN_LOW,
    SIREN_SPAN,
    SIREN_STEP,
    SIRENE_COLUMNS,
    STOCK_DATE,
    STREET_NAME_ARRAY,
    STREET_NAMES,
    STREET_TYPE_ARRAY,
    STREET_TYPE_WEIGHTS,
    SURNAME_ARRAY,
    SURNAMES,
    YOUNG_YEARS,
)
from grappe.fabric.synth.tables import Plan, Tables, draw


def luhn_valid(numbers: np.ndarray, digits: int) -> np.ndarray:
    """Whether each number passes the Luhn check (as SIREN and SIRET keys must).

    Parameters
    ----------
    numbers
        Non-negative integers (``int64``), e.g. SIRENs or SIRETs as numbers.
    digits
        How many digits the identifiers have (9 for a SIREN, 14 for a SIRET); leading
        zeros count.

    Returns
    -------
    numpy.ndarray
        Booleans, one per number.

    Examples
    --------
    >>> luhn_valid(np.array([732829320, 732829321]), 9).tolist()
    [True, False]
    """
    return _luhn_sum(np.asarray(numbers, dtype=np.int64), digits, double_first=False) % 10 == 0


def _luhn_sum(numbers: np.ndarray, digits: int, *, double_first: bool) -> np.ndarray:
    """Luhn digit sum, counting from the rightmost digit (doubled when ``double_first``)."""
    rest = numbers.copy()
    total = np.zeros_like(rest)
    for position in range(digits):  # a loop over digit positions, not over rows
        digit = rest % 10
        rest //= 10
        if (position % 2 == 0) == double_first:
            digit = digit * 2
            digit -= 9 * (digit > 9)
        total += digit
    return total


def _luhn_key(payload: np.ndarray, digits: int) -> np.ndarray:
    """The check digit that makes ``payload * 10 + key`` Luhn-valid."""
    return (10 - _luhn_sum(payload, digits, double_first=True) % 10) % 10




def _as_string(values: np.ndarray, width: int = 0) -> pa.Array:
    """Integers as strings, left-padded with zeros to ``width``."""
    text = pc.cast(pa.array(values, pa.int64()), pa.string())
    return pc.utf8_lpad(text, width, "0") if width else text


def _dates(days: np.ndarray) -> pa.Array:
    """Days since 1970-01-01 as ``YYYY-MM-DD`` strings."""
    return pc.cast(pa.array(days.astype(np.int32), pa.date32()), pa.string())


def generate(
    tables: Tables, plan: Plan, seed: int, rows: int, invalid_rate: float
) -> Iterator[tuple[pa.Table, dict[str, int]]]:
    """The chunks of the file, in order, with their defect counts."""
    firms_before = 0  # legal units of the previous chunks, so that SIRENs never repeat
    for chunk, start in enumerate(range(0, rows, CHUNK_ROWS)):
        table, counts, firms = _chunk(
            tables, plan, seed=seed, chunk=chunk, start=start,
            n=min(CHUNK_ROWS, rows - start), firms_before=firms_before,
            invalid_rate=invalid_rate,
        )
        firms_before += firms
        yield table, counts


def _chunk(
    tables: Tables, plan: Plan, *, seed: int, chunk: int, start: int, n: int,
    firms_before: int, invalid_rate: float,
) -> tuple[pa.Table, dict[str, int], int]:
    """Rows ``start .. start + n`` of the file (chunk number ``chunk``), defects, firm count."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1, chunk]))
    row = np.arange(n)

    # Legal units: 1 establishment, or 1 + Zipf; the last firm is cut at the chunk's end.
    size = 1 + np.where(rng.random(n) < MULTI_ESTABLISHMENT_SHARE,
                        np.minimum(rng.zipf(2.2, n), 200), 0)
    end = np.cumsum(size)
    n_firms = int(np.searchsorted(end, n)) + 1
    size = size[:n_firms]
    size[-1] -= int(end[n_firms - 1]) - n
    firm = np.repeat(np.arange(n_firms), size)
    rank = row - np.concatenate(([0], np.cumsum(size)[:-1]))[firm]
    firm_number = firms_before + np.arange(n_firms, dtype=np.int64)
    offset = int(np.random.SeedSequence([seed, 2]).generate_state(1)[0]) % SIREN_SPAN
    base = SIREN_LOW + (SIREN_STEP * firm_number + offset) % SIREN_SPAN
    siren = (base * 10 + _luhn_key(base, 8))[firm]
    seq = (rng.geometric(0.45, n_firms)[firm] + rank).astype(np.int64)
    payload = siren * 10_000 + seq
    nic_key = _luhn_key(payload, 13)

    # Activity (secondary establishments mostly keep their firm's), place, size.
    naf = draw(tables.naf_cdf, rng.random(n_firms))[firm]
    redraw = (rank > 0) & (rng.random(n) < 0.3)
    naf = np.where(redraw, draw(tables.naf_cdf, rng.random(n)), naf)
    commune = draw(tables.commune_cdf, rng.random(n))
    band_u = rng.random(n)

    # Dates, in days since 1970-01-01.
    stock = int(STOCK_DATE.astype(np.int64))
    origin = int(FIRST_CREATION.astype(np.int64))
    span_years = (stock - origin) / DAYS_PER_YEAR
    years = np.log1p(rng.random(n_firms) * np.expm1(GROWTH * span_years)) / GROWTH
    firm_created = (origin + np.floor(years * DAYS_PER_YEAR).astype(np.int64))[firm]
    later = firm_created + np.floor(rng.random(n) * (stock - firm_created)).astype(np.int64)
    created = np.where(rank == 0, firm_created, later).clip(max=stock - 1)
    hazard = rng.standard_exponential(n)
    young = HAZARD_YOUNG * YOUNG_YEARS
    life_years = np.where(hazard < young, hazard / HAZARD_YOUNG,
                          YOUNG_YEARS + (hazard - young) / HAZARD_OLD)
    closure = created + np.maximum(1, np.floor(life_years * DAYS_PER_YEAR)).astype(np.int64)
    changed = created + np.floor(rng.random(n) * (stock - created)).astype(np.int64)
    debut_active = np.where(rng.random(n) < 0.3, changed, created)
    extra_periods = rng.poisson(0.25, n)
    stale_nn = rng.random(n) < 0.85
    processed_u = rng.random(n)
    processed_second = rng.integers(0, 86_400, n)
    employee_year = np.where(rng.random(n) < 0.75, 2022, 2021)
    has_number = rng.random(n) < 0.85
    number = 1 + np.minimum(np.floor(rng.standard_exponential(n) * 30), 998).astype(np.int64)
    repeat = rng.random(n)
    street_cdf = np.cumsum(np.array(STREET_TYPE_WEIGHTS) / sum(STREET_TYPE_WEIGHTS))
    street_type = draw(street_cdf, rng.random(n))
    street_name = rng.integers(0, len(STREET_NAMES), n)
    has_complement = rng.random(n) < 0.06
    complement = rng.integers(0, len(COMPLEMENTS), n)
    has_name = rng.random(n) < 0.3
    surname = rng.integers(0, len(SURNAMES), n)
    # Truncated at 3 sigma so that no point leaves the Lambert-93 extent of its region.
    scatter = rng.standard_normal((2, n)).clip(-3.0, 3.0)

    # Planted establishments take the place of background rows at their positions.
    lo, hi = np.searchsorted(plan.position, [start, start + n])
    planted_rows = plan.position[lo:hi] - start
    planted_cluster = np.zeros(n, dtype=np.int64)
    planted_cluster[planted_rows] = plan.cluster[lo:hi]
    is_planted = np.zeros(n, dtype=bool)
    is_planted[planted_rows] = True
    naf[planted_rows] = plan.naf[plan.cluster[lo:hi]]
    commune[planted_rows] = plan.commune[lo:hi]
    band_row = np.where(is_planted, tables.band_cdf.shape[0] - 1, tables.naf_section[naf])
    band = (tables.band_cdf[band_row] < band_u[:, None]).sum(axis=1).clip(max=len(BAND_SHARES) - 1)

    closed = (closure < stock) & ~is_planted
    debut = np.where(closed, closure, debut_active)
    debut_year = debut.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    # A closed establishment rarely keeps a headcount band, never one older than 2001.
    band = np.where(closed & (stale_nn | (debut_year < 2001)), tables.band_nn, band)
    band_year = np.where(closed, np.minimum(debut_year - 1, employee_year), employee_year)
    periods = 1 + (debut != created) + extra_periods + closed

    # Defects: an exact share of the rows (rounded on the global row count), never planted.
    n_bad = round(invalid_rate * (start + n)) - round(invalid_rate * start)
    candidates = np.flatnonzero(~is_planted)
    n_bad = min(n_bad, candidates.size)
    bad = np.sort(rng.choice(candidates, n_bad, replace=False)) if n_bad else row[:0]
    kind = rng.integers(0, len(DEFECTS), bad.size)
    impossible = rng.integers(0, len(IMPOSSIBLE_DATES), bad.size)
    before = 30 + rng.integers(0, 3000, bad.size)
    wrong = 1 + rng.integers(0, 9, bad.size)
    postal = rng.integers(0, len(POSTAL_CODES), bad.size)
    counts = {name: int((kind == k).sum()) for k, name in enumerate(DEFECTS)}

    def defect(name: str) -> np.ndarray:
        return kind == DEFECTS.index(name)

    nic = seq * 10 + nic_key
    siret = payload * 10 + nic_key
    rows = bad[defect("siret_luhn")]
    wrong_key = (nic_key[rows] + wrong[defect("siret_luhn")]) % 10
    nic[rows] = seq[rows] * 10 + wrong_key
    siret[rows] = payload[rows] * 10 + wrong_key
    rows = bad[defect("siret_nic_mismatch")]
    nic[rows] = (seq[rows] + 1) * 10 + _luhn_key(payload[rows] + 1, 13)
    naf_pick = naf.copy()
    naf_pick[bad[defect("naf_unknown")]] = len(tables.naf_code)
    commune_pick = commune.copy()
    rows = bad[defect("commune_unknown")]
    commune_pick[rows] = len(tables.commune_code) + postal[defect("commune_unknown")]
    band_pick = band.copy()
    band_pick[bad[defect("size_band_unknown")]] = len(BAND_SHARES)
    rows = bad[defect("closure_before_creation")]
    closed[rows] = True
    debut[rows] = created[rows] - before[defect("closure_before_creation")]
    created_text = _dates(created)
    rows = bad[defect("date_impossible")]
    if rows.size:
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        dates = pa.array(np.array(IMPOSSIBLE_DATES)[impossible[defect("date_impossible")]])
        created_text = pc.replace_with_mask(created_text, pa.array(mask), dates)

    # Strings, column by column, in Arrow.
    midnight = int(np.datetime64("2014-01-01", "D").astype(np.int64))
    processed_lo = np.maximum(debut, midnight)
    processed_day = processed_lo + np.floor(processed_u * (stock - processed_lo)).astype(np.int64)
    processed = pc.strftime(
        pa.array(processed_day * 86_400 + processed_second, pa.timestamp("s")),
        format="%Y-%m-%dT%H:%M:%S",
    )
    x = tables.commune_x[commune] + scatter[0] * tables.commune_sigma[commune]
    y = tables.commune_y[commune] + scatter[1] * tables.commune_sigma[commune]
    has_xy = ~np.isnan(x)
    word = pc.if_else(
        pa.array(is_planted),
        plan.trade.take(pa.array(planted_cluster)),
        tables.section_word.take(pa.array(tables.naf_section[naf])),
    )
    enseigne = pc.binary_join_element_wise(word, SURNAME_ARRAY.take(pa.array(surname)), " ")
    columns: dict[str, pa.Array] = {
        "siren": _as_string(siren, 9),
        "nic": _as_string(nic, 5),
        "siret": _as_string(siret, 14),
        "statutDiffusionEtablissement": _constant("O", n),
        "dateCreationEtablissement": created_text,
        "trancheEffectifsEtablissement": _pick(tables.band_code, ("7X",), band_pick),
        "anneeEffectifsEtablissement": _masked(_as_string(band_year), band != tables.band_nn),
        "dateDernierTraitementEtablissement": processed,
        "etablissementSiege": _choose(rank == 0, "true", "false"),
        "nombrePeriodesEtablissement": _as_string(periods),
        "complementAdresseEtablissement": _masked(
            COMPLEMENT_ARRAY.take(pa.array(complement)), has_complement
        ),
        "numeroVoieEtablissement": _masked(_as_string(number), has_number),
        "indiceRepetitionEtablissement": _masked(
            _choose(repeat < 0.03, "B", "T"), has_number & (repeat < 0.04)
        ),
        "typeVoieEtablissement": STREET_TYPE_ARRAY.take(pa.array(street_type)),
        "libelleVoieEtablissement": STREET_NAME_ARRAY.take(pa.array(street_name)),
        "libelleCommuneEtablissement": _pick(tables.commune_label, POSTAL_LABELS, commune_pick),
        "codeCommuneEtablissement": _pick(tables.commune_code, POSTAL_CODES, commune_pick),
        "coordonneeLambertAbscisseEtablissement": _masked(_decimals(x), has_xy),
        "coordonneeLambertOrdonneeEtablissement": _masked(_decimals(y), has_xy),
        "dateDebut": _dates(debut),
        "etatAdministratifEtablissement": _choose(closed, "F", "A"),
        "enseigne1Etablissement": _masked(enseigne, has_name | is_planted),
        "activitePrincipaleEtablissement": _pick(tables.naf_code, ("99.99Z",), naf_pick),
        "nomenclatureActivitePrincipaleEtablissement": _constant("NAFRev2", n),
        "caractereEmployeurEtablissement": _choose(tables.band_employer[band], "O", "N"),
    }
    empty = pa.nulls(n, pa.string())
    arrays = [columns.get(name, empty) for name in SIRENE_COLUMNS]
    return pa.Table.from_arrays(arrays, schema=SCHEMA), counts, n_firms


def _constant(value: str, n: int) -> pa.Array:
    """The same string on every row."""
    return pa.array([value], pa.string()).take(pa.array(np.zeros(n, dtype=np.int64)))


def _choose(condition: np.ndarray, yes: str, no: str) -> pa.Array:
    """``yes`` where ``condition`` holds, ``no`` elsewhere."""
    return pa.array([no, yes], pa.string()).take(pa.array(condition.astype(np.int64)))


def _pick(values: pa.Array, defects: tuple[str, ...], index: np.ndarray) -> pa.Array:
    """``values[index]``, where indexes past the end stand for the ``defects`` values."""
    return pa.concat_arrays([values, pa.array(defects, pa.string())]).take(pa.array(index))


def _decimals(values: np.ndarray) -> pa.Array:
    """Coordinates in metres with one decimal, as strings (NaN become 0, masked by callers)."""
    return pc.cast(pa.array(np.round(np.nan_to_num(values), 1)), pa.string())


def _masked(values: pa.Array, keep: np.ndarray) -> pa.Array:
    """``values`` where ``keep`` is true, null (an empty CSV field) elsewhere."""
    return pc.if_else(pa.array(keep), values, pa.scalar(None, values.type))


