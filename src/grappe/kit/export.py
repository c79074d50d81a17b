"""Safe CSV and XLSX files from tables: the one writer behind every tabular output of grappe.

Every cell goes through the same two rules, in CSV and in XLSX alike:

* **Formula injection.** A *text* cell whose first character is ``=``, ``+``, ``-``, ``@``,
  a tab, a carriage return or one of the full-width forms ``＝ ＋ － ＠`` is written with a
  leading ``'``, so that no spreadsheet program runs it as a formula (OWASP's advice).
  Text that already starts with apostrophes before such a character gets one more, so that
  :func:`unquote` on import gives back exactly the text exported. Numbers written as numbers
  (negative ones included) are never touched: they stay numbers in both formats.
* **Control characters.** The characters XML 1.0 forbids (C0 controls other than tab, line
  feed and carriage return; lone surrogates; U+FFFE and U+FFFF) are replaced by U+FFFD, the
  replacement character: openpyxl refuses them (``IllegalCharacterError``) and one of them
  would otherwise break a whole export. Replaced rather than removed, so that the loss shows;
  CSV gets the same rule so that both files of one export hold the same text.

Two CSV dialects (CONTRACTS.md, "Files"): :data:`PROGRAMS` (``,``, UTF-8 without BOM, the
column names as headers, ``.`` decimals at full precision, ISO dates, ``true``/``false``) and
:data:`EXCEL_FR` (``;``, decimal comma, BOM, the French labels as headers, ``oui``/``non``).
XLSX files, for people, carry the French labels, a bold frozen header row, dates as dates
(``dd/mm/yyyy``) and the number formats the caller gives; openpyxl stores numbers with 16
significant digits (Excel computes with 15), and a number Excel cannot hold (infinite, or
beyond ±1e308) as its text, ``inf`` or ``-inf`` for instance.

A table is a pandas ``DataFrame``, a pyarrow ``Table``, a sequence of mappings, or a sequence
of row sequences with their ``columns``. pandas, pyarrow and openpyxl load only when a file is
written, so importing :func:`unquote` into a reader costs nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from grappe.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

# The characters a spreadsheet program reads as the start of a formula (or that shift a cell
# so that what follows is read as one), ASCII and full-width.
FORMULA_STARTS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
QUOTE = "'"
REPLACEMENT = "\ufffd"
XLSX_MAX_ROWS = 1_048_576  # Excel's sheet limit, header row included
XLSX_MAX_NUMBER = 9.99999999999999e307  # Excel's largest number

# Written without escapes (``-`` last) so that Python's re and DuckDB's RE2 read it alike.
_STARTS_CLASS = "[" + FORMULA_STARTS.replace("-", "") + "-]"
_NEEDS_QUOTE = re.compile(QUOTE + "*" + _STARTS_CLASS)
QUOTED_FORMULA = "^" + QUOTE + "(" + QUOTE + "*" + _STARTS_CLASS + ")"
"""The ``'`` an export puts before a formula start, as a regular expression for Python's re and
DuckDB's RE2 alike: replacing it by its group 1 is :func:`unquote` (readers in SQL use it)."""
_QUOTED = re.compile(QUOTED_FORMULA)
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm:ss"
_WIDTH_SAMPLE = 200  # rows read to size the XLSX columns

FileFormat = Literal["csv", "csv-excel", "xlsx"]
"""The formats of a file export: CSV for programs, CSV for French spreadsheets, XLSX."""
FILE_FORMATS: tuple[FileFormat, ...] = ("csv", "csv-excel", "xlsx")
#: The file suffix of each format: the French Excel CSV is a ``.csv`` file too.
SUFFIXES: dict[FileFormat, str] = {"csv": ".csv", "csv-excel": ".csv", "xlsx": ".xlsx"}
#: The media type of each format, for web answers.
MEDIA_TYPES: dict[FileFormat, str] = {
    "csv": "text/csv; charset=utf-8",
    "csv-excel": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV file is written: separator, decimal mark, encoding, headers, booleans."""

    delimiter: str
    decimal: str
    encoding: str
    true: str
    false: str
    labelled: bool
    """Headers are the French labels given by the caller (else the column names)."""
    lineterminator: str = "\r\n"
    """RFC 4180's: with it the csv module quotes a text holding a bare carriage return too."""


PROGRAMS = CsvDialect(",", ".", "utf-8", "true", "false", labelled=False)
"""CSV for programs: ``,``, UTF-8 without BOM, snake_case names, ``.``, ``true``/``false``."""
EXCEL_FR = CsvDialect(";", ",", "utf-8-sig", "oui", "non", labelled=True)
"""CSV for French spreadsheet programs: ``;``, decimal comma, BOM, French headers, oui/non."""


def safe_text(text: str) -> str:
    """A text cell as exported: illegal characters replaced, a formula start neutralised.

    Examples
    --------
    >>> safe_text("=HYPERLINK(\\"http://evil.example\\")")
    '\\'=HYPERLINK("http://evil.example")'
    >>> safe_text("-5"), safe_text("Dupont"), safe_text("a\\x01b")
    ("'-5", 'Dupont', 'a\\ufffdb')
    """
    text = _ILLEGAL.sub(REPLACEMENT, text)
    return QUOTE + text if _NEEDS_QUOTE.match(text) else text


def unquote(text: str) -> str:
    """A text cell as imported: the ``'`` an export put before a formula start removed.

    ``unquote(safe_text(t)) == t`` for every text without illegal characters.

    Examples
    --------
    >>> unquote("'=1+1"), unquote("'Dupont"), unquote("''-x")
    ('=1+1', "'Dupont", "'-x")
    """
    return _QUOTED.sub(r"\1", text, count=1)


def write(
    path: Path | str,
    data: Any,
    *,
    format: FileFormat | None = None,
    columns: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    number_formats: Mapping[str, str] | None = None,
    sheet: str = "Données",
) -> Path:
    """Write a table to ``path`` (see :func:`write_csv`, :func:`write_xlsx`).

    ``format`` is ``csv`` (:data:`PROGRAMS`), ``csv-excel`` (:data:`EXCEL_FR`) or ``xlsx``;
    by default the suffix of ``path`` chooses: ``.csv`` for programs, ``.xlsx``.

    Raises
    ------
    InputError
        No format and a suffix other than ``.csv`` or ``.xlsx``; an XLSX file would pass
        Excel's limit.
    """
    path = Path(path)
    if format is None:
        format = _format_of(path)
    if format == "xlsx":
        write_xlsx(
            path, data, columns=columns, labels=labels, number_formats=number_formats, sheet=sheet
        )
    else:
        dialect = EXCEL_FR if format == "csv-excel" else PROGRAMS
        write_csv(path, data, columns=columns, labels=labels, dialect=dialect)
    return path


def _format_of(path: Path) -> FileFormat:
    """The format a file's suffix names: ``.csv`` is the CSV for programs."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".xlsx":
        return "xlsx"
    raise InputError(f"{path.name} : extension {suffix or '?'} non prise en charge (.csv ou .xlsx)")


def write_csv(
    target: Path | str | IO[str],
    data: Any,
    *,
    columns: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    dialect: CsvDialect = PROGRAMS,
) -> None:
    """Write a table as CSV in ``dialect`` to a path or an open text stream.

    Parameters
    ----------
    data
        A pandas ``DataFrame``, a pyarrow ``Table``, a sequence of mappings, or a sequence of
        row sequences (then ``columns`` names them).
    labels
        French headers by column name, used when ``dialect.labelled``.
    """
    frame = _frame(data, columns)
    names = _headers(frame, labels if dialect.labelled else None)
    out = frame.copy(deep=False)
    for i in range(frame.shape[1]):
        out.isetitem(i, _csv_column(frame.iloc[:, i], dialect))
    if isinstance(target, Path | str) and _engine_writes(out, names, dialect):
        _copy_csv(out, [safe_text(n) for n in names], _writable(target), dialect)
        return
    options: dict[str, Any] = {
        "sep": dialect.delimiter,
        "decimal": dialect.decimal,
        "index": False,
        "header": [safe_text(n) for n in names],
        "lineterminator": dialect.lineterminator,
    }
    if isinstance(target, Path | str):
        with _writable(target).open("w", encoding=dialect.encoding, newline="") as handle:
            out.to_csv(handle, **options)
    else:
        out.to_csv(target, **options)


def write_json(target: Path | IO[str], frame: pd.DataFrame) -> None:
    """Write a frame as a JSON array of records (one object per row, keys the column names).

    Numbers that JSON cannot hold (NaN, infinities) are written ``null``. A file is written
    by DuckDB from the frame's Arrow columns (seconds for millions of cells); a stream gets
    the same records through :mod:`json`.
    """
    import json

    import pyarrow as pa

    table = _nulls_for_non_finite(pa.Table.from_pandas(frame, preserve_index=False))
    if isinstance(target, Path):
        _copy(table, _writable(target), "FORMAT JSON, ARRAY true")
        return
    target.write(json.dumps(table.to_pylist(), ensure_ascii=False, allow_nan=False) + "\n")


def write_xlsx(
    target: Path | str | IO[bytes],
    data: Any,
    *,
    columns: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    number_formats: Mapping[str, str] | None = None,
    sheet: str = "Données",
) -> None:
    """Write a table as one XLSX sheet: French headers, frozen header row, typed cells.

    Parameters
    ----------
    labels
        French headers by column name (else the column names).
    number_formats
        Excel number formats by column name (e.g. ``"0.00"``); dates get ``dd/mm/yyyy``.

    Raises
    ------
    InputError
        The table has more rows than an Excel sheet holds.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    if isinstance(target, Path | str):
        target = _writable(target)  # before the workbook: a write-only one cannot be dropped
    frame = _frame(data, columns)
    if len(frame) >= XLSX_MAX_ROWS:
        rows, limit = (f"{n:,}".replace(",", " ") for n in (len(frame), XLSX_MAX_ROWS - 1))
        raise InputError(
            f"{rows} lignes : une feuille XLSX en contient au plus {limit} sous l'en-tête ; "
            "réduisez la sélection ou écrivez un CSV"
        )
    names = _headers(frame, labels)
    values = [_xlsx_column(frame.iloc[:, i]) for i in range(frame.shape[1])]
    given = number_formats or {}
    formats = [
        given.get(str(name)) or _date_format(column)
        for name, column in zip(frame.columns, values, strict=True)
    ]
    book = Workbook(write_only=True)
    ws = book.create_sheet(_ILLEGAL.sub(REPLACEMENT, sheet)[:31] or "Données")
    ws.freeze_panes = "A2"
    for i, (name, column) in enumerate(zip(names, values, strict=True), start=1):
        sample = [len(str(v)) for v in column[:_WIDTH_SAMPLE] if v is not None]
        ws.column_dimensions[get_column_letter(i)].width = min(50, max([len(name), 8, *sample]) + 2)
    bold = Font(bold=True)
    header = []
    for name in names:
        cell = WriteOnlyCell(ws, safe_text(name))
        cell.font = bold
        header.append(cell)
    ws.append(header)

    def styled(value: Any, number_format: str | None) -> Any:
        if number_format is None or value is None or isinstance(value, str):
            return value
        cell = WriteOnlyCell(ws, value)
        cell.number_format = number_format
        return cell

    plain = all(f is None for f in formats)
    for row in zip(*values, strict=True):
        ws.append(row if plain else [styled(v, f) for v, f in zip(row, formats, strict=True)])
    book.save(target)


# --------------------------------------------------------------------------------------------
# implementation


def _writable(target: Path | str) -> Path:
    """The output path, its folder checked first so that a typo is a message, not a traceback."""
    path = Path(target)
    if not path.parent.is_dir():
        raise InputError(f"{path} : dossier {path.parent} introuvable")
    if path.is_dir():
        raise InputError(f"{path} : c'est un dossier, pas un fichier")
    return path


def _engine_writes(out: pd.DataFrame, names: list[str], dialect: CsvDialect) -> bool:
    """Whether DuckDB writes these prepared columns exactly as pandas would.

    Its CSV writer formats doubles as Python's ``repr`` (shortest round trip) and quotes like
    the csv module, so the bytes are the same; it has no decimal comma nor byte order mark,
    and writes datetimes its own way, so those stay with pandas.
    """
    import pandas as pd

    plain = (dialect.decimal, dialect.encoding, dialect.true, dialect.false) == (
        ".", "utf-8", "true", "false")
    kinds = out.dtypes.tolist()
    return plain and len(set(names)) == len(names) and not any(
        pd.api.types.is_datetime64_any_dtype(k) or isinstance(k, pd.PeriodDtype) for k in kinds)


def _copy_csv(out: pd.DataFrame, headers: list[str], path: Path, dialect: CsvDialect) -> None:
    """Write prepared CSV columns (text already safe) through DuckDB."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.Table.from_pandas(out, preserve_index=False)
    # pandas writes an empty text as nothing, as a missing one; DuckDB would quote it
    columns = [
        pc.if_else(pc.equal(c, ""), pa.scalar(None, c.type), c)
        if pa.types.is_string(c.type) or pa.types.is_large_string(c.type) else c
        for c in table.columns
    ]
    table = _nulls_for_non_finite(pa.table(columns, names=headers), keep_infinite=True)
    _copy(table, path, f"FORMAT CSV, DELIMITER '{dialect.delimiter}', HEADER true, "
                       f"NEW_LINE '{dialect.lineterminator}'")


def _nulls_for_non_finite(table: Any, keep_infinite: bool = False) -> Any:
    """NaN (and unless kept, infinities) of the float columns as nulls."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def cleaned(column: Any) -> Any:
        if not pa.types.is_floating(column.type):
            return column
        bad = pc.is_nan(column) if keep_infinite else pc.invert(pc.is_finite(column))
        return pc.if_else(bad, pa.scalar(None, column.type), column)

    return pa.table([cleaned(c) for c in table.columns], names=table.column_names)


def _copy(table: Any, path: Path, options: str) -> None:
    """``COPY`` an Arrow table to ``path`` with DuckDB (row order kept)."""
    import duckdb

    with duckdb.connect() as con:
        con.register("rows", table)
        # the path is bound; ``options`` are this module's constant COPY options
        con.execute(f"COPY rows TO $path ({options})", {"path": str(path)})


def _frame(data: Any, columns: Sequence[str] | None) -> pd.DataFrame:
    """Any supported table as a DataFrame; rows keep their Python values (object columns)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if type(data).__module__.startswith("pyarrow"):
        # nullable integers stay integers (not floats), dates stay dates
        return data.to_pandas(integer_object_nulls=True, date_as_object=True)
    rows = list(data)
    if rows and isinstance(rows[0], Mapping):
        names = list(columns) if columns is not None else list(rows[0])
        rows = [[row.get(n) for n in names] for row in rows]
    elif columns is None:
        raise TypeError("write_csv/write_xlsx : columns= attendu pour des lignes données en séquences")
    else:
        names = list(columns)
    # object columns: no inference, so an integer column with gaps does not turn into floats
    return pd.DataFrame(rows, columns=names, dtype=object) if rows else pd.DataFrame(
        {n: pd.Series([], dtype=object) for n in names}
    )


def _headers(frame: pd.DataFrame, labels: Mapping[str, str] | None) -> list[str]:
    given = labels or {}
    return [given.get(str(name), str(name)) for name in frame.columns]


def _date_format(column: list[Any]) -> str | None:
    """The display format of a column holding dates (None for other columns)."""
    kinds = {type(v) for v in column if isinstance(v, dt.date)}
    if not kinds:
        return None
    return DATETIME_FORMAT if any(issubclass(k, dt.datetime) for k in kinds) else DATE_FORMAT


def _missing(value: Any) -> bool:
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, Decimal):
        return value.is_nan()
    return isinstance(value, float) and math.isnan(value)


def _by_value(series: pd.Series, convert: Callable[[Any], Any]) -> list[Any]:
    """``convert`` applied to every cell; once per distinct value for text columns."""
    import numpy as np
    import pandas as pd

    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        # Text repeats (territory and sector names): convert each distinct value once. Only
        # for pure text, where equal values cannot differ in type (True == 1 == 1.0).
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        table = np.array([convert(v) for v in uniques] + [None], dtype=object)
        return list(table[codes])
    return [None if _missing(v) else convert(v) for v in series.tolist()]


def _csv_column(series: pd.Series, dialect: CsvDialect) -> Any:
    import pandas as pd

    kind = series.dtype
    if pd.api.types.is_bool_dtype(kind):
        return series.map({True: dialect.true, False: dialect.false})
    if pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_datetime64_any_dtype(kind):
        return series  # pandas writes them: full precision, dialect's decimal mark, ISO dates
    return _by_value(series, lambda v: _csv_text(v, dialect))


def _csv_text(value: Any, dialect: CsvDialect) -> str | None:
    import numpy as np

    if _missing(value):
        return None
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, bool | np.bool_):
        return dialect.true if value else dialect.false
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value)).replace(".", dialect.decimal)
    if isinstance(value, Decimal):
        return str(value).replace(".", dialect.decimal)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _csv_text(value.value, dialect)
    return safe_text(str(value))


def _xlsx_column(series: pd.Series) -> list[Any]:
    import pandas as pd

    kind = series.dtype
    if pd.api.types.is_datetime64_any_dtype(kind):
        if getattr(kind, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        midnight = bool((series.dropna() == series.dropna().dt.normalize()).all())
        return [
            None if _missing(v) else (v.date() if midnight else v.to_pydatetime())
            for v in series.astype(object)
        ]
    if pd.api.types.is_integer_dtype(kind) and not series.hasnans:
        return series.tolist()
    return _by_value(series, _xlsx_value)


def _xlsx_value(value: Any) -> Any:
    import numpy as np

    if _missing(value):
        return None
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        number: float | Decimal = value if isinstance(value, Decimal) else float(value)
        # Excel has no infinity and stops at 1e308: such a number is written as its text
        return number if abs(float(number)) <= XLSX_MAX_NUMBER else safe_text(str(value))
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return value
    if isinstance(value, Enum):
        return _xlsx_value(value.value)
    return safe_text(str(value))
