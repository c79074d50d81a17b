"""Migrations: from empty to head and back to base, on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbkit import BACKENDS, new_database
from sqlalchemy import inspect

from grappe.registry import migrate


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_to_head_and_back_to_base(backend: str, tmp_path: Path) -> None:
    db = new_database(backend, tmp_path, migrated=False)
    try:
        assert migrate.current_revision(db.engine) is None
        assert migrate.upgrade(db.engine) == migrate.head_revision()
        tables = set(inspect(db.engine).get_table_names())
        assert {"clusters", "memberships", "fee_calls", "audit_log", "api_tokens"} <= tables
        assert migrate.downgrade(db.engine) is None
        left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        # and up again: a downgrade leaves nothing behind that would break the next upgrade
        assert migrate.upgrade(db.engine) == migrate.head_revision()
    finally:
        db.drop()


def test_models_and_migrations_agree(database) -> None:  # type: ignore[no-untyped-def]
    """Autogenerate finds nothing to do: the revision matches the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from grappe.storage.sql import Base

    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
