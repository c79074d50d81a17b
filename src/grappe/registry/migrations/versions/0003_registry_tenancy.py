"""Registry: tenancy — the owner cluster of an organisation, and invitations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 05:00:00

Organisations created before this revision have no owner: their managers keep the rights
their memberships give, and the platform administrator the others.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "organisation_owners",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_organisation_owners_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_owners_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_organisation_owners")),
    )
    op.create_index(
        op.f("ix_organisation_owners_cluster_id"), "organisation_owners", ["cluster_id"], unique=False
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("siret", sa.String(length=14), nullable=True),
        sa.Column("membership_type", sa.String(length=60), nullable=False),
        sa.Column("joined", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("membership_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined')", name=op.f("ck_invitations_status")
        ),
        sa.CheckConstraint("left_on IS NULL OR left_on > joined", name=op.f("ck_invitations_period")),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_invitations_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_invitations_membership_id_memberships"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_invitations_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
    )
    op.create_index(
        op.f("ix_invitations_organisation_id_status"),
        "invitations",
        ["organisation_id", "status"],
        unique=False,
    )
    # One pending invitation per cluster and organisation; answered ones stay as history.
    op.create_index(
        "uq_invitations_pending",
        "invitations",
        ["cluster_id", "organisation_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("uq_invitations_pending", table_name="invitations")
    op.drop_index(op.f("ix_invitations_organisation_id_status"), table_name="invitations")
    op.drop_table("invitations")
    op.drop_index(op.f("ix_organisation_owners_cluster_id"), table_name="organisation_owners")
    op.drop_table("organisation_owners")
