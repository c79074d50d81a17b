"""Partner profiles, interclustering opt-ins and calls for partners (issue 18).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:50:15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "cluster_sharings",
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("all_clusters", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_cluster_sharings_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cluster_id", name=op.f("pk_cluster_sharings")),
    )
    op.create_table(
        "partner_profiles",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("capabilities", sa.String(length=4000), nullable=True),
        sa.Column("products", sa.String(length=4000), nullable=True),
        sa.Column("technologies", sa.String(length=4000), nullable=True),
        sa.Column("equipment", sa.String(length=4000), nullable=True),
        sa.Column("needs", sa.String(length=4000), nullable=True),
        sa.Column("markets", sa.String(length=4000), nullable=True),
        sa.Column("keywords", sa.String(length=4000), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("visibility", sa.JSON(), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("consent_on", sa.Date(), nullable=True),
        sa.Column("fabric_naf", sa.String(length=10), nullable=True),
        sa.Column("fabric_commune", sa.String(length=10), nullable=True),
        sa.Column("fabric_size_band", sa.String(length=2), nullable=True),
        sa.Column("fabric_checked_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_partner_profiles_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_partner_profiles")),
    )
    op.create_table(
        "partner_postings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_partner_postings_status")),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_partner_postings_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_partner_postings_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_partner_postings_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_postings")),
    )
    with op.batch_alter_table("partner_postings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_postings_cluster_id_status_deadline"),
            ["cluster_id", "status", "deadline"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_partner_postings_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "sharing_partners",
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("cluster_id <> partner_id", name=op.f("ck_sharing_partners_other")),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["cluster_sharings.cluster_id"],
            name=op.f("fk_sharing_partners_cluster_id_cluster_sharings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["clusters.id"],
            name=op.f("fk_sharing_partners_partner_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cluster_id", "partner_id", name=op.f("pk_sharing_partners")),
    )
    with op.batch_alter_table("sharing_partners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sharing_partners_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "posting_interests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("posting_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=2000), nullable=True),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_posting_interests_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_posting_interests_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"],
            ["partner_postings.id"],
            name=op.f("fk_posting_interests_posting_id_partner_postings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posting_interests")),
        sa.UniqueConstraint(
            "posting_id", "organisation_id", name=op.f("uq_posting_interests_posting_id_organisation_id")
        ),
    )
    with op.batch_alter_table("posting_interests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_posting_interests_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("posting_interests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posting_interests_organisation_id"))

    op.drop_table("posting_interests")
    with op.batch_alter_table("sharing_partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_partners_partner_id"))

    op.drop_table("sharing_partners")
    with op.batch_alter_table("partner_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_postings_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_partner_postings_cluster_id_status_deadline"))

    op.drop_table("partner_postings")
    op.drop_table("partner_profiles")
    op.drop_table("cluster_sharings")
