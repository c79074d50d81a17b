"""A plain UTF-8 copy of a gzip or non-UTF-8 CSV file, for the engine to scan.

DuckDB reads UTF-8 and ISO-8859-1 only (it refuses a whole file at the first
Windows-1252 quote mark) and does not check a gzip archive's CRC, so a corrupt
archive could be stored as garbage. Python's gzip reader checks the CRC and the
length at the end of each member, and its codecs decode Windows-1252: one streamed
pass writes the copy, counts its lines and fails on a damaged archive before any row
is read. Every byte keeps its line, so line numbers are those of the original file.
"""

from __future__ import annotations

import codecs
import gzip
import io
from dataclasses import replace
from pathlib import Path
from typing import Final

from grappe.fabric.sniff import GZIP_ERRORS, SniffedFile, gzip_error

_CHUNK: Final = 8 * 1024 * 1024
_C1_FALLBACK: Final = "grappe-c1"


def _c1_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode the five bytes Windows-1252 leaves undefined as their C1 controls, as Windows does.

    Nothing is lost: such a byte stays visible in the stored value, as ISO-8859-1 reads it.
    """
    if not isinstance(error, UnicodeDecodeError):  # pragma: no cover - decoding only
        raise error
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error(_C1_FALLBACK, _c1_fallback)


def needs_copy(sniffed: SniffedFile) -> bool:
    """True for a CSV file the engine cannot scan as it is (gzip, or not UTF-8)."""
    return sniffed.container == "csv" and (
        sniffed.compression == "gzip" or sniffed.encoding != "utf-8"
    )


def plain_copy(sniffed: SniffedFile, out: Path) -> tuple[SniffedFile, int]:
    """Write ``out``, the plain UTF-8 copy of a CSV file; return its description and line count.

    Parameters
    ----------
    sniffed
        The file, as :func:`grappe.fabric.sniff.sniff` described it.
    out
        Where to write the copy (inside the import's work directory).

    Raises
    ------
    FileFormatError
        The gzip archive is truncated or corrupt (one line naming the file).
    """
    decoder = (
        None if sniffed.encoding == "utf-8"
        else codecs.getincrementaldecoder(sniffed.encoding)(errors=_C1_FALLBACK)
    )
    newlines = 0
    last = b""
    with sniffed.path.open("rb") as raw, out.open("wb") as sink:
        stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw) if sniffed.compression == "gzip" else raw
        try:
            while chunk := stream.read(_CHUNK):
                if decoder is not None:
                    chunk = decoder.decode(chunk).encode("utf-8")
                sink.write(chunk)
                newlines += chunk.count(b"\n")
                last = chunk[-1:] or last
        except GZIP_ERRORS as exc:
            raise gzip_error(sniffed.path, exc) from exc
        if decoder is not None:
            sink.write(decoder.decode(b"", final=True).encode("utf-8"))
    lines = newlines + (1 if last not in (b"", b"\n") else 0)
    return replace(sniffed, encoding="utf-8", compression="none", data_path=out), lines
