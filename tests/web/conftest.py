"""Web test fixtures: the application on a fresh database per backend, shared by a test module."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from webkit import Web, build_web, dbkit, save_observatory_run

database = dbkit.database


@pytest.fixture(scope="module")
def web(database: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """The web application on a fresh database (same backend as ``database``).

    Built once per module (hashing a password with argon2 takes a fraction of a second on
    purpose); tests only read, or sign in and out, which leaves the registry as it was.
    """
    db = dbkit.new_database(database.backend, tmp_path_factory.mktemp("web"))  # type: ignore[attr-defined]
    try:
        yield build_web(db)
    finally:
        db.drop()


@pytest.fixture(scope="session")
def observatory_home(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Path:
    """A GRAPPE_HOME holding the saved detection run of the Rouen file (computed once)."""
    return save_observatory_run(tmp_path_factory.getbasetemp() / "observatory_run", real_data)


@pytest.fixture
def observatory(grappe_home: Path, observatory_home: Path) -> Path:
    """The saved run copied into this test's GRAPPE_HOME (its name: ``webkit.RUN_NAME``)."""
    target = grappe_home / "observatory"
    shutil.copytree(observatory_home / "observatory", target, symlinks=True)
    return target
