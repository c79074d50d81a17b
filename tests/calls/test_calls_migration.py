"""Revision 0012 on a database with users: the role CHECK gains ``reviewer``, nothing is lost."""

from __future__ import annotations

from pathlib import Path

import dbkit
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from grappe.registry import migrate


@pytest.mark.parametrize("backend", dbkit.BACKENDS)
def test_reviewer_role_and_existing_rows(backend: str, tmp_path: Path) -> None:
    db = dbkit.new_database(backend, tmp_path, migrated=False)
    try:
        migrate.upgrade(db.engine, "0007")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (email, role, active, created_at) "
                    "VALUES ('a@x.fr', 'admin', true, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO api_tokens (user_id, name, token_hash, created_at) "
                    "SELECT id, 'api', 'h', CURRENT_TIMESTAMP FROM users"
                )
            )
            with pytest.raises(IntegrityError), conn.begin_nested():
                conn.execute(
                    text(
                        "INSERT INTO users (email, role, active, created_at) "
                        "VALUES ('r@x.fr', 'reviewer', true, CURRENT_TIMESTAMP)"
                    )
                )
        migrate.upgrade(db.engine)
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM api_tokens")).scalar() == 1
            conn.execute(
                text(
                    "INSERT INTO users (email, role, active, created_at) "
                    "VALUES ('r@x.fr', 'reviewer', true, CURRENT_TIMESTAMP)"
                )
            )
            with pytest.raises(IntegrityError), conn.begin_nested():
                conn.execute(
                    text(
                        "INSERT INTO users (email, role, active, created_at) "
                        "VALUES ('b@x.fr', 'boss', true, CURRENT_TIMESTAMP)"
                    )
                )
        assert migrate.downgrade(db.engine, "0007") == "0007"
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT email FROM users")).scalars().all() == ["a@x.fr"]
            assert conn.execute(text("SELECT count(*) FROM api_tokens")).scalar() == 1
    finally:
        db.drop()
