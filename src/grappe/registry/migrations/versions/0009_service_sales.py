"""Services sold to members (issue 17): a cluster's service offers and their sales.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "service_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=30), nullable=False),
        sa.Column("unit_price_eur", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("unit_price_eur >= 0", name=op.f("ck_service_offers_price")),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_service_offers_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_offers")),
    )
    with op.batch_alter_table("service_offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_offers_cluster_id"), ["cluster_id"], unique=False)

    op.create_table(
        "service_sales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("sold_on", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("amount_eur", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_eur >= 0", name=op.f("ck_service_sales_amount")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_service_sales_quantity")),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["service_offers.id"], name=op.f("fk_service_sales_offer_id_service_offers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"],
            name=op.f("fk_service_sales_organisation_id_organisations"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_sales")),
    )
    with op.batch_alter_table("service_sales", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_sales_offer_id_sold_on"), ["offer_id", "sold_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_sales_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("service_sales")
    op.drop_table("service_offers")
