"""The one rule of "establishment open at a date", as an Ibis predicate on establishment rows.

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

Every domain that asks which establishments were open uses :func:`open_at`: detection on
its own scans, :func:`grappe.fabric.lookup.open_establishments` for the others.

Examples
--------
>>> import datetime as dt
>>> import ibis
>>> from grappe.fabric.schema import arrow_schema
>>> rows = ibis.table(ibis.schema(arrow_schema("establishments")), name="establishments")
>>> "valid_from" in ibis.to_sql(rows.filter(open_at(rows, dt.date(2020, 1, 1))))
True
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir


def as_date(date: dt.date | str) -> dt.date:
    """A date given as a ``datetime.date`` or a string (``AAAA-MM-JJ`` or ``JJ/MM/AAAA``).

    Raises
    ------
    InputError
        The string is not a date (the message quotes it).
    """
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


def open_at(table: ir.Table, date: dt.date | str | ir.DateValue) -> ir.BooleanValue:
    """True for the establishment rows of ``table`` open at ``date`` (the rule above).

    Parameters
    ----------
    table
        An Ibis table with the establishment columns.
    date
        The date: a ``datetime.date``, an ISO string, or an Ibis date expression (a
        column, e.g. each row's own anniversary).

    Returns
    -------
    ibis.expr.types.BooleanValue
        Never NULL, so it filters and counts alike on DuckDB and Spark.
    """
    import ibis

    d = date if not isinstance(date, dt.date | str) else ibis.literal(as_date(date), type="date")
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
