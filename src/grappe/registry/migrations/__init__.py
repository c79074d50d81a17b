"""Alembic revisions of the registry database, shipped inside the package."""
