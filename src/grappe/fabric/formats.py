"""The input formats (SIRENE stock, SIRENE history periods, URSSAF, generic table) as SQL plans.

Each format says which header columns it needs, then writes two SQL queries over
the temporary table ``raw`` (the projected columns of the file, as text, with the
ordinal ``_k`` of each record):

- ``lines``: one row per record with the values the output needs and the first
  failed check (``_check``, ``_column``, ``_value``, ``_reason``; NULL when valid);
- ``output``: the rows to store, read from ``lines`` where ``_reason IS NULL``.

Everything is set-based: the engine validates millions of rows without a Python loop.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from grappe.errors import FileFormatError
from grappe.fabric.schema import TERRITORY_LEVELS, Kind
from grappe.fabric.sniff import SniffedFile
from grappe.fabric.sqlkit import (
    MIN_DATE,
    MIN_YEAR,
    Check,
    all_digits,
    clean,
    first_failure,
    ident,
    lambert93,
    literal,
    parse_date,
    siren_key_ok,
    siret_key_ok,
    unquoted,
)
from grappe.kit.dates import EXPECTED

FORMAT_CHOICES: Final = ("sirene", "urssaf", "table")
"""Values of ``--format``: ``sirene`` covers the stock file and the history periods."""

NAF_REV2_SHAPE: Final = r"[0-9]{2}\.?[0-9]{2}[A-Za-z]"

# Lambert-93 extent of metropolitan France and Corsica, with a margin.
_L93_X: Final = (0.0, 1_300_000.0)
_L93_Y: Final = (6_000_000.0, 7_200_000.0)
# Overseas communes (97x, 98x) have SIRENE coordinates in local projections, not Lambert-93.
_OVERSEAS: Final = "('97', '98')"

R_MALFORMED_FIELDS: Final = "ligne CSV malformée : nombre de champs incorrect"
R_MALFORMED_QUOTES: Final = "ligne CSV malformée : guillemets"
R_MALFORMED_ENCODING: Final = "ligne CSV malformée : encodage"
MAX_LINE_BYTES: Final = 8 * 1024 * 1024
"""A CSV record longer than this (in bytes) is quarantined as over-long; the rest is read."""
R_TOO_LONG: Final = f"ligne CSV trop longue (plus de {MAX_LINE_BYTES // 2**20} Mio)"


@dataclass(frozen=True)
class Plan:
    """How to import one file: projected columns and the two SQL queries.

    Attributes
    ----------
    format
        ``sirene``, ``sirene-periods``, ``urssaf`` or ``table``.
    kind
        Where the rows go: ``establishments`` or ``aggregates``.
    columns
        Alias used in SQL -> header name in the file, for the columns to read.
    lines, output
        SQL queries described in the module docstring.
    params
        The values ``lines`` binds (the names of the checked columns, as the header writes
        them, and the reasons).
    references
        Reference tables the queries join (see :func:`grappe.fabric.reference.register`).
    """

    format: str
    kind: Kind
    columns: dict[str, str]
    lines: str
    params: dict[str, object]
    output: str
    references: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _Format:
    """A format: its name, its ``--format`` family, what its header lacks, its plan.

    ``missing(found)`` lists the required columns absent from a header (empty: the
    file is of this format); ``needs`` is how many such requirements there are.
    """

    name: str
    family: str
    needs: int
    missing: Callable[[dict[str, str]], list[str]]
    plan: Callable[[dict[str, str], dt.date], Plan]


def _lookup(columns: Sequence[str]) -> dict[str, str]:
    """Header names by their lower-case form (SIRENE names are camelCase; users retype them)."""
    return {c.lower(): c for c in columns}


def _has(found: dict[str, str], *names: str) -> bool:
    return all(n.lower() in found for n in names)


def _absent(found: dict[str, str], names: Sequence[str]) -> list[str]:
    return [n for n in names if not _has(found, n)]


def _get(found: dict[str, str], name: str) -> str | None:
    return found.get(name.lower())


def _text(name: str) -> str:
    return clean(ident(name))


def _exported(name: str) -> str:
    """A text cell an export may have written: its formula quote removed.

    For the free text of the big files (names) and every cell of the small ones; codes,
    dates and numbers of SIRENE are left as read: a valid one never starts with a formula
    character (a quoted one is quarantined either way) and a regular expression on every
    cell of millions of rows would slow the whole validation.
    """
    return unquoted(_text(name))


# --------------------------------------------------------------------------- shared checks


def _siret_checks(has_siret: bool, has_siren: bool, has_nic: bool) -> list[Check]:
    """Identity checks on ``siret`` / ``siren_in`` / ``nic_in`` and ``siret_n`` (as BIGINT)."""
    checks: list[Check] = []
    if has_siret:
        checks.append(Check(
            f"siret IS NULL OR NOT {all_digits('siret', 14)}",
            "siret", "siret", "SIRET mal formé (14 chiffres attendus)",
        ))
    else:
        checks.append(Check(
            f"siren_in IS NULL OR NOT {all_digits('siren_in', 9)}",
            "siren", "siren_in", "SIREN mal formé (9 chiffres attendus)",
        ))
        checks.append(Check(
            f"nic_in IS NULL OR NOT {all_digits('nic_in', 5)}",
            "nic", "nic_in", "NIC mal formé (5 chiffres attendus)",
        ))
    if has_siret and has_siren:
        checks.append(Check(
            "siren_in IS DISTINCT FROM left(siret, 9)",
            "siren", "siren_in", "SIREN différent des 9 premiers chiffres du SIRET",
        ))
    if has_siret and has_nic:
        checks.append(Check(
            "nic_in IS DISTINCT FROM right(siret, 5)",
            "nic", "nic_in", "NIC différent des 5 derniers chiffres du SIRET",
        ))
    checks.append(Check(
        f"NOT {siren_key_ok('siret_n // 100000')}",
        "siren" if has_siren or not has_siret else "siret",
        "left(siret, 9)" if has_siret else "siren_in",
        "clé de contrôle du SIREN invalide",
    ))
    checks.append(Check(
        f"NOT {siret_key_ok('siret_n')}",
        "siret" if has_siret else "nic",
        "siret",
        "clé de contrôle du SIRET invalide",
    ))
    return checks


def _naf_checks(column: str, nomenclature: str | None) -> list[Check]:
    """NAF checks on ``naf_in`` (raw) / ``naf`` (joined canonical) of the ``base`` CTE."""
    checks: list[Check] = []
    if nomenclature is not None:
        checks.append(Check(
            "nomenclature_in IS NOT NULL AND nomenclature_in <> 'NAFRev2'",
            nomenclature, "nomenclature_in", "nomenclature d'activité autre que NAFRev2",
        ))
    checks.append(Check("naf_in IS NULL", column, "naf_in", "code NAF manquant"))
    checks.append(Check(
        f"naf IS NULL AND NOT regexp_full_match(naf_in, '{NAF_REV2_SHAPE}')",
        column, "naf_in", "code d'une nomenclature antérieure à la NAF rév. 2",
    ))
    checks.append(Check("naf IS NULL", column, "naf_in", "code NAF inconnu"))
    return checks


def _date_checks(expr_in: str, expr: str, column: str, today: dt.date) -> list[Check]:
    """A date column: readable, not before :data:`MIN_DATE`, not in the future."""
    return [
        Check(f"{expr_in} IS NOT NULL AND {expr} IS NULL", column, expr_in,
              f"date illisible ({EXPECTED})"),
        Check(f"{expr} < DATE '{MIN_DATE}'", column, expr_in, f"date antérieure à {MIN_YEAR}"),
        Check(f"{expr} > $today", column, expr_in, "date dans le futur", {"today": today}),
    ]


def _size_checks(column: str) -> list[Check]:
    return [Check("size_in IS NOT NULL AND size_band IS NULL", column, "size_in",
                  "tranche d'effectifs inconnue")]


def _lines_sql(
    base: str, checks: Sequence[Check], keep: Sequence[str]
) -> tuple[str, dict[str, object]]:
    """Wrap a ``base`` CTE with the first-failure columns and keep the named columns (SQL and
    the parameters it binds)."""
    number, column, value, reason, params = first_failure(checks)
    kept = ", ".join(["_k", *keep])
    return (
        f"WITH base AS ({base}), numbered AS (SELECT *, {number} AS _check FROM base) "
        f"SELECT {kept}, _check, {column} AS _column, {value} AS _value, {reason} AS _reason "
        f"FROM numbered"
    ), params


# --------------------------------------------------------------------------- SIRENE stock

_SIRENE_REQUIRED: Final = (
    "activitePrincipaleEtablissement",
    "codeCommuneEtablissement",
    "etatAdministratifEtablissement",
)
_SIRENE_OPTIONAL: Final = (
    "siret", "siren", "nic", "trancheEffectifsEtablissement", "dateCreationEtablissement",
    "dateDebut", "nomenclatureActivitePrincipaleEtablissement",
    "coordonneeLambertAbscisseEtablissement", "coordonneeLambertOrdonneeEtablissement",
    "latitude", "longitude", "codePaysEtrangerEtablissement",
    "libelleCommuneEtrangerEtablissement", "denominationUsuelleEtablissement",
    "enseigne1Etablissement", "denominationUniteLegale",
)


def _sirene_missing(found: dict[str, str]) -> list[str]:
    identity = _has(found, "siret") or _has(found, "siren", "nic")
    return ([] if identity else ["siret (ou siren + nic)"]) + _absent(found, _SIRENE_REQUIRED)


def _sirene_plan(found: dict[str, str], today: dt.date) -> Plan:
    cols: dict[str, str] = {}
    for name in (*_SIRENE_REQUIRED, *_SIRENE_OPTIONAL):
        header = _get(found, name)
        if header is not None:
            cols[name] = header
    has_siret, has_siren, has_nic = "siret" in cols, "siren" in cols, "nic" in cols
    has_lambert = {"coordonneeLambertAbscisseEtablissement",
                   "coordonneeLambertOrdonneeEtablissement"} <= cols.keys()
    has_latlon = not has_lambert and {"latitude", "longitude"} <= cols.keys()

    def col(name: str) -> str:
        return _text(name) if name in cols else "CAST(NULL AS VARCHAR)"

    siret_expr = col("siret") if has_siret else f"({col('siren')} || {col('nic')})"
    names = [_exported(n) for n in ("denominationUsuelleEtablissement", "enseigne1Etablissement",
                                    "denominationUniteLegale") if n in cols]
    name_expr = f"coalesce({', '.join(names)})" if names else "CAST(NULL AS VARCHAR)"
    if has_lambert:
        # "[ND]" marks coordinates that INSEE does not publish; that is not an error.
        x_in = f"NULLIF({col('coordonneeLambertAbscisseEtablissement')}, '[ND]')"
        y_in = f"NULLIF({col('coordonneeLambertOrdonneeEtablissement')}, '[ND]')"
    elif has_latlon:
        x_in, y_in = col("longitude"), col("latitude")
    else:
        x_in = y_in = "CAST(NULL AS VARCHAR)"
    base = f"""
        SELECT r._k,
            {siret_expr} AS siret,
            {col('siren')} AS siren_in, {col('nic')} AS nic_in,
            {col('activitePrincipaleEtablissement')} AS naf_in,
            {col('nomenclatureActivitePrincipaleEtablissement')} AS nomenclature_in,
            {col('codeCommuneEtablissement')} AS commune_in,
            coalesce({col('codePaysEtrangerEtablissement')},
                     {col('libelleCommuneEtrangerEtablissement')}) AS abroad_in,
            {col('trancheEffectifsEtablissement')} AS size_in,
            {col('dateCreationEtablissement')} AS created_in,
            {col('etatAdministratifEtablissement')} AS state_in,
            -- dateDebut starts the current period: a closure date only when the state is F
            CASE WHEN {col('etatAdministratifEtablissement')} = 'F' THEN {col('dateDebut')} END
                AS closed_in,
            {x_in} AS x_in, {y_in} AS y_in,
            {name_expr} AS name
        FROM raw AS r"""
    joined = f"""
        WITH dups AS (
            -- on the raw table, not on `b`: a CTE read twice would be materialised
            SELECT {siret_expr} AS siret, min(_k) AS first_k FROM raw
            GROUP BY 1 HAVING count(*) > 1)
        SELECT b.*, f.code AS naf, a.commune AS commune, z.code AS size_band,
            TRY_CAST(b.siret AS BIGINT) AS siret_n,
            {parse_date('b.created_in')} AS created,
            {parse_date('b.closed_in')} AS closed,
            TRY_CAST(b.x_in AS DOUBLE) AS x_num, TRY_CAST(b.y_in AS DOUBLE) AS y_num,
            d.first_k IS NOT NULL AS duplicate
        FROM ({base}) AS b
        LEFT JOIN naf_forms AS f ON f.raw = b.naf_in
        LEFT JOIN commune_aliases AS a ON a.alias = b.commune_in
        LEFT JOIN size_bands AS z ON z.code = b.size_in
        LEFT JOIN dups AS d ON d.siret = b.siret AND d.first_k <> b._k"""
    checks = _siret_checks(has_siret, has_siren, has_nic)
    checks.append(Check("duplicate", "siret", "siret", "SIRET en double dans le fichier"))
    checks.append(Check(
        "state_in IS NULL OR state_in NOT IN ('A', 'F')",
        cols["etatAdministratifEtablissement"], "state_in",
        "état administratif inconnu (A ou F attendu)",
    ))
    checks += _naf_checks(cols["activitePrincipaleEtablissement"],
                          cols.get("nomenclatureActivitePrincipaleEtablissement"))
    commune_col = cols["codeCommuneEtablissement"]
    checks += [
        Check("commune_in IS NULL AND abroad_in IS NOT NULL",
              cols.get("codePaysEtrangerEtablissement", commune_col), "abroad_in",
              "établissement hors France"),
        Check("starts_with(commune_in, '99')", commune_col, "commune_in",
              "établissement hors France"),
        Check("commune_in IS NULL", commune_col, "commune_in", "commune manquante"),
        Check("commune IS NULL", commune_col, "commune_in", "commune inconnue"),
    ]
    if "trancheEffectifsEtablissement" in cols:
        checks += _size_checks(cols["trancheEffectifsEtablissement"])
    if "dateCreationEtablissement" in cols:
        checks += _date_checks("created_in", "created", cols["dateCreationEtablissement"], today)
    if "dateDebut" in cols:
        checks += _date_checks("closed_in", "closed", cols["dateDebut"], today)
        checks.append(Check("created > closed", cols["dateDebut"], "closed_in",
                            "date de fermeture antérieure à la création"))
    if has_lambert or has_latlon:
        x_col = cols["coordonneeLambertAbscisseEtablissement" if has_lambert else "longitude"]
        y_col = cols["coordonneeLambertOrdonneeEtablissement" if has_lambert else "latitude"]
        checks += [
            Check("x_in IS NOT NULL AND x_num IS NULL", x_col, "x_in", "coordonnée illisible"),
            Check("y_in IS NOT NULL AND y_num IS NULL", y_col, "y_in", "coordonnée illisible"),
            Check("(x_num IS NULL) <> (y_num IS NULL)", x_col, "coalesce(x_in, y_in)",
                  "coordonnée incomplète (x et y attendus)"),
        ]
        if has_lambert:
            checks += [
                Check(f"left(commune, 2) NOT IN {_OVERSEAS} AND NOT x_num BETWEEN "
                      f"{_L93_X[0]} AND {_L93_X[1]}", x_col, "x_in",
                      "coordonnée hors de la France métropolitaine (Lambert-93)"),
                Check(f"left(commune, 2) NOT IN {_OVERSEAS} AND NOT y_num BETWEEN "
                      f"{_L93_Y[0]} AND {_L93_Y[1]}", y_col, "y_in",
                      "coordonnée hors de la France métropolitaine (Lambert-93)"),
            ]
        else:
            checks += [
                Check("NOT x_num BETWEEN -180 AND 180", x_col, "x_in", "longitude hors limites"),
                Check("NOT y_num BETWEEN -90 AND 90", y_col, "y_in", "latitude hors limites"),
            ]
    keep = ["siret", "naf", "commune", "size_in", "created", "closed", "state_in",
            "x_num", "y_num", "name"]
    lines, params = _lines_sql(joined, checks, keep)
    if has_latlon:
        x_sql, y_sql = lambert93("x_num", "y_num")
    else:
        x_sql, y_sql = "x_num", "y_num"
    metro = f"left(commune, 2) NOT IN {_OVERSEAS}"
    output = f"""
        SELECT siret, left(siret, 9) AS siren, right(siret, 5) AS nic, naf, commune,
            NULLIF(size_in, 'NN') AS size_band, created, closed, state_in = 'A' AS active,
            CAST(NULL AS DATE) AS valid_from, CAST(NULL AS DATE) AS valid_to,
            CASE WHEN {metro} THEN {x_sql} END AS x,
            CASE WHEN {metro} THEN {y_sql} END AS y,
            name
        FROM good_lines"""
    return Plan("sirene", "establishments", cols, lines, params, output,
                ("naf_forms", "commune_aliases", "size_bands"))


# --------------------------------------------------------------------------- SIRENE periods

_PERIODS_REQUIRED: Final = ("siret", "dateDebut", "dateFin", "etat", "code_ape", "code_commune")


def _periods_missing(found: dict[str, str]) -> list[str]:
    return _absent(found, _PERIODS_REQUIRED)


def _periods_plan(found: dict[str, str], today: dt.date) -> Plan:
    cols = {n: found[n.lower()] for n in _PERIODS_REQUIRED}
    if _has(found, "code_tranche"):
        cols["code_tranche"] = found["code_tranche"]
    size = _text("code_tranche") if "code_tranche" in cols else "CAST(NULL AS VARCHAR)"
    base = f"""
        SELECT r._k, {_text('siret')} AS siret, {_text('dateDebut')} AS from_in,
            {_text('dateFin')} AS to_in, {_text('etat')} AS state_in,
            {_text('code_ape')} AS naf_in, {_text('code_commune')} AS commune_in,
            {size} AS size_in
        FROM raw AS r"""
    joined = f"""
        WITH b AS ({base}),
        typed AS (
            SELECT b.*, {parse_date('from_in')} AS valid_from, {parse_date('to_in')} AS valid_to
            FROM b),
        life AS (
            -- the establishment's whole life: first start, and the start of its last
            -- period when that period is a closure (etat F)
            SELECT siret, min(valid_from) AS created,
                arg_max(CASE WHEN state_in = 'F' THEN valid_from END, valid_from) AS closed
            FROM typed GROUP BY siret),
        dups AS (
            SELECT siret, valid_from, min(_k) AS first_k FROM typed
            WHERE valid_from IS NOT NULL GROUP BY siret, valid_from HAVING count(*) > 1)
        SELECT t.*, f.code AS naf, a.commune AS commune, l.created, l.closed,
            z.code AS size_band, TRY_CAST(t.siret AS BIGINT) AS siret_n,
            d.first_k IS NOT NULL AS duplicate
        FROM typed AS t
        LEFT JOIN naf_forms AS f ON f.raw = t.naf_in
        LEFT JOIN commune_aliases AS a ON a.alias = t.commune_in
        LEFT JOIN size_bands AS z ON z.code = t.size_in
        LEFT JOIN life AS l ON l.siret = t.siret
        LEFT JOIN dups AS d ON d.siret = t.siret AND d.valid_from = t.valid_from
            AND d.first_k <> t._k"""
    checks = _siret_checks(has_siret=True, has_siren=False, has_nic=False)
    checks += [
        Check("from_in IS NULL", cols["dateDebut"], "from_in", "début de période manquant"),
        *_date_checks("from_in", "valid_from", cols["dateDebut"], today),
        *_date_checks("to_in", "valid_to", cols["dateFin"], today),
        Check("valid_to < valid_from", cols["dateFin"], "to_in",
              "fin de période antérieure à son début"),
        Check("duplicate", cols["dateDebut"], "from_in", "période en double dans le fichier"),
        Check("state_in IS NULL OR state_in NOT IN ('A', 'F')", cols["etat"], "state_in",
              "état administratif inconnu (A ou F attendu)"),
        *_naf_checks(cols["code_ape"], None),
        Check("commune_in IS NULL", cols["code_commune"], "commune_in", "commune manquante"),
        Check("starts_with(commune_in, '99')", cols["code_commune"], "commune_in",
              "établissement hors France"),
        Check("commune IS NULL", cols["code_commune"], "commune_in", "commune inconnue"),
    ]
    if "code_tranche" in cols:
        checks += _size_checks(cols["code_tranche"])
    keep = ["siret", "naf", "commune", "size_in", "created", "closed", "state_in",
            "valid_from", "valid_to"]
    lines, params = _lines_sql(joined, checks, keep)
    output = """
        SELECT siret, left(siret, 9) AS siren, right(siret, 5) AS nic, naf, commune,
            NULLIF(size_in, 'NN') AS size_band, created, closed, state_in = 'A' AS active,
            valid_from, valid_to, CAST(NULL AS DOUBLE) AS x, CAST(NULL AS DOUBLE) AS y,
            CAST(NULL AS VARCHAR) AS name
        FROM good_lines"""
    return Plan("sirene-periods", "establishments", cols, lines, params, output,
                ("naf_forms", "commune_aliases", "size_bands"))


# --------------------------------------------------------------------------- URSSAF

_URSSAF_ESTABLISHMENTS: Final = re.compile(r"^Nombre d['’]établissements (\d{4})$", re.IGNORECASE)
_URSSAF_EMPLOYEES: Final = re.compile(r"^Effectifs salariés (\d{4})$", re.IGNORECASE)
_URSSAF_REQUIRED: Final = ("Code commune", "Code APE")


def _urssaf_years(found: dict[str, str]) -> dict[int, tuple[str, str | None]]:
    counts = {int(m.group(1)): h for h in found.values() if (m := _URSSAF_ESTABLISHMENTS.match(h))}
    staff = {int(m.group(1)): h for h in found.values() if (m := _URSSAF_EMPLOYEES.match(h))}
    return {year: (counts[year], staff.get(year)) for year in sorted(counts)}


def _urssaf_missing(found: dict[str, str]) -> list[str]:
    years = [] if _urssaf_years(found) else ["Nombre d'établissements AAAA"]
    return _absent(found, _URSSAF_REQUIRED) + years


def _count_checks(expr: str, column: str, what: str) -> list[Check]:
    number = f"TRY_CAST(replace({expr}, ',', '.') AS DOUBLE)"
    return [
        Check(f"{expr} IS NOT NULL AND {number} IS NULL", column, expr, f"{what} illisible"),
        Check(f"{number} < 0", column, expr, f"{what} négatif"),
    ]


def _integer_check(expr: str, column: str, what: str) -> Check:
    number = f"TRY_CAST(replace({expr}, ',', '.') AS DOUBLE)"
    return Check(f"{number} <> floor({number})", column, expr, f"{what} non entier")


def _urssaf_plan(found: dict[str, str], today: dt.date) -> Plan:
    years = _urssaf_years(found)
    for year, (count_col, _) in years.items():
        if not MIN_YEAR <= year <= today.year:
            # a year is a column here, not a value: the whole file is refused
            raise FileFormatError(
                f"colonne {count_col!r} : année {year} hors limites ({MIN_YEAR} à {today.year})"
            )
    cols = {"commune_in": found["code commune"], "naf_in": found["code ape"]}
    for year, (count_col, staff_col) in years.items():
        cols[f"e{year}"] = count_col
        if staff_col is not None:
            cols[f"w{year}"] = staff_col
    values = ", ".join(f"{_text(c)} AS {c}" for c in cols if c not in ("commune_in", "naf_in"))
    base = f"""
        WITH b AS (
            SELECT r._k, {_text('commune_in')} AS commune_in, {_text('naf_in')} AS naf_in,
                {values}
            FROM raw AS r),
        dups AS (
            SELECT commune_in, naf_in, min(_k) AS first_k FROM b
            GROUP BY ALL HAVING count(*) > 1)
        SELECT b.*, f.code AS naf, a.commune AS commune, d.first_k IS NOT NULL AS duplicate
        FROM b
        LEFT JOIN naf_forms AS f ON f.raw = b.naf_in
        LEFT JOIN commune_aliases AS a ON a.alias = b.commune_in
        LEFT JOIN dups AS d ON d.commune_in = b.commune_in AND d.naf_in = b.naf_in
            AND d.first_k <> b._k"""
    checks = [
        Check("commune_in IS NULL", cols["commune_in"], "commune_in", "commune manquante"),
        Check("commune IS NULL", cols["commune_in"], "commune_in", "commune inconnue"),
        Check("naf_in IS NULL", cols["naf_in"], "naf_in", "code NAF manquant"),
        Check("naf IS NULL", cols["naf_in"], "naf_in", "code NAF inconnu"),
        Check("duplicate", cols["naf_in"], "commune_in || ' ' || naf_in",
              "couple commune x APE en double dans le fichier"),
    ]
    for year in years:
        e, w = f"e{year}", f"w{year}"
        checks += _count_checks(e, cols[e], "nombre d'établissements")
        checks.append(_integer_check(e, cols[e], "nombre d'établissements"))
        if w in cols:
            checks += _count_checks(w, cols[w], "effectif salarié")
            checks.append(Check(f"{e} IS NULL AND {w} IS NOT NULL", cols[w], w,
                                "effectif sans nombre d'établissements"))
    keep = ["commune", "naf", *[c for c in cols if c not in ("commune_in", "naf_in")]]
    lines, params = _lines_sql(base, checks, keep)
    parts = []
    for year in years:
        staff = (f"TRY_CAST(replace(w{year}, ',', '.') AS DOUBLE)" if f"w{year}" in cols
                 else "CAST(NULL AS DOUBLE)")
        parts.append(
            f"SELECT commune, naf, {year} AS year, "
            f"CAST(TRY_CAST(replace(e{year}, ',', '.') AS DOUBLE) AS BIGINT) AS n, {staff} AS w "
            f"FROM good_lines WHERE e{year} IS NOT NULL"
        )
    output = _merged_aggregates("SELECT 'commune' AS level, * FROM (" + " UNION ALL ".join(parts)
                                + ")", "level", "commune", "naf", "year")
    return Plan("urssaf", "aggregates", cols, lines, params, output,
                ("naf_forms", "commune_aliases"))


def _merged_aggregates(rows: str, level: str, code: str, naf: str, year: str) -> str:
    """Sum rows that become one key once old commune codes map to current communes.

    Employees stay NULL when any merged part has no figure (a partial sum would lie).
    """
    return f"""
        SELECT {level} AS territory_level, {code} AS territory_code, {naf} AS naf,
            CAST({year} AS SMALLINT) AS year, sum(n)::BIGINT AS establishments,
            CASE WHEN count(w) = count(*) THEN sum(w) END AS employees
        FROM ({rows}) GROUP BY ALL ORDER BY ALL"""


# --------------------------------------------------------------------------- generic table

_TABLE_REQUIRED: Final = ("territory_level", "territory_code", "naf", "year", "establishments")


def _table_missing(found: dict[str, str]) -> list[str]:
    return _absent(found, _TABLE_REQUIRED)


def _table_plan(found: dict[str, str], today: dt.date) -> Plan:
    cols = {n: found[n] for n in _TABLE_REQUIRED}
    if _has(found, "employees"):
        cols["employees"] = found["employees"]
    staff = _exported("employees") if "employees" in cols else "CAST(NULL AS VARCHAR)"
    levels = "(" + ", ".join(literal(level) for level in TERRITORY_LEVELS) + ")"
    base = f"""
        WITH b AS (
            SELECT r._k, lower({_exported('territory_level')}) AS level_in,
                {_exported('territory_code')} AS code_in, {_exported('naf')} AS naf_in,
                {_exported('year')} AS year_in, {_exported('establishments')} AS e,
                {staff} AS w
            FROM raw AS r),
        dups AS (
            SELECT level_in, code_in, naf_in, year_in, min(_k) AS first_k FROM b
            GROUP BY ALL HAVING count(*) > 1)
        SELECT b.*, t.code AS code, f.code AS naf, TRY_CAST(b.year_in AS INTEGER) AS year,
            d.first_k IS NOT NULL AS duplicate
        FROM b
        LEFT JOIN territory_codes AS t ON t.level = b.level_in AND t.alias = b.code_in
        LEFT JOIN naf_any_forms AS f ON f.raw = b.naf_in
        LEFT JOIN dups AS d ON d.level_in = b.level_in AND d.code_in = b.code_in
            AND d.naf_in = b.naf_in AND d.year_in = b.year_in AND d.first_k <> b._k"""
    checks = [
        Check("level_in IS NULL", cols["territory_level"], "level_in",
              "niveau territorial manquant"),
        Check(f"level_in NOT IN {levels}", cols["territory_level"], "level_in",
              "niveau territorial inconnu (" + ", ".join(TERRITORY_LEVELS) + ")"),
        Check("code_in IS NULL", cols["territory_code"], "code_in", "code territorial manquant"),
        Check("code IS NULL", cols["territory_code"], "code_in",
              "code territorial inconnu pour ce niveau"),
        Check("naf_in IS NULL", cols["naf"], "naf_in", "code NAF manquant"),
        Check("naf IS NULL", cols["naf"], "naf_in", "code NAF inconnu"),
        Check("year_in IS NULL", cols["year"], "year_in", "année manquante"),
        Check(f"year IS NULL OR year < {MIN_YEAR} OR year > {today.year}", cols["year"],
              "year_in", f"année invalide (entier de {MIN_YEAR} à {today.year} attendu)"),
        Check("e IS NULL", cols["establishments"], "e", "nombre d'établissements manquant"),
        *_count_checks("e", cols["establishments"], "nombre d'établissements"),
        _integer_check("e", cols["establishments"], "nombre d'établissements"),
        Check("duplicate", cols["territory_code"],
              "concat_ws(' ', level_in, code_in, naf_in, year_in)",
              "ligne en double (même territoire, NAF et année)"),
    ]
    if "employees" in cols:
        checks += _count_checks("w", cols["employees"], "effectif salarié")
    lines, params = _lines_sql(base, checks, ["level_in", "code", "naf", "year", "e", "w"])
    rows = """
        SELECT level_in AS level, code, naf, year,
            CAST(TRY_CAST(replace(e, ',', '.') AS DOUBLE) AS BIGINT) AS n,
            TRY_CAST(replace(w, ',', '.') AS DOUBLE) AS w
        FROM good_lines"""
    output = _merged_aggregates(rows, "level", "code", "naf", "year")
    return Plan("table", "aggregates", cols, lines, params, output,
                ("naf_any_forms", "territory_codes"))


# --------------------------------------------------------------------------- detection

_FORMATS: Final = (
    _Format("sirene", "sirene", 1 + len(_SIRENE_REQUIRED), _sirene_missing, _sirene_plan),
    _Format("sirene-periods", "sirene", len(_PERIODS_REQUIRED), _periods_missing,
            _periods_plan),
    _Format("urssaf", "urssaf", len(_URSSAF_REQUIRED) + 1, _urssaf_missing, _urssaf_plan),
    _Format("table", "table", len(_TABLE_REQUIRED), _table_missing, _table_plan),
)
_HEADER_SHOWN: Final = 80
"""Characters of a refused header quoted in the message (enough to recognise the file)."""


def _closest(candidates: Sequence[_Format], found: dict[str, str]) -> tuple[_Format, list[str]]:
    """The candidate whose required columns the header holds most of, and what it lacks."""
    scored = [(c, c.missing(found)) for c in candidates]
    return max(scored, key=lambda pair: pair[0].needs - len(pair[1]))


def plan_for(sniffed: SniffedFile, format: str | None, today: dt.date) -> Plan:
    """Choose the format of a file by its header (or check the given one) and plan its import.

    Parameters
    ----------
    sniffed
        The header and layout of the file.
    format
        ``sirene``, ``urssaf`` or ``table``; detected from the header when None.
    today
        The reference date of the "not in the future" checks.

    Raises
    ------
    InputError
        ``format`` is not one of :data:`FORMAT_CHOICES`.
    FileFormatError
        The header is not the one the format needs, or matches no format: the
        message names the missing columns of the closest format, in one line.
    """
    found = _lookup(sniffed.columns)
    if format is not None and format not in FORMAT_CHOICES:
        raise FileFormatError(
            f"format {format!r} inconnu ; valeurs possibles : {', '.join(FORMAT_CHOICES)}"
        )
    candidates = [f for f in _FORMATS if format is None or f.family == format]
    for candidate in candidates:
        if not candidate.missing(found):
            return _checked(sniffed, candidate.plan, found, today)
    closest, missing = _closest(candidates, found)
    shown = sniffed.header_text(_HEADER_SHOWN)
    lacks = f"colonne{'s' if len(missing) > 1 else ''} manquante{'s' if len(missing) > 1 else ''}"
    if format is not None:
        raise FileFormatError(
            f"{sniffed.path} n'est pas au format {format} : {lacks} : {', '.join(missing)} ; "
            f"trouvé : {shown}"
        )
    if len(missing) == closest.needs:
        raise FileFormatError(
            f"{sniffed.path} : format non reconnu (ni {', '.join(FORMAT_CHOICES[:-1])} ni "
            f"{FORMAT_CHOICES[-1]}) ; trouvé : {shown}"
        )
    raise FileFormatError(
        f"{sniffed.path} : format non reconnu ; pour le format {closest.name}, {lacks} : "
        f"{', '.join(missing)}"
    )


def _checked(
    sniffed: SniffedFile, plan: Callable[[dict[str, str], dt.date], Plan],
    found: dict[str, str], today: dt.date,
) -> Plan:
    """The plan, or the plan's refusal of the header prefixed with the file's name."""
    try:
        return plan(found, today)
    except FileFormatError as exc:
        raise FileFormatError(f"{sniffed.path} : {exc}") from exc
