"""Look at the head of a file: CSV or Parquet, encoding, delimiter and header columns."""

from __future__ import annotations

import codecs
import csv
import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import pyarrow.parquet as pq

from grappe.errors import FileFormatError, InputError

SNIFF_BYTES: Final = 4 * 1024 * 1024
"""How much of a CSV file the encoding detection decodes (the first MBs)."""

DELIMITERS: Final = (";", ",", "\t", "|")

ENCODINGS: Final = ("utf-8", "cp1252", "latin-1")
"""Encodings of the CSV files grappe reads; every one but UTF-8 is transcoded before the scan."""

_ENCODING_ALIASES: Final[dict[str, str]] = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "cp1252": "cp1252",
    "cp-1252": "cp1252",
    "windows-1252": "cp1252",
    "win-1252": "cp1252",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "iso8859-1": "latin-1",
}

_PARQUET_MAGIC: Final = b"PAR1"
_GZIP_MAGIC: Final = b"\x1f\x8b"


@dataclass(frozen=True)
class SniffedFile:
    """What the head of a file says about its layout.

    Attributes
    ----------
    path
        The file.
    container
        ``"csv"`` or ``"parquet"``.
    columns
        Header names, in file order.
    encoding
        One of :data:`ENCODINGS` (CSV only).
    delimiter
        Field separator (CSV only).
    compression
        ``"gzip"`` or ``"none"`` (CSV only).
    data_path
        The file the engine scans when it is not ``path`` itself: a plain UTF-8 copy of
        a compressed or non-UTF-8 file (see :func:`grappe.fabric.plain.plain_copy`).
        Messages and the catalogue always name ``path``.
    """

    path: Path
    container: Literal["csv", "parquet"]
    columns: tuple[str, ...]
    encoding: str = "utf-8"
    delimiter: str = ","
    compression: str = "none"
    data_path: Path | None = None

    @property
    def scanned(self) -> Path:
        """The file the engine reads: ``data_path`` when set, else ``path``."""
        return self.data_path if self.data_path is not None else self.path

    def header_text(self, limit: int = 160) -> str:
        """The header as the user would see it, shortened for error messages."""
        text = (self.delimiter if self.container == "csv" else ", ").join(self.columns)
        return text if len(text) <= limit else text[: limit - 3] + "..."


def normalise_encoding(encoding: str) -> str:
    """The DuckDB name of an encoding given by a user, or an InputError."""
    key = encoding.strip().lower().replace("_", "-")
    if key not in _ENCODING_ALIASES:
        raise InputError(
            f"encodage {encoding!r} non pris en charge ; valeurs possibles : "
            + ", ".join(ENCODINGS)
        )
    return _ENCODING_ALIASES[key]


def detect_encoding(head: bytes, is_complete: bool) -> str:
    """``utf-8`` when the head decodes as UTF-8, else ``cp1252`` (Windows-1252).

    Windows-1252 is what French spreadsheets write; it is ISO-8859-1 plus typographic
    characters (’ Œ € …) in 0x80-0x9F, where ISO-8859-1 has control characters that
    no text file holds, so it reads ISO-8859-1 files identically. The head may end
    inside a multi-byte character: an incremental decoder that is not told the input
    is final accepts that truncated tail.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=is_complete)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def gzip_error(path: Path, exc: Exception) -> FileFormatError:
    """The one-line error for an unreadable gzip archive (truncated or corrupt)."""
    what = "tronquée" if isinstance(exc, EOFError) else "corrompue"
    return FileFormatError(f"{path} : archive gzip {what}, illisible ; recompressez le fichier")


GZIP_ERRORS: Final = (EOFError, zlib.error, gzip.BadGzipFile)
"""What Python's gzip reader raises on a truncated or corrupt archive."""


def sniff_delimiter(header_line: str) -> str:
    """The candidate delimiter that occurs most often in the header line."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_head(path: Path, compressed: bool) -> tuple[bytes, bool]:
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as stream:
            head = stream.read(SNIFF_BYTES)
            is_complete = not stream.read(1)
    except GZIP_ERRORS as exc:
        raise gzip_error(path, exc) from exc
    return head, is_complete


def sniff(path: Path, delimiter: str | None = None, encoding: str | None = None) -> SniffedFile:
    """Read the head of a CSV or Parquet file and describe its layout.

    Parameters
    ----------
    path
        The file to inspect.
    delimiter, encoding
        Forced values (CSV only); detected from the head when None.

    Raises
    ------
    InputError
        The file does not exist or cannot be read.
    FileFormatError
        The file is empty, or its header cannot be parsed.
    """
    if path.is_dir():
        raise InputError(f"{path} : c'est un dossier ; donnez les fichiers qu'il contient")
    if not path.is_file():
        raise InputError(f"{path} : fichier introuvable")
    try:
        with path.open("rb") as stream:
            magic = stream.read(4)
    except OSError as exc:
        raise InputError(f"{path} : lecture impossible ({exc.strerror})") from exc
    if magic == _PARQUET_MAGIC:
        try:
            names = pq.read_schema(path).names
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise FileFormatError(f"{path} : fichier Parquet illisible ({exc})") from exc
        return SniffedFile(path=path, container="parquet", columns=tuple(names))
    compressed = magic[:2] == _GZIP_MAGIC
    if magic[:2] == b"PK":
        raise FileFormatError(
            f"{path} : archive ZIP ; décompressez-la et importez le CSV qu'elle contient"
        )
    head, is_complete = _read_head(path, compressed)
    if not head.strip():
        raise FileFormatError(f"{path} : fichier vide")
    enc = normalise_encoding(encoding) if encoding else detect_encoding(head, is_complete)
    text = head.decode(enc, errors="replace")
    text = text.removeprefix("\ufeff")
    header_line = text.splitlines()[0] if text else ""
    if delimiter is not None and len(delimiter) != 1:
        raise InputError(f"séparateur {delimiter!r} invalide : un seul caractère attendu")
    sep = delimiter if delimiter is not None else sniff_delimiter(header_line)
    columns = next(csv.reader([header_line], delimiter=sep, quotechar='"'), [])
    columns = [c.strip() for c in columns]
    if not any(columns):
        raise FileFormatError(f"{path}, ligne 1 : en-tête vide")
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise FileFormatError(
            f"{path}, ligne 1 : colonnes en double dans l'en-tête : {', '.join(duplicates)}"
        )
    return SniffedFile(
        path=path,
        container="csv",
        columns=tuple(columns),
        encoding=enc,
        delimiter=sep,
        compression="gzip" if compressed else "none",
    )
