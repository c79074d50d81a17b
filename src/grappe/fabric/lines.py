"""Physical line numbers of CSV records when blank lines or quoted line breaks shift them.

DuckDB numbers its rejected records by record (blank lines count, a quoted field
spanning several lines counts once) and gives no number to accepted records. When a
file has neither blank lines nor quoted line breaks, record k is on line k; otherwise
this module indexes the records with NumPy, chunk by chunk, without a Python loop
over lines: a newline ends a record when an even number of quote characters precede
it (RFC 4180 escapes a quote by doubling it, which keeps the parity).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import numpy as np
import numpy.typing as npt

_CHUNK: Final = 16 * 1024 * 1024
_NEWLINE: Final = 10
_RETURN: Final = 13
_QUOTE: Final = 34

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class RecordIndex:
    """Where each record of a CSV file starts.

    Attributes
    ----------
    start_line
        1-based physical line where record i (0-based; record 0 is the header) starts.
    blank
        True for blank records, which DuckDB skips but still counts.
    """

    start_line: IntArray
    blank: BoolArray

    def accepted_lines(self, rejected_records: IntArray) -> IntArray:
        """Physical lines of the accepted records, in file order.

        Parameters
        ----------
        rejected_records
            DuckDB's 1-based record numbers of the rejected records.
        """
        keep = ~self.blank.copy()
        keep[0] = False  # the header
        keep[np.asarray(rejected_records, dtype=np.int64) - 1] = False
        return self.start_line[keep]


def _open(path: Path, compressed: bool) -> BinaryIO:
    if compressed:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def index_records(path: Path, compressed: bool = False) -> RecordIndex:
    """Index the records of a CSV file (see the module docstring)."""
    ends: list[IntArray] = []  # global byte offsets of record-ending newlines
    end_lines: list[IntArray] = []  # their 1-based physical line numbers
    before_end: list[BoolArray] = []  # whether a carriage return precedes them
    quotes = 0
    newlines = 0
    offset = 0
    last_byte = -1
    with _open(path, compressed) as stream:
        while chunk := stream.read(_CHUNK):
            data = np.frombuffer(chunk, dtype=np.uint8)
            nl = np.flatnonzero(data == _NEWLINE)
            q = np.flatnonzero(data == _QUOTE)
            parity = (quotes + np.searchsorted(q, nl)) % 2
            ending = nl[parity == 0]
            previous = np.where(ending > 0, data[np.maximum(ending - 1, 0)], last_byte)
            line_numbers = newlines + 1 + np.flatnonzero(parity == 0)
            ends.append(ending.astype(np.int64) + offset)
            end_lines.append(line_numbers.astype(np.int64))
            before_end.append(previous == _RETURN)
            quotes += len(q)
            newlines += len(nl)
            offset += len(data)
            last_byte = int(data[-1])
    end = np.concatenate(ends) if ends else np.empty(0, np.int64)
    end_line = np.concatenate(end_lines) if end_lines else np.empty(0, np.int64)
    cr = np.concatenate(before_end) if before_end else np.empty(0, np.bool_)
    if offset and last_byte != _NEWLINE:  # a last record without a final newline
        end = np.append(end, offset)
        end_line = np.append(end_line, newlines + 1)
        cr = np.append(cr, last_byte == _RETURN)
    previous_end = np.concatenate([[-1], end[:-1]])
    length = end - previous_end - 1
    blank = (length == 0) | ((length == 1) & cr)
    start_line = np.concatenate([[1], end_line[:-1] + 1]).astype(np.int64)
    return RecordIndex(start_line=start_line, blank=blank)
