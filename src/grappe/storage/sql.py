"""The SQL storage of grappe: engine factory, session scope and the declarative Base."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

from grappe.config import get_settings

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


_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL, a busy timeout, and real transactions (savepoints included).

    The sqlite3 module of Python 3.11 opens transactions on its own and breaks SAVEPOINT; we
    take transaction control back (isolation_level=None + an explicit BEGIN), the documented
    SQLAlchemy recipe.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


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


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to an engine; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


# One factory for every engine, bound per session: each ``sessionmaker`` defines a new
# Session subclass, to which SQLAlchemy then copies every Session-level event listener
# (audit log, registry generation), a cost an API request should not pay each time.
_sessions: sessionmaker[Session] = sessionmaker(expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(engine: Engine | None = None, **info: Any) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises.

    Services never commit; the caller (a CLI command, an API request) opens this scope.
    Keyword arguments are stored in ``session.info`` (e.g. ``actor=...`` for the audit log).
    """
    session = _sessions(bind=engine or get_engine())
    session.info.update(info)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
