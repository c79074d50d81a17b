"""The registry of cluster organisations: members, fees, directory, key figures and prospects.

Services take ``(session, actor, ...)`` and never commit; open a unit of work with
:func:`grappe.storage.sql.session_scope` (``actor=`` is recorded by the audit log)::

    from grappe.registry import LOCAL_ADMIN, open_registry, service
    with open_registry(actor=LOCAL_ADMIN) as session:
        service.directory(session, LOCAL_ADMIN, region="84")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from grappe.registry import (
    accounts,
    audit,  # noqa: F401  (installs the audit listener)
    fees,
    figures,
    generation,  # noqa: F401  (installs the generation listeners)
    invitations,
    members_io,
    migrate,
    prospects,
    service,
)
from grappe.registry.policy import LOCAL_ADMIN, PUBLIC, Actor
from grappe.storage.sql import get_engine, session_scope


@contextmanager
def open_registry(engine: Engine | None = None, *, actor: Actor = LOCAL_ADMIN) -> Iterator[Session]:
    """A unit of work on the registry database, migrated to the newest schema on first use."""
    engine = engine or get_engine()
    migrate.ensure_schema(engine)
    with session_scope(engine, actor=actor) as session:
        yield session


__all__ = [
    "LOCAL_ADMIN",
    "PUBLIC",
    "Actor",
    "accounts",
    "fees",
    "figures",
    "invitations",
    "members_io",
    "migrate",
    "open_registry",
    "prospects",
    "service",
]
