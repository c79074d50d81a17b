"""Dates as users write them: ISO ``AAAA-MM-JJ`` or French ``JJ/MM/AAAA``, one rule for every input.

Command-line options (``--at``, ``--date``…) and member files go through :func:`parse_date`,
and the fabric's SQL import reads the same :data:`DATE_FORMATS`
(:func:`grappe.fabric.sqlkit.parse_date`), so a date a user may write in an imported file is a
date an option accepts too.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from grappe.errors import InputError

ISO_LAYOUT: Final = "%Y-%m-%d"
DATE_FORMATS: Final = (ISO_LAYOUT, "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d")
"""The accepted layouts, ISO first; a day before a month always (French order)."""

EXPECTED: Final = "attendu AAAA-MM-JJ ou JJ/MM/AAAA"
"""What the error messages say a date looks like."""


def parse_date(text: str) -> dt.date:
    """A date written ``AAAA-MM-JJ`` or ``JJ/MM/AAAA`` (also ``JJ-MM-AAAA``, ``AAAA/MM/JJ``).

    Raises
    ------
    ValueError
        The text is none of these layouts, or not a day of the calendar.

    Examples
    --------
    >>> parse_date("31/12/2024"), parse_date(" 2024-12-31 ")
    (datetime.date(2024, 12, 31), datetime.date(2024, 12, 31))
    """
    text = text.strip()
    for layout in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, layout).date()
        except ValueError:
            continue
    raise ValueError(text)


def option_date(option: str, text: str) -> dt.date:
    """The date an option was given, or an ``InputError`` naming the option and the value.

    Examples
    --------
    >>> option_date("--at", "31/12/2024")
    datetime.date(2024, 12, 31)
    """
    try:
        return parse_date(text)
    except ValueError as exc:
        raise InputError(f"{option} {text!r} : date invalide, {EXPECTED}") from exc
