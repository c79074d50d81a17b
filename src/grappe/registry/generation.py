"""The registry's generation: a counter every committing write bumps, to validate read caches.

A cache of a read (a public directory page, a resolved API token) remembers the generation
it was built at; a reader that finds the same generation in the database knows nothing was
written since and may serve the cached answer. Why this is safe:

* the bump is an ``UPDATE`` of the ``registry_state`` row in the *same transaction* as the
  write, issued just before the commit: nobody can see the new data with the old generation
  (and the row lock it takes is held only while committing, so concurrent writers on
  PostgreSQL queue there without deadlocking on it);
* a reader reads the generation *first*, then the data: under PostgreSQL's read committed
  each later statement sees at least as much as the first one, and a SQLite read
  transaction keeps the snapshot of its first read; so a cached answer is never older than
  the generation it is filed under.

Every write made through a SQLAlchemy :class:`~sqlalchemy.orm.Session` is caught: ORM
flushes (``after_flush``) and Core ``INSERT``/``UPDATE``/``DELETE`` statements run with
``session.execute`` (``do_orm_execute``). Code that writes on a bare connection must call
:func:`bump` itself.
"""

from __future__ import annotations

from sqlalchemy import Connection, event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from grappe.registry.models import RegistryState

_WROTE = "grappe.registry.wrote"
_READ = select(RegistryState.generation).where(RegistryState.id == 1)
_BUMP = (
    update(RegistryState)
    .where(RegistryState.id == 1)
    .values(generation=RegistryState.generation + 1)
    .execution_options(synchronize_session=False)
)


def current(connection: Connection | Session) -> int:
    """The generation the database is at (read it before the data a cache stores).

    Parameters
    ----------
    connection
        A connection or a session; the read runs in its transaction.
    """
    if isinstance(connection, Session):
        connection = connection.connection()
    value = connection.execute(_READ).scalar()
    if value is None:
        raise LookupError("registry_state vide : la base n'est pas migrée (grappe registry migrate)")
    return int(value)


def bump(connection: Connection) -> None:
    """Advance the generation (inside the writing transaction, before its commit)."""
    connection.execute(_BUMP)


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush: UOWTransaction) -> None:
    if session.new or session.deleted or session.dirty:
        session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "before_commit")
def _bump_on_commit(session: Session) -> None:
    # before_commit runs before the commit's own flush: flush now, so that pending writes
    # are noted, and bump last, so the row lock is held only for the commit itself.
    session.flush()
    if session.info.pop(_WROTE, False):
        bump(session.connection())


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_WROTE, None)
