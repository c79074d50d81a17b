"""Web test fixtures: the application on a fresh database per backend, shared by a test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from webkit import Web, build_web, dbkit

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
