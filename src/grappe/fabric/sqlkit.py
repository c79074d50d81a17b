"""SQL building blocks of the import: identifiers and constants, Luhn checks, dates, Lambert-93."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from grappe.kit.dates import DATE_FORMATS, ISO_LAYOUT
from grappe.kit.export import QUOTED_FORMULA

LA_POSTE_SIREN: Final = "356000000"
"""La Poste: its SIRETs break the Luhn rule; INSEE says their digit sum is a multiple of 5."""

MIN_YEAR: Final = 1900
"""The earliest year of a date or of an aggregated count in the fabric.

INSEE writes 1900-01-01 for establishments created earlier or at an unknown date (it is
the earliest creation date of the real Bas-Rhin file); the registry's dates start in
1900 too. An earlier date is a typing error (1019 for 2019), quarantined.
"""
MIN_DATE: Final = f"{MIN_YEAR}-01-01"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A quoted SQL string literal, for the constants of this package in the import plans.

    Only constants written in this code go through it (regular expressions, date layouts,
    territory level names): the plans are SQL fragments spliced into larger queries, and
    DuckDB prepares a regular expression or a ``strptime`` layout once when it is part of
    the query text (bound as a parameter, the same scan ran 30 % slower on 3 million rows).
    Every value that comes from a file, a user or the running process is bound instead.
    """
    return "'" + value.replace("'", "''") + "'"


def unquoted(expr: str) -> str:
    """SQL: the text without the ``'`` an export put before a formula start.

    The same pattern as :func:`grappe.kit.export.unquote`, so that a file grappe exported
    re-imports unchanged (CONTRACTS.md, "CSV that grappe reads").
    """
    return f"regexp_replace({expr}, {literal(QUOTED_FORMULA)}, '\\1')"


def all_digits(expr: str, n: int) -> str:
    """SQL: the text ``expr`` is exactly ``n`` ASCII digits."""
    return f"regexp_full_match({expr}, '[0-9]{{{n}}}')"


def _digit(number: str, position: int) -> str:
    """SQL: the digit of an integer at a position from the right (1 = units)."""
    return f"(({number} // {10 ** (position - 1)}) % 10)"


def luhn_sum(number: str, n: int) -> str:
    """SQL: the Luhn sum of an n-digit integer (every second digit from the right doubled).

    A doubled digit ``2d`` above 9 counts as ``2d - 9``, which is ``2d - 9 * (d // 5)``.
    """
    terms = []
    for position in range(1, n + 1):
        d = _digit(number, position)
        terms.append(f"(2 * {d} - 9 * ({d} // 5))" if position % 2 == 0 else d)
    return "(" + " + ".join(terms) + ")"


def digit_sum(number: str, n: int) -> str:
    """SQL: the plain sum of the digits of an n-digit integer expression."""
    return "(" + " + ".join(_digit(number, p) for p in range(1, n + 1)) + ")"


def siret_key_ok(number: str) -> str:
    """SQL: the SIRET, given as a BIGINT expression (14 digits checked before), has a valid key.

    Luhn for everyone except La Poste (SIREN 356000000), whose SIRETs are
    valid when the sum of their digits is a multiple of 5. Pass a column, not a
    cast: the expression repeats it for every digit.
    """
    return (
        f"(CASE WHEN {number} // 100000 = {LA_POSTE_SIREN} "
        f"THEN {digit_sum(number, 14)} % 5 = 0 "
        f"ELSE {luhn_sum(number, 14)} % 10 = 0 END)"
    )


def siren_key_ok(number: str) -> str:
    """SQL: the SIREN, given as a BIGINT expression (9 digits checked before), passes Luhn."""
    return f"({luhn_sum(number, 9)} % 10 = 0)"


def parse_date(expr: str) -> str:
    """SQL: the text as a DATE, NULL if unreadable.

    ISO ``YYYY-MM-DD`` (maybe with a time, as INSEE writes some), else the other layouts of
    :data:`grappe.kit.dates.DATE_FORMATS` (``JJ/MM/AAAA``…): the rule the options follow.
    COALESCE reads the second form only for the rows the ISO cast left NULL.
    """
    others = ", ".join(literal(layout) for layout in DATE_FORMATS if layout != ISO_LAYOUT)
    return (f"coalesce(TRY_CAST(left({expr}, 10) AS DATE), "
            f"CAST(try_strptime({expr}, [{others}]) AS DATE))")


def clean(expr: str) -> str:
    """SQL: the text, NULL when empty.

    Not trimmed: trimming every column of millions of rows costs a fifth of the
    validation, and a padded code fails its check visibly rather than silently.
    """
    return f"NULLIF({expr}, '')"


@dataclass(frozen=True)
class Check:
    """One validation rule: rows where ``failed`` is true go to quarantine.

    Attributes
    ----------
    failed
        SQL boolean, true when the row breaks the rule (NULL counts as passing).
    column
        The column name shown to the user (as in the file header).
    value
        SQL text expression of the offending value.
    reason
        Short fixed reason (French); the quarantine summary groups by it.
    params
        The values ``failed`` binds (``$name`` -> value), e.g. today's date.
    """

    failed: str
    column: str
    value: str
    reason: str
    params: Mapping[str, object] = field(default_factory=dict)


def first_failure(checks: Sequence[Check]) -> tuple[str, str, str, str, dict[str, object]]:
    """SQL expressions (check number, column, value, reason) naming the first failed check of a row,
    and the parameters they bind.

    Conditions are evaluated once, in one CASE that yields the check number; column and
    reason are then looked up in two bound lists (``$check_columns``, ``$check_reasons``):
    the column names come from the file's header. The checks' own parameters are merged in.
    """
    if not checks:
        return "CAST(NULL AS INTEGER)", "CAST(NULL AS VARCHAR)", "CAST(NULL AS VARCHAR)", (
            "CAST(NULL AS VARCHAR)"
        ), {}
    number = "CASE " + " ".join(
        f"WHEN coalesce({c.failed}, false) THEN {i}" for i, c in enumerate(checks, start=1)
    ) + " END"
    values = "CASE _check " + " ".join(
        f"WHEN {i} THEN CAST({c.value} AS VARCHAR)" for i, c in enumerate(checks, start=1)
    ) + " END"
    params: dict[str, object] = {
        "check_columns": [c.column for c in checks],
        "check_reasons": [c.reason for c in checks],
    }
    for check in checks:
        params.update(check.params)
    return number, "$check_columns[_check]", values, "$check_reasons[_check]", params


# Lambert-93 (EPSG:2154): Lambert conformal conic with two standard parallels on GRS80.
# WGS84 and RGF93 coincide to a few centimetres, as PROJ's null transformation assumes.
_A: Final = 6378137.0
_F: Final = 1 / 298.257222101
_E: Final = math.sqrt(2 * _F - _F * _F)
_PHI1: Final = math.radians(44.0)
_PHI2: Final = math.radians(49.0)
_PHI0: Final = math.radians(46.5)
_LAMBDA0: Final = math.radians(3.0)
_X0: Final = 700000.0
_Y0: Final = 6600000.0


def _m(phi: float) -> float:
    return math.cos(phi) / math.sqrt(1 - (_E * math.sin(phi)) ** 2)


def _t(phi: float) -> float:
    s = _E * math.sin(phi)
    return math.tan(math.pi / 4 - phi / 2) / ((1 - s) / (1 + s)) ** (_E / 2)


_N: Final = (math.log(_m(_PHI1)) - math.log(_m(_PHI2))) / (
    math.log(_t(_PHI1)) - math.log(_t(_PHI2))
)
_AF: Final = _A * _m(_PHI1) / (_N * _t(_PHI1) ** _N)
_RHO0: Final = _AF * _t(_PHI0) ** _N


def lambert93(lon: str, lat: str) -> tuple[str, str]:
    """SQL expressions (x, y) projecting WGS84 degrees to Lambert-93 metres.

    The formulas are those of the Lambert conformal conic (Snyder, *Map
    Projections*, eq. 15-1 to 15-10), vectorised by the engine.
    """
    phi = f"radians({lat})"
    s = f"({_E!r} * sin({phi}))"
    t = f"(tan(pi() / 4 - {phi} / 2) / pow((1 - {s}) / (1 + {s}), {_E / 2!r}))"
    rho = f"({_AF!r} * pow({t}, {_N!r}))"
    theta = f"({_N!r} * (radians({lon}) - {_LAMBDA0!r}))"
    x = f"({_X0!r} + {rho} * sin({theta}))"
    y = f"({_Y0 + _RHO0!r} - {rho} * cos({theta}))"
    return x, y
