"""Fee letters (issue 14): a fee schedule carries the letterhead and payment details its letters print.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("fee_schedules") as batch:
        batch.add_column(sa.Column("letterhead", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("payment_details", sa.String(length=500), nullable=True))


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("fee_schedules") as batch:
        batch.drop_column("payment_details")
        batch.drop_column("letterhead")
