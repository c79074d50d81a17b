"""Fixtures of the registry tests: see dbkit (databases on SQLite and PostgreSQL, the world)."""

from __future__ import annotations

from dbkit import database, db, fresh, world

__all__ = ["database", "db", "fresh", "world"]
