"""The fabric store: Parquet files of establishments and aggregates, listed in a DuckDB catalogue.

Layout of a store directory::

    catalogue.duckdb              tables `sources` and `quarantine`
    establishments/<id>.parquet   establishment rows (schema.ESTABLISHMENT_COLUMNS)
    aggregates/<id>.parquet       aggregated counts (schema.AGGREGATE_COLUMNS)
    .lock                         catalogue lock (shared to read, exclusive to publish)
    .import.lock                  writers' lock, held by an import from start to end
    .tmp/<import>/                work directory of a running import

A source id is the SHA-256 of the file's bytes, so importing a file twice is a
no-op. An import writes its Parquet file in its work directory, fsyncs it, moves it
into place, then inserts its `sources` and `quarantine` rows in one catalogue
transaction. Only files listed in `sources` are ever read; a file moved into place
by an import killed before its commit is an orphan, removed at the next open
(under the shared lock, when no commit can be under way). Removing a source is the
reverse, under the same writers' lock: its `sources` and `quarantine` rows go in one
catalogue transaction, then its Parquet file is deleted; a removal killed after its
commit leaves an orphan that the next open removes.

Concurrency. DuckDB lets one process open a database file read-write, or many
processes open it read-only, never both. So readers open the catalogue read-only
under a shared lock of ``.lock`` and never write; an import holds ``.lock``
exclusively only for its commit (the rename and a few inserts, well under a second)
and holds the catalogue read-write only then. Any number of readers therefore run
together, and a reader that arrives during a commit waits for it. Imports are
serialised by ``.import.lock``: a second import waits for the first to finish (both
would otherwise compete for the memory limit and the cores). Every wait is bounded
by ``Settings.fabric_lock_timeout``. The locks are ``flock`` locks, released by the
kernel when their process dies, so a killed import never blocks the store.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import duckdb
import pyarrow as pa

from grappe.config import get_settings
from grappe.errors import EngineError, InputError
from grappe.fabric import importer, plain
from grappe.fabric.formats import FORMAT_CHOICES, Plan, plan_for
from grappe.fabric.schema import Kind
from grappe.fabric.sniff import SniffedFile, normalise_encoding, sniff
from grappe.progress import SILENT, Advance, Reporter

CATALOGUE: Final = "catalogue.duckdb"
_CATALOGUE_LOCK: Final = ".lock"
_IMPORT_LOCK: Final = ".import.lock"
_TABLES: Final = frozenset({"sources", "quarantine"})
KIND_DIRS: Final[dict[str, str]] = {"establishments": "establishments", "aggregates": "aggregates"}
_HASH_CHUNK: Final = 8 * 1024 * 1024
_ID_PREFIX_MIN: Final = 6
"""Shortest start of a source id a user may give for the whole id."""
_FRESH_SECONDS: Final = 60.0
_POLL_SECONDS: Final = (0.005, 0.2)
"""First and longest pause between two tries of a busy lock."""

_CATALOGUE_DDL: Final = """
CREATE TABLE IF NOT EXISTS sources (
    source_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_stored BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    imported_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    source_id VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    line BIGINT,
    "column" VARCHAR,
    value VARCHAR,
    reason VARCHAR NOT NULL
);
"""


@dataclass(frozen=True)
class ImportReport:
    """What the import of one file did.

    ``rows_read = rows_stored + rows_quarantined`` always holds; the counts are
    records of the input file (for URSSAF one line carries many years).
    """

    source_id: str
    path: Path
    format: str
    kind: str
    rows_read: int
    rows_stored: int
    rows_quarantined: int
    skipped: bool
    seconds: float
    refused: str | None = None
    """Why the file was refused whole (one French line); None when it was imported."""

    @classmethod
    def refusal(cls, path: Path, format: str | None, error: InputError) -> ImportReport:
        """The report of a file refused whole: nothing of it is stored."""
        return cls("", Path(path), format or "", "", 0, 0, 0, False, 0.0, str(error))


@dataclass
class StoreInfo:
    """Summary of a store, as ``grappe fabric info`` shows it.

    Attributes
    ----------
    path
        The store directory.
    sources
        One dict per source (the `sources` table rows).
    rows_by_kind
        Rows in the Parquet files: ``establishments`` and ``aggregates``.
    rows_by_level
        Aggregated rows by territory level.
    quarantine_by_reason
        Quarantined records by reason, most frequent first.
    dates
        Date range of the establishment data (earliest and latest date of creation,
        closure or period bound), ISO strings or None.
    years
        Year range of the aggregated data, or None.
    """

    path: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    rows_by_kind: dict[str, int] = field(default_factory=dict)
    rows_by_level: dict[str, int] = field(default_factory=dict)
    quarantine_by_reason: dict[str, int] = field(default_factory=dict)
    dates: tuple[str | None, str | None] = (None, None)
    years: tuple[int | None, int | None] = (None, None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        data = asdict(self)
        data["dates"] = list(self.dates)
        data["years"] = list(self.years)
        return data


def file_sha256(path: Path, advance: importer.Advance | None = None) -> tuple[str, int]:
    """The hex SHA-256 of a file's bytes (its source id) and its number of physical lines."""
    digest = hashlib.sha256()
    newlines = 0
    last = b""
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
            if advance is not None:
                advance(len(chunk))
    lines = newlines + (1 if last not in (b"", b"\n") else 0)
    return digest.hexdigest(), lines


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _move_into_place(tmp: Path, final: Path) -> None:
    """Atomic rename inside the store, made durable."""
    os.replace(tmp, final)
    _fsync_dir(final.parent)


def _insert_catalogue_rows(
    conn: duckdb.DuckDBPyConnection, row: dict[str, Any], file: str
) -> None:
    """Insert the `sources` row and the quarantine rows of one import (inside a transaction)."""
    conn.execute(
        "INSERT INTO cat.sources VALUES ($source_id, $kind, $format, $path, $size, $rows_read, "
        "$rows_stored, $rows_quarantined, $imported_at)",
        row,
    )
    conn.execute(
        "INSERT INTO cat.quarantine SELECT $source_id, $file, line, \"column\", value, reason "
        "FROM quarantine_rows ORDER BY line",
        {"source_id": row["source_id"], "file": file},
    )


class FabricStore:
    """A directory of Parquet files and their DuckDB catalogue.

    Use :meth:`open`; the constructor does not prepare the directory.

    Parameters
    ----------
    path
        The store directory.
    lock_timeout
        Seconds to wait for another process's import or commit before giving up
        (default: ``Settings.fabric_lock_timeout``).
    """

    def __init__(self, path: Path, lock_timeout: float | None = None) -> None:
        self.path = path
        self.lock_timeout = (lock_timeout if lock_timeout is not None
                             else get_settings().fabric_lock_timeout)

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path | None = None, lock_timeout: float | None = None) -> FabricStore:
        """Open (creating it if needed) the store at ``path`` (default: ``Settings.store_dir``).

        Opening an existing store only reads its catalogue (and removes the orphans
        of killed imports), so any number of processes open and read a store at
        once, also while another imports into it.
        """
        store = cls(Path(path) if path is not None else get_settings().store_dir, lock_timeout)
        try:
            store.path.mkdir(parents=True, exist_ok=True)
            for sub in (*KIND_DIRS.values(), ".tmp"):
                (store.path / sub).mkdir(exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"magasin {store.path.name!r} : création impossible ({exc.strerror})"
            ) from exc
        if not store._tidy():
            with store._lock(exclusive=True), store._catalogue(write=True) as conn:
                conn.execute(_CATALOGUE_DDL)
        return store

    @staticmethod
    def exists(path: Path) -> bool:
        """Whether a store was created at ``path`` (its catalogue is there): readers that must
        not create a store ask this before :meth:`open`."""
        return (Path(path) / CATALOGUE).is_file()

    def _tidy(self) -> bool:
        """Remove what killed imports left; False when the catalogue is missing or incomplete
        (a killed creation may leave a file without its tables)."""
        file = self.path / CATALOGUE
        if not file.exists() or file.stat().st_size == 0:
            return False
        with self._reading() as conn:
            names = conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            if not {r[0] for r in names} >= _TABLES:
                return False
            known = {r[0] for r in conn.execute("SELECT source_id FROM sources").fetchall()}
            # No commit runs under the shared lock, so a data file the catalogue does
            # not list is an orphan of a killed import: a reader may clear it too.
            self._remove_orphans(known)
        return True

    @contextmanager
    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the catalogue under the shared lock."""
        with self._lock(exclusive=False), self._catalogue() as conn:
            yield conn

    def _lock(self, exclusive: bool) -> AbstractContextManager[None]:
        """The catalogue lock: shared to read the catalogue, exclusive to change it."""
        return _flock(self.path / _CATALOGUE_LOCK, exclusive, self.lock_timeout,
                      busy="magasin du tissu productif occupé : une écriture dans son catalogue "
                           f"dure depuis plus de {self.lock_timeout:g} s ; réessayez plus tard")

    @contextmanager
    def _catalogue(self, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection to the catalogue, read-only unless ``write`` (call under
        the lock: shared to read, exclusive to write)."""
        try:
            conn = duckdb.connect(str(self.path / CATALOGUE), read_only=not write)
        except duckdb.Error as exc:
            # DuckDB's message holds the server's path: it stays in the chained cause.
            raise EngineError(
                f"catalogue du magasin illisible ({CATALOGUE} endommagé ou ouvert par un autre "
                "programme)"
            ) from exc
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _importing(self, reporter: Reporter) -> Iterator[None]:
        """Hold the writers' lock for a whole import."""
        busy = (f"magasin du tissu productif occupé : un autre import y écrit depuis plus de "
                f"{self.lock_timeout:g} s ; réessayez plus tard ou allongez l'attente "
                "(GRAPPE_FABRIC_LOCK_TIMEOUT)")
        waiting = f"Attente de la fin d'un autre import dans {self.path.name}"
        with _flock(self.path / _IMPORT_LOCK, True, self.lock_timeout, busy,
                    lambda: reporter.step(waiting)):
            yield

    def _remove_orphans(self, known: set[str]) -> None:
        """Remove what killed imports left; a store the user may not write is left as it is."""
        with suppress(OSError):
            for sub in KIND_DIRS.values():
                for file in (self.path / sub).iterdir():
                    if file.name.removesuffix(".parquet") not in known:
                        file.unlink(missing_ok=True)
            for work in (self.path / ".tmp").iterdir():
                if work.is_dir() and not _is_busy(work):
                    shutil.rmtree(work, ignore_errors=True)

    # ------------------------------------------------------------------ reading

    def _query(self, sql: str, params: Sequence[object] = ()) -> pa.Table:
        with self._reading() as conn:
            return conn.sql(sql, params=list(params)).to_arrow_table()

    def sources(self) -> pa.Table:
        """The `sources` table (one row per imported file), in import order."""
        return self._query("SELECT * FROM sources ORDER BY imported_at, source_id")

    def quarantine(self, source_id: str | None = None, limit: int | None = None) -> pa.Table:
        """Quarantined records (``source_id, file, line, column, value, reason``).

        Sources in import order, each by line; ``limit`` keeps the first rows only.
        """
        params: list[object] = []
        where = ""
        if source_id is not None:
            where = "WHERE q.source_id = ?"
            params.append(source_id)
        sql = (f"SELECT q.source_id, q.file, q.line, q.\"column\", q.value, q.reason "
               f"FROM quarantine AS q JOIN sources AS s USING (source_id) {where} "
               "ORDER BY s.imported_at, q.source_id, q.line, q.\"column\"")
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return self._query(sql, params)

    def resolve_source(self, name: str) -> dict[str, Any]:
        """The `sources` row a user names: its id (or the start of it, as ``info`` shows it),
        the imported file's name or its path.

        Raises
        ------
        InputError
            No source or several sources answer to ``name``.
        """
        rows = self.sources().to_pylist()
        wanted = name.strip()
        found = [r for r in rows if r["source_id"] == wanted.lower()]
        if not found and len(wanted) >= _ID_PREFIX_MIN:
            found = [r for r in rows if r["source_id"].startswith(wanted.lower())]
        if not found:
            found = [r for r in rows if wanted in (r["path"], Path(r["path"]).name)]
        if not found:
            raise InputError(
                f"source {wanted!r} absente du magasin {self.path.name} ; les sources et leurs "
                "identifiants : grappe fabric info"
            )
        if len(found) > 1:
            ids = ", ".join(r["source_id"][:12] for r in found)
            raise InputError(
                f"source {wanted!r} ambiguë dans le magasin {self.path.name} : {len(found)} "
                f"sources y répondent ({ids}) ; donnez son identifiant"
            )
        return found[0]

    def latest_date(self) -> dt.date | None:
        """The latest date the data know: the last creation, closure or period bound of the
        establishment rows, or 31 December of the last year of the aggregates; None if empty."""
        with self._reading() as catalogue:
            estab = self._files("establishments", catalogue)
            aggr = self._files("aggregates", catalogue)
        dates: list[dt.date] = []
        conn = duckdb.connect(":memory:")
        try:
            if estab:
                # One max per column: DuckDB answers each from the Parquet statistics.
                row = conn.execute("""
                    SELECT max(created), max(closed), max(valid_from), max(valid_to)
                    FROM read_parquet($files)""", {"files": _names(estab)}).fetchall()[0]
                dates += [d for d in row if isinstance(d, dt.date)]
            if aggr:
                row = conn.execute("SELECT max(year) FROM read_parquet($files)",
                                   {"files": _names(aggr)}).fetchall()[0]
                if row[0] is not None:
                    dates.append(dt.date(int(row[0]), 12, 31))
        finally:
            conn.close()
        return max(dates) if dates else None

    def _files(self, kind: Kind, conn: duckdb.DuckDBPyConnection | None = None) -> list[Path]:
        sql = "SELECT source_id FROM sources WHERE kind = ? ORDER BY imported_at, source_id"
        if conn is None:
            ids = self._query(sql, [kind])["source_id"].to_pylist()
        else:
            ids = [r[0] for r in conn.execute(sql, [kind]).fetchall()]
        return [self.path / KIND_DIRS[kind] / f"{i}.parquet" for i in ids]

    def establishment_files(self) -> list[Path]:
        """The Parquet files of establishment rows listed in the catalogue."""
        return self._files("establishments")

    def aggregate_files(self) -> list[Path]:
        """The Parquet files of aggregated counts listed in the catalogue."""
        return self._files("aggregates")

    def info(self) -> StoreInfo:
        """Sources, row counts by kind and territory level, quarantine by reason, date ranges."""
        with self._reading() as catalogue:  # one consistent view of the catalogue
            sources = catalogue.sql(
                "SELECT * FROM sources ORDER BY imported_at, source_id").to_arrow_table()
            reasons = catalogue.execute(
                "SELECT reason, count(*) FROM quarantine GROUP BY reason "
                "ORDER BY count(*) DESC, reason").fetchall()
            estab = self._files("establishments", catalogue)
            aggr = self._files("aggregates", catalogue)
        rows = sources.to_pylist()
        for row in rows:
            row["imported_at"] = row["imported_at"].isoformat(timespec="seconds")
        info = StoreInfo(
            path=str(self.path),
            sources=rows,
            quarantine_by_reason={reason: int(n) for reason, n in reasons},
        )
        conn = duckdb.connect(":memory:")
        try:
            info.rows_by_kind = {"establishments": 0, "aggregates": 0}
            if estab:
                row = conn.execute("""
                    SELECT count(*), min(least(created, closed, valid_from, valid_to)),
                        max(greatest(created, closed, valid_from, valid_to))
                    FROM read_parquet($files)""", {"files": _names(estab)}).fetchall()[0]
                if row is not None:
                    info.rows_by_kind["establishments"] = int(row[0])
                    info.dates = (_iso(row[1]), _iso(row[2]))
            if aggr:
                by_level = conn.execute("""
                    SELECT territory_level, count(*), min(year), max(year)
                    FROM read_parquet($files) GROUP BY ALL ORDER BY 1""",
                    {"files": _names(aggr)}).fetchall()
                info.rows_by_level = {r[0]: int(r[1]) for r in by_level}
                info.rows_by_kind["aggregates"] = sum(info.rows_by_level.values())
                if by_level:
                    info.years = (min(int(r[2]) for r in by_level),
                                  max(int(r[3]) for r in by_level))
        finally:
            conn.close()
        return info

    # ------------------------------------------------------------------ importing

    def import_files(
        self,
        paths: Sequence[Path],
        format: str | None = None,
        delimiter: str | None = None,
        encoding: str | None = None,
        reporter: Reporter = SILENT,
        errors: Literal["raise", "report"] = "raise",
    ) -> list[ImportReport]:
        """Import files into the store, one after the other.

        Every file's header is checked before any import starts, so a file that is not
        what its format says fails at once and nothing is imported.

        Parameters
        ----------
        paths
            CSV (plain or gzip) or Parquet files.
        format
            ``sirene``, ``urssaf`` or ``table``; detected from each header when None.
        delimiter, encoding
            Forced CSV delimiter and encoding (``utf-8``, ``cp1252`` or ``latin-1``);
            detected when None.
        reporter
            Progress of each file.
        errors
            ``"raise"``: the first file refused raises its error; when its header is
            wrong nothing is imported, when its content is (a damaged archive, say)
            the files before it stay stored. ``"report"``: every file is tried, each
            in its own transaction, and a refused file gets a report whose
            ``refused`` says why.

        Returns
        -------
        list[ImportReport]
            One report per file; a file already in the store is reported as skipped.

        Raises
        ------
        InputError
            An option is invalid; with ``errors="raise"``, a file is missing or refused.
        FileFormatError
            With ``errors="raise"``, a file is not what its format says; the message
            names the missing columns.
        EngineError
            DuckDB failed (disk full, out of memory), or another import kept the store
            longer than the lock timeout.
        """
        if format is not None and format not in FORMAT_CHOICES:
            raise InputError(
                f"format {format!r} inconnu ; valeurs possibles : {', '.join(FORMAT_CHOICES)}"
            )
        if encoding is not None:
            encoding = normalise_encoding(encoding)
        if delimiter is not None and len(delimiter) != 1:
            raise InputError(f"séparateur {delimiter!r} invalide : un seul caractère attendu")
        today = dt.date.today()
        planned: list[tuple[Path, tuple[SniffedFile, Plan] | InputError]] = []
        for path in paths:
            try:
                sniffed = sniff(Path(path), delimiter=delimiter, encoding=encoding)
                planned.append((Path(path), (sniffed, plan_for(sniffed, format, today))))
            except InputError as exc:
                if errors == "raise":
                    raise
                planned.append((Path(path), exc))
        reports: list[ImportReport] = []
        with self._importing(reporter):
            for path, item in planned:
                try:
                    if isinstance(item, InputError):
                        raise item
                    reports.append(self._import_one(*item, reporter))
                except InputError as exc:
                    if errors == "raise":
                        raise
                    reports.append(ImportReport.refusal(path, format, exc))
        return reports

    def _import_one(self, sniffed: SniffedFile, plan: Plan, reporter: Reporter) -> ImportReport:
        start = time.perf_counter()
        size = sniffed.path.stat().st_size
        with reporter.step(f"Empreinte de {sniffed.path.name}", total=size) as advance:
            source_id, physical_lines = file_sha256(sniffed.path, advance)
        known = self._query("SELECT rows_read, rows_stored, rows_quarantined FROM sources "
                            "WHERE source_id = ?", [source_id]).to_pylist()
        if known:
            return ImportReport(source_id, sniffed.path, plan.format, plan.kind,
                                int(known[0]["rows_read"]), int(known[0]["rows_stored"]),
                                int(known[0]["rows_quarantined"]), True,
                                time.perf_counter() - start)
        settings = get_settings()
        with (_work_dir(self.path / ".tmp") as workdir,
              reporter.step(f"Import de {sniffed.path.name}", total=6) as advance):
            if plain.needs_copy(sniffed):
                # DuckDB gets a plain UTF-8 copy; gzip's line count is known only after it.
                sniffed, copied_lines = plain.plain_copy(sniffed, workdir / "plain.csv")
                physical_lines = copied_lines
            advance(1)
            result = importer.run(
                sniffed, plan, source_id=source_id, workdir=workdir,
                memory_limit=settings.memory_limit, threads=settings.threads,
                advance=advance,
                physical_lines=physical_lines if sniffed.container == "csv" else None,
            )
            try:
                skipped = not self._publish(result, sniffed, plan, source_id, size)
            finally:
                result.conn.close()
            advance(1)
        return ImportReport(source_id, sniffed.path, plan.format, plan.kind, result.rows_read,
                            result.rows_stored, result.rows_quarantined, skipped,
                            time.perf_counter() - start)

    # ------------------------------------------------------------------ removing

    def remove_source(self, name: str, reporter: Reporter = SILENT) -> SourceRemoval:
        """Remove one source: its rows, its quarantine and its catalogue entries, atomically.

        Runs under the writers' lock (no import or other removal meanwhile). The
        catalogue rows go in one transaction; only then is the Parquet file deleted. A
        process killed before the commit leaves the source whole; killed after it, the
        catalogue no longer lists the file, which is then an orphan removed at the next
        open. Either way the store holds the source entirely or not at all.

        Parameters
        ----------
        name
            The source's id (or the start of it, 6 characters at least), the imported
            file's name or its path (see :meth:`resolve_source`).

        Raises
        ------
        InputError
            No source or several sources answer to ``name``.
        EngineError
            Another writer kept the store longer than the lock timeout.
        """
        with self._importing(reporter):
            source = self.resolve_source(name)
            source_id = str(source["source_id"])
            data = self.path / KIND_DIRS[str(source["kind"])] / f"{source_id}.parquet"
            with self._lock(exclusive=True), self._catalogue(write=True) as conn:
                conn.execute("BEGIN TRANSACTION")
                try:
                    _delete_catalogue_rows(conn, source_id)
                    conn.execute("COMMIT")
                except BaseException:
                    with suppress(duckdb.Error):
                        conn.execute("ROLLBACK")
                    raise
                # Still under the exclusive lock: no reader lists the file meanwhile.
                _drop_data_file(data)
        return SourceRemoval(source_id, Path(str(source["path"])), str(source["kind"]),
                             int(source["rows_stored"]), int(source["rows_quarantined"]))

    def _publish(self, result: importer.FileImport, sniffed: SniffedFile, plan: Plan,
                 source_id: str, size: int) -> bool:
        """Move the Parquet file into place, commit the catalogue rows; False if already there."""
        final = self.path / KIND_DIRS[plan.kind] / f"{source_id}.parquet"
        conn = result.conn
        row = {
            "source_id": source_id, "kind": plan.kind, "format": plan.format,
            "path": str(sniffed.path.resolve()), "size": size, "rows_read": result.rows_read,
            "rows_stored": result.rows_stored, "rows_quarantined": result.rows_quarantined,
            "imported_at": dt.datetime.now(),
        }
        with self._lock(exclusive=True):
            conn.execute("ATTACH $catalogue AS cat", {"catalogue": str(self.path / CATALOGUE)})
            try:
                exists = conn.execute("SELECT count(*) FROM cat.sources WHERE source_id = ?",
                                      [source_id]).fetchall()[0]
                if exists is not None and exists[0]:
                    return False  # imported meanwhile by another process
                _move_into_place(result.parquet, final)
                try:
                    conn.execute("BEGIN TRANSACTION")
                    _insert_catalogue_rows(conn, row, str(sniffed.path.resolve()))
                    conn.execute("COMMIT")
                except BaseException:
                    with suppress(duckdb.Error):
                        conn.execute("ROLLBACK")
                    final.unlink(missing_ok=True)
                    raise
            finally:
                with suppress(duckdb.Error):
                    conn.execute("DETACH cat")
        return True


@dataclass(frozen=True)
class SourceRemoval:
    """What :meth:`FabricStore.remove_source` removed: one source and its counts."""

    source_id: str
    path: Path
    kind: str
    rows_stored: int
    rows_quarantined: int


def _delete_catalogue_rows(conn: duckdb.DuckDBPyConnection, source_id: str) -> None:
    """Delete the `sources` row and the quarantine rows of one source (inside a transaction)."""
    conn.execute("DELETE FROM quarantine WHERE source_id = ?", [source_id])
    conn.execute("DELETE FROM sources WHERE source_id = ?", [source_id])


def _drop_data_file(path: Path) -> None:
    """Remove the Parquet file of a source the catalogue no longer lists, durably."""
    path.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _names(paths: Sequence[Path]) -> list[str]:
    return [str(p) for p in paths]


def _iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else None


def _is_busy(workdir: Path) -> bool:
    """True when a running import holds the lock file of this work directory."""
    lock = workdir / ".busy"
    if not lock.exists():
        # A directory just created may not have its lock file yet.
        return time.time() - workdir.stat().st_mtime < _FRESH_SECONDS
    with lock.open("a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


@contextmanager
def _flock(
    path: Path, exclusive: bool, timeout: float, busy: str,
    waiting: Callable[[], AbstractContextManager[Advance]] | None = None,
) -> Iterator[None]:
    """Hold a ``flock`` lock on ``path``, waiting at most ``timeout`` seconds for it.

    ``flock`` itself cannot time out, so a busy lock is tried again after pauses that
    grow from 5 ms to 200 ms; ``waiting`` opens a progress step while it waits.

    Raises
    ------
    EngineError
        With the message ``busy``, after ``timeout`` seconds.
    """
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    with path.open("a+b") as handle:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            deadline = time.monotonic() + timeout
            pause = _POLL_SECONDS[0]
            with waiting() if waiting is not None else nullcontext():
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise EngineError(busy) from None
                    time.sleep(min(pause, left))
                    pause = min(2 * pause, _POLL_SECONDS[1])
                    try:
                        fcntl.flock(handle, mode | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        continue
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _work_dir(root: Path) -> Iterator[Path]:
    """A private work directory, locked while in use and removed afterwards."""
    workdir = root / uuid.uuid4().hex
    workdir.mkdir(parents=True)
    try:
        with (workdir / ".busy").open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
