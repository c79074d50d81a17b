"""Collective actions (issue 17): events, shared equipment, shared positions, group purchases.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:54:49
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "equipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("hourly_rate_eur", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("hourly_rate_eur >= 0", name=op.f("ck_equipment_rate")),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_equipment_cluster_id_clusters"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
    )
    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_cluster_id"), ["cluster_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("price_eur", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("shared_stand", sa.Boolean(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('breakfast', 'training', 'trade_show', 'business_mission', "
            "'company_visit', 'conference')",
            name=op.f("ck_events_kind"),
        ),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 1", name=op.f("ck_events_capacity")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_events_period")),
        sa.CheckConstraint("price_eur >= 0", name=op.f("ck_events_price")),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_events_cluster_id_clusters"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_cluster_id_starts_at"), ["cluster_id", "starts_at"], unique=False
        )

    op.create_table(
        "equipment_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_equipment_bookings_period")),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_equipment_bookings_equipment_id_equipment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_equipment_bookings_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_bookings")),
    )
    with op.batch_alter_table("equipment_bookings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_equipment_bookings_equipment_id_starts_at"),
            ["equipment_id", "starts_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_equipment_bookings_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "event_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("seats >= 1", name=op.f("ck_event_registrations_seats")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_registrations_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_event_registrations_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_registrations")),
        sa.UniqueConstraint(
            "event_id", "organisation_id", name=op.f("uq_event_registrations_event_id_organisation_id")
        ),
    )
    with op.batch_alter_table("event_registrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_registrations_organisation_id"), ["organisation_id"], unique=False
        )
    op.create_table(
        "shared_positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("yearly_cost_eur", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start", name=op.f("ck_shared_positions_period")),
        sa.CheckConstraint("yearly_cost_eur >= 0", name=op.f("ck_shared_positions_cost")),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_shared_positions_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_positions")),
    )
    with op.batch_alter_table("shared_positions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shared_positions_cluster_id"), ["cluster_id"], unique=False)

    op.create_table(
        "position_shares",
        sa.Column("position_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.CheckConstraint("percent > 0 AND percent <= 100", name=op.f("ck_position_shares_percent")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_position_shares_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["shared_positions.id"],
            name=op.f("fk_position_shares_position_id_shared_positions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("position_id", "organisation_id", name=op.f("pk_position_shares")),
    )
    with op.batch_alter_table("position_shares", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_position_shares_organisation_id"), ["organisation_id"], unique=False
        )
    op.create_table(
        "group_purchases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=30), nullable=False),
        sa.Column("reference_price_eur", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=True),
        sa.Column("negotiated_price_eur", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "negotiated_price_eur IS NULL OR negotiated_price_eur >= 0",
            name=op.f("ck_group_purchases_negotiated"),
        ),
        sa.CheckConstraint("reference_price_eur >= 0", name=op.f("ck_group_purchases_reference")),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_group_purchases_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_purchases")),
    )
    with op.batch_alter_table("group_purchases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_purchases_cluster_id"), ["cluster_id"], unique=False)

    op.create_table(
        "purchase_needs",
        sa.Column("purchase_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_purchase_needs_quantity")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_purchase_needs_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["group_purchases.id"],
            name=op.f("fk_purchase_needs_purchase_id_group_purchases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("purchase_id", "organisation_id", name=op.f("pk_purchase_needs")),
    )
    with op.batch_alter_table("purchase_needs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purchase_needs_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("purchase_needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchase_needs_organisation_id"))

    op.drop_table("purchase_needs")
    with op.batch_alter_table("group_purchases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_purchases_cluster_id"))

    op.drop_table("group_purchases")
    with op.batch_alter_table("position_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_position_shares_organisation_id"))

    op.drop_table("position_shares")
    with op.batch_alter_table("shared_positions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shared_positions_cluster_id"))

    op.drop_table("shared_positions")
    with op.batch_alter_table("event_registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_registrations_organisation_id"))

    op.drop_table("event_registrations")
    with op.batch_alter_table("equipment_bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_bookings_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_equipment_bookings_equipment_id_starts_at"))

    op.drop_table("equipment_bookings")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_cluster_id_starts_at"))

    op.drop_table("events")
    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_cluster_id"))

    op.drop_table("equipment")
