"""Migrations: from empty to head and back to base, on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbkit import BACKENDS, new_database
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from grappe.registry import migrate


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_to_head_and_back_to_base(backend: str, tmp_path: Path) -> None:
    db = new_database(backend, tmp_path, migrated=False)
    try:
        assert migrate.current_revision(db.engine) is None
        assert migrate.upgrade(db.engine) == migrate.head_revision()
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "clusters",
            "memberships",
            "fee_calls",
            "audit_log",
            "api_tokens",
            "organisation_owners",
            "invitations",
        } <= tables
        assert migrate.downgrade(db.engine) is None
        left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        # and up again: a downgrade leaves nothing behind that would break the next upgrade
        assert migrate.upgrade(db.engine) == migrate.head_revision()
    finally:
        db.drop()


@pytest.mark.parametrize("backend", BACKENDS)
def test_tenancy_revision_keeps_existing_organisations(backend: str, tmp_path: Path) -> None:
    """0002 -> 0003 on a database with data: organisations stay, without owner, and back."""
    db = new_database(backend, tmp_path, migrated=False)
    try:
        migrate.upgrade(db.engine, "0002")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organisations (name, kind, in_fabric, created_at, version) "
                    "VALUES ('Ancienne', 'firm', false, CURRENT_TIMESTAMP, 1)"
                )
            )
        assert migrate.upgrade(db.engine, "0003") == "0003"
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM organisations")).scalars().all() == ["Ancienne"]
            assert conn.execute(text("SELECT count(*) FROM organisation_owners")).scalar() == 0
        assert migrate.downgrade(db.engine, "0002") == "0002"
        assert "invitations" not in inspect(db.engine).get_table_names()
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


@pytest.mark.parametrize("backend", BACKENDS)
def test_language_revision_keeps_users_and_their_tokens(backend: str, tmp_path: Path) -> None:
    """0014 -> 0015 on a database with a user and its token: French by default, other values
    refused, and back without losing the user or its token (no rebuild of ``users``)."""
    db = new_database(backend, tmp_path, migrated=False)
    try:
        migrate.upgrade(db.engine, "0014")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, role, active, created_at) "
                    "VALUES (1, 'a@x.fr', 'admin', true, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO api_tokens (user_id, name, token_hash, created_at) "
                    "VALUES (1, 'api', 'h', CURRENT_TIMESTAMP)"
                )
            )
        assert migrate.upgrade(db.engine, "0015") == "0015"
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT language FROM users")).scalar_one() == "fr"
            assert conn.execute(text("SELECT count(*) FROM api_tokens")).scalar() == 1
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE users SET language = 'en'"))
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text("UPDATE users SET language = 'de'"))
        assert migrate.downgrade(db.engine, "0014") == "0014"
        assert "language" not in {c["name"] for c in inspect(db.engine).get_columns("users")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT email FROM users")).scalar_one() == "a@x.fr"
            assert conn.execute(text("SELECT count(*) FROM api_tokens")).scalar() == 1
    finally:
        db.drop()
