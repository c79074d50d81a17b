"""Import one file in DuckDB: one scan, validation in SQL, a Parquet file and quarantine rows."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import duckdb
import numpy as np
import pyarrow as pa

from grappe.errors import EngineError, FileFormatError
from grappe.fabric import lines, reference
from grappe.fabric.formats import (
    MAX_LINE_BYTES,
    R_MALFORMED_ENCODING,
    R_MALFORMED_FIELDS,
    R_MALFORMED_QUOTES,
    R_TOO_LONG,
    Plan,
)
from grappe.fabric.schema import columns_of
from grappe.fabric.sniff import SniffedFile
from grappe.fabric.sqlkit import ident
from grappe.progress import Advance

VALUE_MAX_CHARS: Final = 500
"""Quarantined values (a whole malformed CSV line, for instance) are cut to this length."""



@dataclass
class FileImport:
    """The outcome of :func:`run` before it is published in the store.

    The DuckDB connection still holds the temporary table ``quarantine_rows``
    (``line, column, value, reason``) that the store copies into its catalogue.
    """

    conn: duckdb.DuckDBPyConnection
    parquet: Path
    rows_read: int
    rows_stored: int
    rows_quarantined: int
    rows_written: int


def connect(workdir: Path, memory_limit: str, threads: int | None) -> duckdb.DuckDBPyConnection:
    """A private DuckDB database in ``workdir`` that spills there under a memory limit."""
    spill = workdir / "spill"
    spill.mkdir(parents=True, exist_ok=True)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "temp_directory": str(spill),
        "preserve_insertion_order": True,
    }
    if threads:
        config["threads"] = threads
    # A database file rather than memory: its tables are compressed and the buffer
    # manager evicts them under the memory limit, where in-memory tables are not.
    conn = duckdb.connect(":memory:", config=config)
    conn.execute("SET enable_progress_bar = false")  # the caller's Reporter shows progress
    return conn


def _scan_sql(sniffed: SniffedFile, plan: Plan) -> tuple[str, dict[str, object]]:
    """CREATE the table ``raw0``: only the columns the plan needs, as text (SQL, parameters)."""
    path = str(sniffed.scanned)
    if sniffed.container == "parquet":
        projected = ", ".join(
            f"CAST({ident(header)} AS VARCHAR) AS {ident(alias)}"
            for alias, header in plan.columns.items()
        )
        return (
            f"CREATE TEMP TABLE raw0 AS SELECT file_row_number + 1 AS _k, {projected} "
            "FROM read_parquet($path, file_row_number = true)"
        ), {"path": path}
    # Every header column is declared (the reader needs the full layout to split
    # lines) but only the projected ones are materialised.
    projected = ", ".join(
        f"{ident(header)} AS {ident(alias)}" for alias, header in plan.columns.items()
    )
    return (
        f"CREATE TEMP TABLE raw0 AS SELECT {projected} FROM read_csv($path, "
        "header = true, auto_detect = false, delim = $delimiter, "
        "quote = '\"', escape = '\"', encoding = $encoding, "
        "compression = $compression, columns = $columns, strict_mode = true, "
        f"max_line_size = {MAX_LINE_BYTES}, store_rejects = true, "
        "rejects_table = 'reject_errors_0', rejects_scan = 'reject_scans_0')"
    ), {
        "path": path,
        "delimiter": sniffed.delimiter,
        "encoding": sniffed.encoding,
        "compression": "gzip" if sniffed.compression == "gzip" else "none",
        "columns": dict.fromkeys(sniffed.columns, "VARCHAR"),
    }


def _output_sql(plan: Plan) -> str:
    """The plan's output cast to the exact store schema, with the source column (``$source``)."""
    columns = columns_of(plan.kind)
    select = ", ".join(
        "$source AS source" if name == "source"
        else f"CAST({ident(name)} AS {sql_type}) AS {ident(name)}"
        for name, sql_type in columns.items()
    )
    return f"SELECT {select} FROM ({plan.output})"


def first_line(exc: BaseException) -> str:
    """The first line of an engine's message: DuckDB adds hints and lists on later lines."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _count(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = conn.execute(sql).fetchall()[0]
    return int(row[0]) if row is not None else 0


def fsync_file(path: Path) -> None:
    """Flush a file's bytes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _number_lines(
    conn: duckdb.DuckDBPyConnection, sniffed: SniffedFile, physical_lines: int | None,
    records: int,
) -> None:
    """Create ``accepted_line(_k, line)`` and ``rejected_line(record, line)`` for quarantined rows.

    Parquet rows are numbered from 1. In a CSV file with one physical line per record
    (header included), accepted record k is on line k + 1 + the rejected lines before
    it: with rejected lines r_1 < r_2 < ..., r_j precedes record k when the number of
    accepted records before it, g_j = r_j - 1 - j, is below k. Otherwise blank lines
    or quoted line breaks shift the lines, and :mod:`grappe.fabric.lines` indexes them.
    """
    wanted = "SELECT _k FROM bad"
    if sniffed.container == "parquet":
        conn.execute(f"CREATE TEMP TABLE accepted_line AS SELECT _k, _k AS line FROM ({wanted})")
        conn.execute("CREATE TEMP TABLE rejected_line (record BIGINT, line BIGINT)")
        return
    if physical_lines is not None and physical_lines == records + 1:
        conn.execute("""
            CREATE TEMP TABLE reject_gaps AS
            SELECT line - 1 - row_number() OVER (ORDER BY line) AS g FROM rejects""")
        conn.execute(f"""
            CREATE TEMP TABLE accepted_line AS
            SELECT w._k, w._k + 1 + (SELECT count(*) FROM reject_gaps AS r WHERE r.g < w._k)
                AS line
            FROM ({wanted}) AS w""")
        conn.execute("CREATE TEMP TABLE rejected_line AS SELECT line AS record, line FROM rejects")
        return
    index = lines.index_records(sniffed.scanned, compressed=sniffed.compression == "gzip")
    rejected = conn.execute("SELECT line FROM rejects ORDER BY line").fetchnumpy()["line"]
    rejected = np.asarray(rejected, dtype=np.int64)
    accepted_lines = index.accepted_lines(rejected)
    table = pa.table({
        "_k": pa.array(np.arange(1, len(accepted_lines) + 1, dtype=np.int64)),
        "line": pa.array(accepted_lines),
    })
    conn.register("_accepted_index", table)
    conn.execute(f"""
        CREATE TEMP TABLE accepted_line AS
        SELECT i._k, i.line FROM _accepted_index AS i SEMI JOIN ({wanted}) AS w ON w._k = i._k""")
    conn.unregister("_accepted_index")
    starts = index.start_line[np.clip(rejected - 1, 0, len(index.start_line) - 1)]
    conn.register("_rejected_index", pa.table({"record": pa.array(rejected),
                                               "line": pa.array(starts)}))
    conn.execute("CREATE TEMP TABLE rejected_line AS SELECT * FROM _rejected_index")
    conn.unregister("_rejected_index")


def run(
    sniffed: SniffedFile,
    plan: Plan,
    *,
    source_id: str,
    workdir: Path,
    memory_limit: str,
    threads: int | None,
    advance: Advance,
    physical_lines: int | None = None,
) -> FileImport:
    """Import one file into ``workdir/out.parquet`` and the temp table ``quarantine_rows``.

    Parameters
    ----------
    sniffed, plan
        The file's layout and its import plan.
    source_id
        SHA-256 of the file, written in the ``source`` column.
    workdir
        A private directory inside the store (output and DuckDB spill files).
    memory_limit, threads
        DuckDB limits.
    advance
        Called once per finished phase (4 phases).
    physical_lines
        Number of lines of a plain CSV file (counted while hashing it), None if unknown.

    Raises
    ------
    FileFormatError
        The file cannot be read as its header promised (e.g. corrupt Parquet).
    EngineError
        DuckDB failed for another reason (disk full, out of memory).
    """
    conn = connect(workdir, memory_limit, threads)
    try:
        reference.register(conn, *plan.references)
        try:
            conn.execute(*_scan_sql(sniffed, plan))
        except duckdb.Error as exc:
            raise FileFormatError(
                f"{sniffed.path} : lecture impossible ({first_line(exc)})"
            ) from exc
        if sniffed.container == "parquet":
            conn.execute("CREATE TEMP VIEW raw AS SELECT * FROM raw0")
            conn.execute("CREATE TEMP TABLE rejects (line BIGINT, reason VARCHAR, value VARCHAR)")
        else:
            # A table filled by CREATE TABLE AS keeps the file order (insertion order is
            # preserved), so rowid + 1 is the rank of the record among accepted ones.
            conn.execute("CREATE TEMP VIEW raw AS SELECT rowid + 1 AS _k, * FROM raw0")
            conn.execute(f"""
                CREATE TEMP TABLE rejects AS
                SELECT line, CASE
                    WHEN any_value(error_type) IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')
                        THEN $fields
                    WHEN any_value(error_type) = 'INVALID ENCODING' THEN $encoding
                    WHEN any_value(error_type) = 'LINE SIZE OVER MAXIMUM' THEN $too_long
                    ELSE $quotes END AS reason,
                    left(any_value(csv_line), {VALUE_MAX_CHARS}) AS value
                FROM reject_errors_0 GROUP BY line""", {
                "fields": R_MALFORMED_FIELDS, "encoding": R_MALFORMED_ENCODING,
                "too_long": R_TOO_LONG, "quotes": R_MALFORMED_QUOTES,
            })
        advance(1)
        # Validation runs once, into a table of typed output values and check results;
        # the raw text is dropped as soon as it is no longer needed, to bound memory.
        conn.execute(f"CREATE TEMP TABLE lines AS {plan.lines}", plan.params)
        accepted = _count(conn, "SELECT count(*) FROM raw0")
        conn.execute("DROP VIEW raw")
        conn.execute("DROP TABLE raw0")
        conn.execute("""
            CREATE TEMP TABLE bad AS
            SELECT _k, _column, _value, _reason FROM lines WHERE _check IS NOT NULL""")
        conn.execute("CREATE TEMP VIEW good_lines AS SELECT * FROM lines WHERE _check IS NULL")
        advance(1)
        out = workdir / "out.parquet"
        written = conn.execute(
            f"COPY ({_output_sql(plan)}) TO $out (FORMAT parquet, COMPRESSION zstd)",
            {"source": source_id, "out": str(out)},
        ).fetchall()[0]
        rows_written = int(written[0]) if written is not None else 0
        fsync_file(out)
        advance(1)
        rejected = _count(conn, "SELECT count(*) FROM rejects")
        _number_lines(conn, sniffed, physical_lines, accepted + rejected)
        conn.execute(f"""
            CREATE TEMP TABLE quarantine_rows AS
            SELECT line, "column", value, reason FROM (
                SELECT m.line, l._column AS "column",
                    left(l._value, {VALUE_MAX_CHARS}) AS value, l._reason AS reason
                FROM bad AS l JOIN accepted_line AS m ON m._k = l._k
                UNION ALL
                SELECT m.line, CAST(NULL AS VARCHAR), r.value, r.reason
                FROM rejects AS r JOIN rejected_line AS m ON m.record = r.line)
            ORDER BY line""")
        # Counted apart from `bad`, so that the balance below checks the plan: the rows
        # written for establishments (one per record), the good records for aggregates.
        stored = (rows_written if plan.kind == "establishments"
                  else _count(conn, "SELECT count(*) FROM good_lines"))
        quarantined = _count(conn, "SELECT count(*) FROM quarantine_rows")
        advance(1)
    except duckdb.Error as exc:
        conn.close()
        raise EngineError(
            f"{sniffed.path} : échec de DuckDB pendant l'import ({first_line(exc)})"
        ) from exc
    except BaseException:
        conn.close()
        raise
    rows_read = accepted + rejected
    if rows_read != stored + quarantined:  # pragma: no cover - would be a bug in a plan
        conn.close()
        raise EngineError(
            f"{sniffed.path} : lignes lues ({rows_read}) ≠ stockées ({stored}) "
            f"+ en quarantaine ({quarantined})"
        )
    return FileImport(conn, out, rows_read, stored, quarantined, rows_written)
