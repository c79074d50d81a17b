"""Bounds of what users enter in the registry, written once for the schemas, the CLI and imports.

Lengths, integer ranges and decimal digits come from the database columns themselves, so no
schema accepts what PostgreSQL would refuse (a ``DataError``) or SQLite would silently keep
(SQLite does not enforce ``VARCHAR(n)``). Dates follow the documented rules below (README,
"Bornes des saisies"):

* ``PAST`` — what has happened (membership joined and left, payments): from
  :data:`EARLIEST_DATE` to today. A membership is current from the day it starts and the
  directory counts open memberships, so a future start or end would be counted wrongly.
* ``PLANNED`` — periods known ahead (labels, governance seats): from :data:`EARLIEST_DATE` to
  :data:`AHEAD_YEARS` years after today.
* ``ACCOUNTING`` years (fee schedules and calls, funding): from 1900 to :data:`AHEAD_YEARS`
  years after the current one; ``FOUNDED`` years (a cluster organisation's creation): from
  1800 to the current year.

Text is one line (no control character at all) unless declared multi-line (tab, line feed and
carriage return allowed); C0 and C1 control characters, NUL and lone surrogates are refused:
they break exports and PostgreSQL refuses NUL.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema
from sqlalchemy import BigInteger, Integer, Numeric, SmallInteger, String
from sqlalchemy.exc import DataError, StatementError
from sqlalchemy.orm import QueryableAttribute

from grappe.errors import InputError

#: First date the registry stores (memberships, payments, labels, seats).
EARLIEST_DATE = dt.date(1900, 1, 1)
#: How far ahead planned periods and accounting years may go.
AHEAD_YEARS = 10

#: Largest value of each SQL integer type (most specific first: both are Integer subclasses).
INTEGER_LIMITS: tuple[tuple[type[Integer], int], ...] = (
    (SmallInteger, 2**15 - 1),
    (BigInteger, 2**63 - 1),
    (Integer, 2**31 - 1),
)

_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

#: The one line the CLI prints when the database refuses a value the bounds let through.
DATABASE_REFUSAL = (
    "valeur refusée par la base de données (texte trop long, caractère interdit ou nombre "
    "hors limites) : rien n'a été enregistré"
)

Column = QueryableAttribute[Any]


def integer_limit(column: Column) -> int:
    """The largest value an integer column holds (its type's range, signed)."""
    kind = column.expression.type
    for sql_type, limit in INTEGER_LIMITS:
        if isinstance(kind, sql_type):
            return limit
    raise TypeError(f"{column} is not an integer column ({kind})")


def shown(value: object, size: int = 60) -> str:
    """A value as a message may quote it: control characters escaped, cut after ``size``."""
    text = _ONE_LINE.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return text if len(text) <= size else text[:size] + f"… ({len(str(value))} caractères)"


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def text_problem(value: str, max_length: int, *, min_length: int = 0, multiline: bool = False) -> str | None:
    """Why a text breaks its bounds (French), or None."""
    if len(value) > max_length:
        return f"trop long : {len(value)} caractères, {max_length} au plus"
    if len(value) < min_length:
        return "vide" if min_length == 1 else f"trop court : {len(value)} caractères, {min_length} au moins"
    bad = (_MULTILINE if multiline else _ONE_LINE).search(value)
    if bad is not None:
        return f"caractère de contrôle U+{ord(bad.group()):04X} interdit (position {bad.start() + 1})"
    return None


@dataclass(frozen=True)
class DateRule:
    """Dates from :data:`EARLIEST_DATE` to ``ahead_years`` years after today."""

    ahead_years: int

    def latest(self, today: dt.date | None = None) -> dt.date:
        return _add_years(today or dt.date.today(), self.ahead_years)

    def problem(self, value: dt.date, today: dt.date | None = None) -> str | None:
        """Why a date is out of bounds (French), or None."""
        latest = self.latest(today)
        if EARLIEST_DATE <= value <= latest:
            return None
        end = "aujourd'hui" if self.ahead_years == 0 else f"{self.ahead_years} ans après aujourd'hui"
        return (
            f"date hors limites : {value.isoformat()}, attendue du {EARLIEST_DATE.isoformat()} "
            f"au {latest.isoformat()} ({end})"
        )


@dataclass(frozen=True)
class YearRule:
    """Years from ``earliest`` to ``ahead_years`` after the current one."""

    earliest: int
    ahead_years: int

    def latest(self, today: dt.date | None = None) -> int:
        return (today or dt.date.today()).year + self.ahead_years

    def problem(self, value: int, today: dt.date | None = None) -> str | None:
        """Why a year is out of bounds (French), or None."""
        latest = self.latest(today)
        if self.earliest <= value <= latest:
            return None
        return f"année hors limites : {shown(value, 20)}, attendue de {self.earliest} à {latest}"

    def check(self, value: int, what: str) -> int:
        """The year, or an InputError naming ``what``."""
        problem = self.problem(value)
        if problem:
            raise InputError(f"{what} : {problem}")
        return value


PAST = DateRule(0)
PLANNED = DateRule(AHEAD_YEARS)
ACCOUNTING = YearRule(EARLIEST_DATE.year, AHEAD_YEARS)
FOUNDED = YearRule(1800, 0)


class _Bound:
    """Pydantic metadata: a check run after the type's own validation, in French."""

    def problem(self, value: Any) -> str | None:
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        return {}

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def check(value: Any) -> Any:
            problem = self.problem(value)
            if problem is not None:
                # No context: the message is used as written, braces included.
                raise PydanticCustomError("bounds", problem)
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        value = handler(schema)
        value.update(self.json_schema())
        return value


@dataclass(frozen=True)
class Text(_Bound):
    """A text bound to its column: at most the column's length, no control character.

    ``max_length`` is given only for columns without a length (``TEXT``) and for inputs that
    are normalised before they are stored (a SIRET may be typed with spaces).
    """

    column: Column | None = None
    max_length: int = 0
    min_length: int = 0
    multiline: bool = False

    def __post_init__(self) -> None:
        if self.max_length:
            return
        kind = self.column.expression.type if self.column is not None else None
        if not isinstance(kind, String) or kind.length is None:
            raise TypeError(f"Text({self.column}) needs max_length: the column has no length")
        object.__setattr__(self, "max_length", kind.length)

    def problem(self, value: str) -> str | None:
        return text_problem(
            value, self.max_length, min_length=self.min_length, multiline=self.multiline
        )

    def json_schema(self) -> dict[str, Any]:
        return {"maxLength": self.max_length} | ({"minLength": self.min_length} if self.min_length else {})


@dataclass(frozen=True)
class Int(_Bound):
    """An integer within ``ge``..``le``; ``le`` defaults to the largest its column holds."""

    column: Column | None = None
    ge: int = 0
    le: int = 0

    def __post_init__(self) -> None:
        if not self.le:
            if self.column is None:
                raise TypeError("Int() needs a column or le")
            object.__setattr__(self, "le", integer_limit(self.column))

    def problem(self, value: int) -> str | None:
        if self.ge <= value <= self.le:
            return None
        return f"hors limites : {shown(value, 20)}, attendu de {self.ge} à {self.le}"

    def json_schema(self) -> dict[str, Any]:
        return {"minimum": self.ge, "maximum": self.le}


@dataclass(frozen=True)
class Amount(_Bound):
    """A decimal amount within its column's precision and scale (``NUMERIC(p, s)``)."""

    column: Column
    positive: bool = False  # strictly above zero (a payment), else zero allowed

    def _numeric(self) -> tuple[int, int]:
        kind = self.column.expression.type
        if not isinstance(kind, Numeric) or kind.precision is None or kind.scale is None:
            raise TypeError(f"Amount({self.column}) needs a NUMERIC(p, s) column")
        return kind.precision, kind.scale

    @property
    def precision(self) -> int:
        return self._numeric()[0]

    @property
    def scale(self) -> int:
        return self._numeric()[1]

    def problem(self, value: Decimal) -> str | None:
        if not value.is_finite():
            return "montant invalide"
        if value < 0 or (self.positive and value == 0):
            return "montant attendu strictement positif" if self.positive else "montant négatif"
        # Size first: quantizing 1E+999999 would raise instead of answering.
        if value > self.largest:
            return f"montant trop grand : {self.largest} au plus"
        if value != value.quantize(Decimal(1).scaleb(-self.scale)):
            return f"au plus {self.scale} décimales"
        return None

    @property
    def largest(self) -> Decimal:
        """The largest amount the column holds (999999999999.99 for ``NUMERIC(14, 2)``)."""
        return Decimal(10) ** (self.precision - self.scale) - Decimal(1).scaleb(-self.scale)

    def json_schema(self) -> dict[str, Any]:
        return {"minimum": 0, "maximum": float(self.largest)} | (
            {"exclusiveMinimum": 0} if self.positive else {}
        )


@dataclass(frozen=True)
class Dated(_Bound):
    """A date within a :class:`DateRule`, checked against the day it is validated."""

    rule: DateRule

    def problem(self, value: dt.date) -> str | None:
        return self.rule.problem(value)

    def json_schema(self) -> dict[str, Any]:
        ahead = f" + {self.rule.ahead_years} ans" if self.rule.ahead_years else ""
        return {"description": f"du {EARLIEST_DATE.isoformat()} à aujourd'hui{ahead}"}


@dataclass(frozen=True)
class Timed(_Bound):
    """A moment whose day is within a :class:`DateRule` (the rule of :class:`Dated`)."""

    rule: DateRule

    def problem(self, value: dt.datetime) -> str | None:
        return self.rule.problem(value.date())

    def json_schema(self) -> dict[str, Any]:
        return Dated(self.rule).json_schema()


@dataclass(frozen=True)
class Year(_Bound):
    """A year within a :class:`YearRule`, stored in ``column``."""

    rule: YearRule
    column: Column | None = field(default=None)

    def problem(self, value: int) -> str | None:
        return self.rule.problem(value)

    def json_schema(self) -> dict[str, Any]:
        return {"minimum": self.rule.earliest}


def database_refusal(exc: BaseException) -> InputError | None:
    """The InputError a database refusal of a value stands for (None: another failure).

    PostgreSQL refuses a too-long text or an out-of-range number with a ``DataError``; the
    SQLite driver raises a bare ``OverflowError`` for an integer beyond 64 bits. The bounds
    above keep both out of the schemas; this is the safety net for a value that escapes them
    (a command-line id, a column narrower than the model).
    """
    if isinstance(exc, DataError | OverflowError) or (
        isinstance(exc, StatementError) and isinstance(exc.orig, OverflowError)
    ):
        return InputError(DATABASE_REFUSAL)
    return None
