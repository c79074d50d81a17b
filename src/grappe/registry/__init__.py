"""The registry of cluster organisations: members, fees, directory, key figures and prospects.

One sub-package per sub-domain (``clusters``, ``organisations``, ``memberships``,
``invitations``, ``fees``, ``accounts``), each with its ``repository`` (all its SQL), its
``service`` (what users do; roles checked through :mod:`grappe.registry.policy`) and its
``schemas``. Services take ``(session, actor, ...)`` and never commit: open a unit of work
(``actor=`` is recorded by the audit log)::

    from grappe.registry import LOCAL_ADMIN, open_registry
    from grappe.registry.clusters import service as clusters
    with open_registry(actor=LOCAL_ADMIN) as session:
        clusters.directory(session, LOCAL_ADMIN, region="84")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from grappe.kit import audit
from grappe.kit.unit import unit_of_work
from grappe.registry import (
    generation,  # noqa: F401  (installs the generation listeners)
    migrate,
)
from grappe.registry.accounts import models as account_models  # noqa: F401  (registers their tables)
from grappe.registry.models import AuditEntry
from grappe.registry.policy import LOCAL_ADMIN, PUBLIC, Actor
from grappe.storage.sql import get_engine

audit.install(AuditEntry)


@contextmanager
def open_registry(
    engine: Engine | None = None, *, actor: Actor = LOCAL_ADMIN, write: bool = True
) -> Iterator[Session]:
    """A unit of work on the registry database, migrated to the newest schema on first use.

    ``write=False`` for a unit that only reads (see :func:`grappe.kit.unit.unit_of_work`).
    """
    engine = engine or get_engine()
    migrate.ensure_schema(engine)
    with unit_of_work(engine, write=write, actor=actor) as session:
        yield session


__all__ = [
    "LOCAL_ADMIN",
    "PUBLIC",
    "Actor",
    "migrate",
    "open_registry",
]
