"""Fixtures of the evaluation tests: the registry's databases (SQLite and PostgreSQL) and world."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

# The registry tests' kit is shared by path: the test folders are not packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))
dbkit = importlib.import_module("dbkit")

database, db, fresh, world = dbkit.database, dbkit.db, dbkit.fresh, dbkit.world

__all__ = ["database", "db", "fresh", "world"]
