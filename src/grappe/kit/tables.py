"""Read a small CSV or XLSX table that a user keeps in a spreadsheet: rows with their line numbers.

The batch commands (B2B schedule, reviewer assignment, selection) read tables of a few thousand
rows that organisers and funders keep in spreadsheets (CONTRACTS.md, "Files"):

* CSV separated by ``,``, ``;`` or a tab (sniffed on the header line), UTF-8 with or without BOM,
  Windows-1252 when the bytes are not UTF-8 (what French spreadsheet programs write);
* XLSX: the first sheet, cells as the program shows them (an integer stored as ``3.0`` reads
  ``3``);
* header names matched without case, accents or surrounding spaces;
* every cell stripped, and the ``'`` an export put before a formula start removed
  (:func:`grappe.kit.export.unquote`), so an exported file re-imports unchanged.

Line numbers are the file's (the header is line 1), so that a message names the line a person
sees in the spreadsheet. Checking the values is the caller's job: :class:`Issue` is the one
shape of a refused row, with its one French message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from grappe.errors import FileFormatError, InputError
from grappe.kit.export import unquote

_DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class Row:
    """One non-empty data row: its line in the file and its cells by (normalised) column name."""

    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class Issue:
    """A refused row: where (file, line, column, value) and why, said once in French."""

    path: Path
    line: int
    column: str
    value: str
    reason: str

    @property
    def message(self) -> str:
        """The one-line French message shown to the user."""
        return f"{self.path.name}, ligne {self.line}, colonne {self.column} ({self.value!r}) : {self.reason}"


def column_key(name: object) -> str:
    """A header name as matched: lower case, no accents, inner spaces as ``_``."""
    folded = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return "_".join(folded.lower().replace("-", " ").split())


def parse_decimal(text: str) -> Decimal:
    """A number as people type it: ``.`` or ``,`` decimal mark, spaces grouping thousands.

    Raises
    ------
    ValueError
        The text is not a finite number (the caller words the message for its row).

    Examples
    --------
    >>> parse_decimal("12 500,50"), parse_decimal("0.75"), parse_decimal("-3")
    (Decimal('12500.50'), Decimal('0.75'), Decimal('-3'))
    """
    compact = "".join(text.split()).replace(",", ".")  # split() also drops no-break spaces
    try:
        value = Decimal(compact)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def read_rows(path: Path, required: Sequence[str], optional: Sequence[str] = ()) -> list[Row]:
    """The non-empty rows of a CSV or XLSX table, keeping the ``required`` and ``optional`` columns.

    Parameters
    ----------
    path
        The file (``.csv``, ``.txt`` or ``.xlsx``).
    required, optional
        Column names (snake_case); a missing required one refuses the whole file.

    Raises
    ------
    InputError
        The file does not exist, is empty, has an unknown extension, or lacks a required
        column (the message lists the columns found).
    """
    lines = cells(path)
    header = next(lines, None)
    if header is None or not any(header):
        raise FileFormatError(f"{path} : fichier vide, en-tête attendu en ligne 1")
    keys = [column_key(h) for h in header]
    missing = [name for name in required if name not in keys]
    if missing:
        raise FileFormatError(
            f"{path}, ligne 1 : colonne(s) {', '.join(missing)} manquante(s) ; "
            f"colonnes trouvées : {', '.join(h for h in header if h) or 'aucune'}"
        )
    wanted = {name: keys.index(name) for name in (*required, *optional) if name in keys}
    rows = []
    for number, line in enumerate(lines, start=2):
        if not any(line):
            continue
        values = {name: unquote(line[i]) if i < len(line) else "" for name, i in wanted.items()}
        rows.append(Row(number, values))
    return rows


def unique_rows(path: Path, rows: Iterable[Row], column: str) -> tuple[list[Row], list[Issue]]:
    """The rows whose ``column`` (an identifier) is filled and not seen before; the others as issues.

    The first row of an identifier is kept, so that what refers to it still finds it.
    """
    kept: list[Row] = []
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for row in rows:
        name = row.values[column]
        if not name or name in seen:
            reason = f"en double (déjà ligne {seen[name]})" if name else "identifiant vide"
            issues.append(Issue(path, row.line, column, name, reason))
            continue
        seen[name] = row.line
        kept.append(row)
    return kept, issues


def cells(path: Path) -> Iterator[list[str]]:
    """Every line of a CSV or XLSX table as stripped text cells, the header first.

    Raises
    ------
    InputError
        The file does not exist or its extension is neither CSV nor XLSX.
    """
    return ([_cell(v) for v in line] for line in values(path))


def values(path: Path) -> Iterator[list[Any]]:
    """Every line of a CSV or XLSX table, the header first: CSV cells as text, XLSX cells as
    the workbook types them (numbers, dates, booleans, text; None for an empty cell).

    The one reader of the tables users give: :func:`cells` writes its values as text, and
    an import that wants the workbook's own types (a date cell, an amount) reads them here.

    Raises
    ------
    InputError
        The file does not exist or its extension is neither CSV nor XLSX.
    FileFormatError
        An unreadable workbook.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} : fichier introuvable")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return _xlsx_lines(path)
    if suffix in {".csv", ".txt", ".tsv"}:
        return _csv_lines(path)
    raise FileFormatError(f"{path} : extension {suffix or '?'} non prise en charge (.csv ou .xlsx)")


def _csv_lines(path: Path) -> Iterator[list[Any]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # cp1252 rather than Latin-1: its ’ Œ € are what French spreadsheets write in 0x80-0x9F
        text = raw.decode("cp1252", errors="replace")
    # the header's separator: note lines above it (``#``, as in the member template) left aside
    first = next((line for line in text.splitlines() if not line.startswith("#")), "")
    delimiter = max(_DELIMITERS, key=first.count)
    for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        yield [c.strip() for c in cells]


def _xlsx_lines(path: Path) -> Iterator[list[Any]]:
    # calamine (Rust) reads workbooks about ten times faster than openpyxl (the real ANR
    # project workbooks: bench/); empty cells come as "" and are given back as None
    from python_calamine import CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own and builtin types for a bad file
        raise FileFormatError(f"{path} : classeur XLSX illisible ({exc})") from exc
    for row in rows:
        yield [None if v == "" else v for v in row]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
