"""Fixtures of the partner tests: a registry holding the real ANR projects, imported once."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

# The registry tests' kit is shared by path: the test folders are not packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))
dbkit = importlib.import_module("dbkit")

database, db, world = dbkit.database, dbkit.db, dbkit.world

__all__ = ["anr_registry", "database", "db", "world"]

ANR_PROJECTS = "anr-dgpie-projets-finances-2006-2018-projets.xlsx"
ANR_PARTNERS = "anr-dgpie-projets-finances-2006-2018-partenaires.xlsx"


@pytest.fixture(scope="session")
def anr_registry(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite registry file holding the real ANR projects and partners (read, never written)."""
    from grappe.cooperation.projects_io import ImportFormat, import_projects
    from grappe.registry import LOCAL_ADMIN, migrate
    from grappe.storage.sql import make_engine, session_scope

    path = tmp_path_factory.mktemp("anr") / "registry.db"
    engine = make_engine(f"sqlite:///{path}", pool=False)
    migrate.upgrade(engine)
    folder = real_data / "anr"
    with session_scope(engine) as session:
        import_projects(
            session, LOCAL_ADMIN, folder / ANR_PROJECTS, folder / ANR_PARTNERS, fmt=ImportFormat.ANR
        )
    engine.dispose()
    return path
