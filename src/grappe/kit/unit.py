"""The unit of work: one transaction per interface call; services flush, the unit commits.

A CLI command, an API request or a page opens one unit (:func:`unit_of_work`); the domain
services it calls read and write through the session and never commit nor roll back, so
the call is all or nothing. The acting user is kept in ``session.info["actor"]``, where the
audit hook (:mod:`grappe.kit.audit`) reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from grappe.errors import ConflictError
from grappe.storage.sql import session_scope

#: The key of ``session.info`` that holds the acting user.
#: HTTP methods that only read: their units run on a snapshot beside the writers.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

ACTOR = "actor"


@contextmanager
def unit_of_work(
    engine: Engine | None = None,
    *,
    write: bool = True,
    actor: object = None,
    resolve: Callable[[Session], object] | None = None,
) -> Iterator[Session]:
    """Open a unit of work: commit when the block succeeds, roll back when it raises.

    Parameters
    ----------
    engine
        Default: the settings' registry engine.
    write
        The unit may write (see :func:`grappe.storage.sql.session_scope`: on SQLite a writer
        takes the write lock when it opens, a reader runs on its snapshot beside it).
    actor
        The acting user, recorded by the audit log.
    resolve
        Finds the acting user inside the transaction instead (a token, a session cookie);
        what it returns replaces ``actor``.
    """
    with session_scope(engine, write=write) as session:
        session.info[ACTOR] = actor if resolve is None else resolve(session)
        yield session


@contextmanager
def write_guard(refusals: Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn the database's refusals (stale version, constraints) into ConflictError.

    ``refusals`` maps a word of the database's message (a constraint's name) to the French
    message users read for it; other refusals are answered with the database's first line.
    """
    try:
        yield
    except StaleDataError as exc:
        raise ConflictError(
            "l'enregistrement a été modifié par quelqu'un d'autre entre-temps : relisez-le"
        ) from exc
    except IntegrityError as exc:
        message = str(exc.orig)
        for word, said in (refusals or {}).items():
            if word in message:
                raise ConflictError(said) from exc
        raise ConflictError(f"écriture refusée par la base : {message.splitlines()[0]}") from exc


def flush(session: Session, refusals: Mapping[str, str] | None = None) -> None:
    """Send pending writes now (ids, constraints), the database's refusals as ConflictError."""
    with write_guard(refusals):
        session.flush()


def actor_of(session: Session) -> Any:
    """The acting user of a unit of work (None when the unit has none)."""
    return session.info.get(ACTOR)
