"""The registry generation: bumped by every committed write, in its transaction, and only then."""

from __future__ import annotations

import pytest
from dbkit import Database
from sqlalchemy import update

from grappe.registry import LOCAL_ADMIN, generation
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import ClusterCreate, TerritoryRef
from grappe.registry.models import Cluster
from grappe.storage.sql import session_scope


def _now(db: Database) -> int:
    with db.engine.connect() as conn:
        return generation.current(conn)


def _create(session: object) -> int:
    return clusters.create_cluster(
        session,  # type: ignore[arg-type]
        LOCAL_ADMIN,
        ClusterCreate(name="Textile Vosges", territories=[TerritoryRef(level="departement", code="88")]),
    ).id


def test_orm_writes_bump_once_per_commit(fresh: Database) -> None:
    start = _now(fresh)
    with session_scope(fresh.engine, actor=LOCAL_ADMIN) as session:
        _create(session)
        _create(session)
    assert _now(fresh) == start + 1


def test_reads_do_not_bump(fresh: Database) -> None:
    start = _now(fresh)
    with session_scope(fresh.engine) as session:
        clusters.directory(session, LOCAL_ADMIN, region="44")
    assert _now(fresh) == start


def test_core_statements_through_the_session_bump(fresh: Database) -> None:
    with session_scope(fresh.engine, actor=LOCAL_ADMIN) as session:
        cid = _create(session)
    start = _now(fresh)
    with session_scope(fresh.engine) as session:
        session.execute(update(Cluster).where(Cluster.id == cid).values(member_count=5))
    assert _now(fresh) == start + 1


def test_rolled_back_writes_do_not_bump(fresh: Database) -> None:
    start = _now(fresh)

    def abandoned_write() -> None:
        with session_scope(fresh.engine, actor=LOCAL_ADMIN) as session:
            _create(session)
            raise RuntimeError("abandon")

    with pytest.raises(RuntimeError, match="abandon"):
        abandoned_write()
    assert _now(fresh) == start
    # and the session's note of the abandoned write does not leak into a later commit
    with session_scope(fresh.engine) as session:
        clusters.directory(session, LOCAL_ADMIN)
    assert _now(fresh) == start


def test_the_bump_is_in_the_writing_transaction(fresh: Database) -> None:
    """A reader never sees the new data under the old generation, nor the reverse."""
    start = _now(fresh)
    with session_scope(fresh.engine, actor=LOCAL_ADMIN) as session:
        _create(session)
        session.flush()
        assert _now(fresh) == start  # not yet committed: other connections see the old state
    assert _now(fresh) == start + 1
