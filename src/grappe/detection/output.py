"""Tables written to files: the output formats and one writer for CSV, XLSX, Parquet and JSON."""

from __future__ import annotations

import math
from pathlib import Path
from typing import IO, Literal, TypeVar

import numpy as np
import pandas as pd

from grappe.errors import InputError
from grappe.kit import export

OutputFormat = Literal["csv", "csv-excel", "xlsx", "parquet", "json"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("csv", "csv-excel", "xlsx", "parquet", "json")
#: Formats named only with --format (their files end in .csv): never inferred from a suffix.
_NOT_SUFFIXES = ("csv-excel",)
#: What to do when an XLSX file would pass Excel's limit (the caller may name its own way).
XLSX_HINT = "écrivez un CSV (--format csv)"
_F = TypeVar("_F", bound=str)


def output_format(path: Path | None, format: str | None) -> OutputFormat:
    """The output format: ``format`` when given, else the suffix of ``path`` (else CSV).

    Raises
    ------
    InputError
        The format (or the suffix) is not one of :data:`OUTPUT_FORMATS`.
    """
    return file_format(path, format, OUTPUT_FORMATS)


def file_format(path: Path | None, format: str | None, known: tuple[_F, ...]) -> _F:
    """``format`` when given, else the suffix of ``path`` (else CSV), among ``known``."""
    if format is None:
        suffix = path.suffix.lower().lstrip(".") if path is not None else ""
        if not suffix:
            suffix = "csv"
        if suffix in _NOT_SUFFIXES or suffix not in known:
            raise InputError(
                f"{path}: cannot infer the output format from suffix {suffix!r}; "
                f"use one of {', '.join(known)}"
            )
        format = suffix
    for name in known:
        if format == name:
            return name
    raise InputError(f"format={format!r} is not one of {', '.join(known)}")


def write_frame(
    frame: pd.DataFrame,
    target: Path | IO[str],
    format: OutputFormat,
    *,
    xlsx_hint: str = XLSX_HINT,
) -> None:
    """Write a frame as CSV, French Excel CSV, XLSX, Parquet or JSON records.

    CSV (``csv``) is the dialect for programs of :mod:`grappe.kit.export` (``,``, UTF-8,
    English column names, full precision, ``true``/``false``); ``csv-excel`` its French
    Excel variant (``;``, decimal comma, BOM, French headers, ``oui``/``non``); ``xlsx`` a
    sheet with the French headers of :mod:`grappe.detection.labels`, their number formats
    and a frozen header row. Text cells are safe against formula injection; JSON writes
    ``NaN`` as ``null``. ``target`` is a path, or for CSV and JSON an open text stream (e.g.
    ``sys.stdout``). CSV and JSON files are written by DuckDB (:mod:`grappe.kit.export`).

    Raises
    ------
    InputError
        Parquet or XLSX without a file; an XLSX sheet would pass Excel's 1,048,576 rows (the
        message says what to do: ``xlsx_hint``).
    """
    from grappe.detection import labels

    if format in ("parquet", "xlsx"):
        if not isinstance(target, Path):
            raise InputError(f"--format {format} : indiquez un fichier avec --out")
        _write_file(frame, target, format, xlsx_hint)
        return
    if format == "csv":
        export.write_csv(target, frame, dialect=export.PROGRAMS)
        return
    if format == "csv-excel":
        export.write_csv(target, frame, labels=labels.labels(frame.columns),
                         dialect=export.EXCEL_FR)
        return
    if format == "json":
        export.write_json(target, frame)
        return
    raise InputError(f"format={format!r} is not one of {', '.join(OUTPUT_FORMATS)}")


def _write_file(frame: pd.DataFrame, target: Path, format: str, xlsx_hint: str) -> None:
    """The formats that need a file: Parquet and XLSX."""
    from grappe.detection import labels

    if format == "parquet":
        frame.to_parquet(target, index=False)
        return
    if len(frame) >= export.XLSX_MAX_ROWS:
        rows, limit = (f"{n:,}".replace(",", " ") for n in (len(frame), export.XLSX_MAX_ROWS - 1))
        raise InputError(f"{rows} lignes : une feuille XLSX en contient au plus {limit} sous "
                         f"l'en-tête ; {xlsx_hint}")
    export.write_xlsx(target, frame, labels=labels.labels(frame.columns),
                      number_formats=labels.number_formats(frame.columns))


def json_default(value: object) -> object:
    """JSON for NumPy scalars: integers and booleans as such, NaN as null."""
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, np.floating):
        number = float(value)
        return None if math.isnan(number) else number
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")

