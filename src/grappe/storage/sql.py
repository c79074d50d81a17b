"""The SQL storage of grappe: engine factory, session scope and the declarative Base."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

from grappe.config import get_settings
from grappe.errors import BusyError

#: Stable constraint names, so that Alembic migrations never depend on the dialect's defaults.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every persistent model of grappe."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def check_in(column: str, values: type[StrEnum], name: str) -> CheckConstraint:
    """A CHECK that ``column`` holds one of an enumeration's values (the names are fixed words).

    The values are written into the DDL: a constraint takes no bound parameter, and they come
    from the code's enumerations, never from users.
    """
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A moment stored in UTC and read back timezone-aware (UTC) on every backend.

    SQLite has no time zone type: SQLAlchemy writes the wall-clock digits of the value and
    reads a naive datetime back, where PostgreSQL's ``timestamptz`` gives an aware one. With
    this type the same field reads the same on both (the API answers it with its offset),
    and a value given in another zone is stored as the same moment, not the same digits.
    The DDL is the one of ``DateTime(timezone=True)``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None or value.tzinfo is None:
            return value  # naive values are taken as UTC, as they are read back
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


_engines: dict[str, Engine] = {}
_lock = threading.Lock()


#: How long a SQLite connection waits for another writer's lock (``PRAGMA busy_timeout``), ms.
BUSY_TIMEOUT_MS = 10_000
#: Attempts at taking the write lock of a unit of work before giving up with BusyError.
WRITE_LOCK_ATTEMPTS = 3
#: Execution option that makes a SQLite transaction begin with ``BEGIN IMMEDIATE``.
_WRITER = "grappe_writer"


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL, a busy timeout, and real transactions (savepoints included).

    The sqlite3 module of Python 3.11 opens transactions on its own and breaks SAVEPOINT; we
    take transaction control back (isolation_level=None + an explicit BEGIN), the documented
    SQLAlchemy recipe.

    A unit of work that will write begins with ``BEGIN IMMEDIATE`` (it takes the write lock
    first, waiting for it up to the busy timeout). A plain ``BEGIN`` starts a read
    transaction on a snapshot; if another writer commits before its first write, SQLite
    cannot upgrade it and answers SQLITE_BUSY_SNAPSHOT ("database is locked") at once,
    without calling the busy handler: concurrent writers would fail instead of waiting.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")  # a PRAGMA binds no parameter
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        writer = connection.get_execution_options().get(_WRITER, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def is_lock_error(exc: BaseException) -> bool:
    """Whether a database error says the database is locked by another connection (SQLite)."""
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlite_errorcode", None)
    # primary result codes SQLITE_BUSY and SQLITE_LOCKED, whatever their extended code
    return isinstance(orig, sqlite3.Error) and code is not None and code & 0xFF in {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    }


def make_engine(url: str | None = None, *, pool: bool = True) -> Engine:
    """Build a new engine for a registry database URL.

    Parameters
    ----------
    url
        SQLAlchemy URL; default ``Settings.registry_url`` (a SQLite file under ``GRAPPE_HOME``,
        or ``GRAPPE_DATABASE_URL``, e.g. ``postgresql+psycopg://user@host/db``).
    pool
        Keep a connection pool (servers) or open a connection per use (``NullPool``).
    """
    url = url or get_settings().registry_url
    parsed = make_url(url)
    # More pooled connections than the API's worker threads (40 in Starlette's threadpool):
    # with fewer, threads blocked on the pool can starve the threads that would return
    # connections, and the server deadlocks under load.
    kwargs: dict[str, Any] = {"pool_size": 20, "max_overflow": 30} if pool else {}
    if not pool:
        kwargs["poolclass"] = NullPool
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False}
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
    else:
        if pool:
            kwargs["pool_pre_ping"] = True
        engine = create_engine(url, **kwargs)
    return engine


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine of a URL (default: the settings' registry URL), created once."""
    url = url or get_settings().registry_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def dispose_engines() -> None:
    """Close every cached engine (tests, end of a CLI command)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


# One factory for every engine, bound per session: each ``sessionmaker`` defines a new
# Session subclass, to which SQLAlchemy then copies every Session-level event listener
# (audit log, registry generation), a cost an API request should not pay each time.
_sessions: sessionmaker[Session] = sessionmaker(expire_on_commit=False, autoflush=True)


def _open(engine: Engine, *, write: bool) -> Session:
    """A session whose transaction is open; a writer's holds SQLite's write lock already.

    Taking the lock is retried a bounded number of times (each attempt waits up to the busy
    timeout): nothing of the unit has run yet, so a new attempt is always safe.
    """
    if not write or engine.dialect.name != "sqlite":
        return _sessions(bind=engine)
    attempt = 1
    while True:
        session = _sessions(bind=engine, execution_options={_WRITER: True})
        try:
            session.connection()  # BEGIN IMMEDIATE now, before the unit runs
            return session
        except OperationalError as exc:
            session.close()
            if not is_lock_error(exc):
                raise
            if attempt == WRITE_LOCK_ATTEMPTS:
                seconds = WRITE_LOCK_ATTEMPTS * BUSY_TIMEOUT_MS // 1000
                raise BusyError(
                    f"base de données occupée par d'autres écritures depuis {seconds} s : "
                    "réessayez dans un instant"
                ) from exc
        attempt += 1


@contextmanager
def session_scope(engine: Engine | None = None, *, write: bool = True, **info: Any) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises.

    Services never commit; the caller (a CLI command, an API request) opens this scope.
    Keyword arguments are stored in ``session.info`` (e.g. ``actor=...`` for the audit log).

    Parameters
    ----------
    engine
        Default: the settings' registry engine.
    write
        The unit may write (the default). On SQLite it then takes the write lock when it
        opens (``BEGIN IMMEDIATE``), so concurrent writers queue instead of failing; a
        read-only unit (``write=False``) runs beside them on its snapshot. Raises
        :class:`~grappe.errors.BusyError` when other writers keep the lock too long.
    """
    session = _open(engine or get_engine(), write=write)
    session.info.update(info)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
