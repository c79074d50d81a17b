"""Revision 0005 on a database with data: organisations get their name key, and back."""

from __future__ import annotations

from pathlib import Path

import dbkit
import pytest
from sqlalchemy import inspect, text

from grappe.registry import migrate

TABLES = {
    "cooperation_links",
    "cooperation_link_orientations",
    "projects",
    "project_partners",
    "project_fundings",
    "project_transitions",
    "project_labels",
    "business_deals",
}


@pytest.mark.parametrize("backend", dbkit.BACKENDS)
def test_0005_keys_existing_organisations_and_goes_back(backend: str, tmp_path: Path) -> None:
    db = dbkit.new_database(backend, tmp_path, migrated=False)
    try:
        migrate.upgrade(db.engine, "0004")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organisations (name, kind, in_fabric, created_at, version) "
                    "VALUES ('Université  de Rennes-1', 'research_lab', false, CURRENT_TIMESTAMP, 1)"
                )
            )
        assert migrate.upgrade(db.engine, "0005") == "0005"
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        with db.engine.connect() as conn:
            assert (
                conn.execute(text("SELECT name_key FROM organisations")).scalar() == "universite de rennes 1"
            )
        assert migrate.downgrade(db.engine, "0004") == "0004"
        assert not TABLES & set(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM organisations")).scalars().all() == [
                "Université  de Rennes-1"
            ]
    finally:
        db.drop()
