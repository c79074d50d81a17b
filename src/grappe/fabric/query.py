"""Predicates on establishment rows: which establishments were open at a date.

The store holds two shapes of establishment rows (see :mod:`grappe.fabric.schema`):

- **stock rows** (``valid_from`` and ``valid_to`` NULL) describe an establishment's
  whole life as a snapshot sees it: open at ``d`` when it was created on or before
  ``d`` (or its creation date is unknown) and it is either still active at the
  snapshot, or closed after ``d``. A closed row without a closure date (old files
  have no ``dateDebut``) is never counted open: its closing date is unknown.
- **period rows** (history files) describe one period of constant state: open at
  ``d`` when the period is active (``active``) and covers ``d``
  (``valid_from <= d`` and ``valid_to`` NULL or ``>= d``; SIRENE period ends are
  inclusive).

Examples
--------
>>> import datetime as dt
>>> sql = establishments_at(dt.date(2020, 1, 1))
>>> "valid_from <= DATE '2020-01-01'" in sql
True
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir


def _as_date(date: dt.date | str) -> dt.date:
    if isinstance(date, dt.datetime):
        return date.date()
    if isinstance(date, dt.date):
        return date
    from grappe.kit.dates import EXPECTED, parse_date

    try:
        return parse_date(date)
    except ValueError as exc:
        from grappe.errors import InputError

        raise InputError(f"date invalide : {date!r} ({EXPECTED})") from exc


def establishments_at(date: dt.date | str, alias: str | None = None) -> str:
    """SQL predicate (DuckDB and Spark SQL) true for establishment rows open at ``date``.

    Parameters
    ----------
    date
        The date, as a ``datetime.date`` or an ISO string.
    alias
        Table alias to qualify the columns with (``e`` gives ``e.active``...).

    Returns
    -------
    str
        A boolean SQL expression over the establishment columns, to use in ``WHERE``.
    """
    d = f"DATE '{_as_date(date).isoformat()}'"
    p = f"{alias}." if alias else ""
    return (
        f"(CASE WHEN {p}valid_from IS NULL AND {p}valid_to IS NULL THEN "
        f"({p}created IS NULL OR {p}created <= {d}) "
        f"AND ((coalesce({p}active, false) AND {p}closed IS NULL) "
        f"OR ({p}closed IS NOT NULL AND {p}closed > {d})) "
        f"ELSE coalesce(coalesce({p}active, false) AND {p}valid_from <= {d} "
        f"AND ({p}valid_to IS NULL OR {p}valid_to >= {d}), false) END)"
    )


def open_at(table: ir.Table, date: dt.date | str | ir.DateValue) -> ir.BooleanValue:
    """The same predicate as :func:`establishments_at` as an Ibis expression on ``table``.

    Parameters
    ----------
    table
        An Ibis table with the establishment columns.
    date
        The date: a ``datetime.date``, an ISO string, or an Ibis date expression (a
        column, e.g. each row's own anniversary).
    """
    import ibis

    d = date if not isinstance(date, dt.date | str) else ibis.literal(_as_date(date), type="date")
    stock = table.valid_from.isnull() & table.valid_to.isnull()
    closed_after = table.closed.notnull() & (table.closed > d)
    stock_open = (table.created.isnull() | (table.created <= d)) & (
        (table.active.fill_null(False) & table.closed.isnull()) | closed_after
    )
    period_open = (
        table.active.fill_null(False)
        & (table.valid_from <= d)
        & (table.valid_to.isnull() | (table.valid_to >= d))
    )
    return ibis.ifelse(stock, stock_open, period_open.fill_null(False))
