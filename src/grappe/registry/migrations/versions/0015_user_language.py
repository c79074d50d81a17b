"""Users' language: the language of the mail they receive, French unless they choose English.

The column comes with its CHECK and the default ``'fr'`` for the users already there. On
SQLite it is added by one ``ALTER TABLE ... ADD COLUMN`` carrying the CHECK: rebuilding
``users`` would run the ON DELETE CASCADE of every table that references it (see 0012), and
SQLite drops the column again in place.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 14:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The languages of grappe.kit.present.LANGUAGES when this revision was written.
_CHECK = "language IN ('fr', 'en')"


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE users ADD COLUMN language VARCHAR(2) DEFAULT 'fr' NOT NULL "
            f"CONSTRAINT ck_users_language CHECK ({_CHECK})"
        )
        return
    op.add_column(
        "users", sa.Column("language", sa.String(length=2), server_default="fr", nullable=False)
    )
    op.create_check_constraint(op.f("ck_users_language"), "users", _CHECK)


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN language")
        return
    op.drop_constraint(op.f("ck_users_language"), "users", type_="check")
    op.drop_column("users", "language")
