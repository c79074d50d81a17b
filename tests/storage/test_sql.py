"""The SQL storage: writer units queue on SQLite's lock, give up with BusyError, UTC moments."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import OperationalError

from grappe.errors import BusyError
from grappe.registry import migrate
from grappe.storage import sql
from grappe.storage.sql import UtcDateTime, make_engine, session_scope

META = MetaData()
COUNTER = Table("counter", META, Column("id", Integer, primary_key=True), Column("n", Integer))
MOMENTS = Table("moments", META, Column("id", Integer, primary_key=True), Column("at", UtcDateTime()))
UNITS = 12


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'units.sqlite3'}")
    # The registry's tables too: once grappe.registry is imported (other tests of the same
    # run), its listeners bump registry_state on every committing session.
    migrate.upgrade(engine)
    META.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(COUNTER).values(id=1, n=0))
    yield engine
    engine.dispose()


def _increment(engine: Engine) -> None:
    """A unit that reads, then writes what it read (a CLI command's shape)."""
    with session_scope(engine) as session:
        n = session.execute(select(COUNTER.c.n)).scalar_one()
        session.execute(COUNTER.update().values(n=n + 1))


def test_writer_units_queue_instead_of_failing(engine: Engine) -> None:
    start = threading.Barrier(UNITS)

    def unit(_: int) -> None:
        start.wait()  # every unit opens at once
        _increment(engine)

    with ThreadPoolExecutor(UNITS) as pool:
        list(pool.map(unit, range(UNITS)))
    with session_scope(engine, write=False) as session:
        # every unit saw the previous one's commit: no lost update, no "database is locked"
        assert session.execute(select(COUNTER.c.n)).scalar_one() == UNITS


def _increment_in_process(url: str) -> None:
    engine = make_engine(url, pool=False)
    try:
        for _ in range(5):
            _increment(engine)
    finally:
        engine.dispose()


def test_writer_units_of_several_processes_queue(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_increment_in_process, args=(url,)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    with session_scope(engine, write=False) as session:
        assert session.execute(select(COUNTER.c.n)).scalar_one() == 20


def test_a_deferred_unit_is_what_failed(engine: Engine) -> None:
    """The cause of issue 12's 500s: a read snapshot cannot become a write after another commit."""
    def read_then_write() -> None:
        with session_scope(engine, write=False) as reader:
            reader.execute(select(COUNTER.c.n)).scalar_one()
            _increment(engine)  # another unit commits after the snapshot was taken
            reader.execute(COUNTER.update().values(n=0))

    with pytest.raises(OperationalError, match="database is locked") as caught:
        read_then_write()
    assert sql.is_lock_error(caught.value)


def test_a_lock_held_too_long_is_a_busy_error(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(sql, "WRITE_LOCK_ATTEMPTS", 2)
    engine.dispose()  # new connections take the shorter timeout
    with session_scope(engine) as holder:
        holder.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the lock is held
        with pytest.raises(BusyError, match="base de données occupée"), session_scope(engine):
            pass
        with session_scope(engine, write=False) as reader:  # readers still read
            assert reader.execute(select(COUNTER.c.n)).scalar_one() == 0


def test_moments_read_back_in_utc(engine: Engine) -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    with session_scope(engine) as session:
        session.execute(insert(MOMENTS).values(id=1, at=dt.datetime(2026, 1, 1, 12, 0, tzinfo=paris)))
        session.execute(insert(MOMENTS).values(id=2, at=dt.datetime(2026, 1, 1, 12, 0)))
    with session_scope(engine, write=False) as session:
        moments = session.execute(select(MOMENTS.c.at).order_by(MOMENTS.c.id)).scalars().all()
    assert moments == [
        dt.datetime(2026, 1, 1, 11, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC),
    ]
