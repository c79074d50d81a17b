"""Detection jobs kept in the database: claimed by their insert, owned by a process that beats.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 13:58:50.650592
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from grappe.storage.sql import UtcDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "detection_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("store", sa.String(length=500), nullable=False),
        sa.Column("level", sa.String(length=40), nullable=False),
        sa.Column("sectors", sa.String(length=40), nullable=False),
        sa.Column("permutations", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("started_by", sa.String(length=120), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("restart_of", sa.Integer(), nullable=True),
        sa.Column("queued_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("heartbeat_at", UtcDateTime(), nullable=False),
        sa.Column("worker_host", sa.String(length=255), nullable=False),
        sa.Column("worker_pid", sa.Integer(), nullable=False),
        sa.Column("worker_token", sa.String(length=32), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=64), nullable=True),
        sa.Column("message", sa.String(length=2000), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'interrupted')",
            name=op.f("ck_detection_jobs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["restart_of"],
            ["detection_jobs.id"],
            name=op.f("fk_detection_jobs_restart_of_detection_jobs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_detection_jobs_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detection_jobs")),
    )
    op.create_index(
        op.f("ix_detection_jobs_worker_token_status"),
        "detection_jobs",
        ["worker_token", "status"],
        unique=False,
    )
    # The claim: one active job per save name and per set of analysis parameters.
    op.create_index(
        "uq_detection_jobs_active_name",
        "detection_jobs",
        ["name"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )
    op.create_index(
        "uq_detection_jobs_active_parameters",
        "detection_jobs",
        ["store", "level", "sectors", "permutations"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("detection_jobs")
