"""API test fixtures: a migrated database per backend with the test world, an app, a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from apikit import Api, build_api, dbkit

database = dbkit.database


@pytest.fixture
def api(database: object, tmp_path: Path) -> Iterator[Api]:
    """A fresh database (same backend as ``database``) behind a test client."""
    db = dbkit.new_database(database.backend, tmp_path)  # type: ignore[attr-defined]
    try:
        yield build_api(db)
    finally:
        db.drop()
