"""B2B meetings (issue 18): B2B events, guest clusters, participants, wishes and the stored schedule.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:49:30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "b2b_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("tables", sa.Integer(), nullable=False),
        sa.Column("max_meetings", sa.Integer(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=True),
        sa.Column("satisfied", sa.Integer(), nullable=True),
        sa.Column("greedy_satisfied", sa.Integer(), nullable=True),
        sa.Column("bound", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("method IN ('optimal', 'greedy')", name=op.f("ck_b2b_events_method")),
        sa.CheckConstraint("max_meetings >= 1", name=op.f("ck_b2b_events_max_meetings")),
        sa.CheckConstraint("slot_minutes >= 5", name=op.f("ck_b2b_events_slot_minutes")),
        sa.CheckConstraint("slots >= 1", name=op.f("ck_b2b_events_slots")),
        sa.CheckConstraint("tables >= 1", name=op.f("ck_b2b_events_tables")),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_b2b_events_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_b2b_events_event_id_events"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_b2b_events")),
    )
    with op.batch_alter_table("b2b_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_b2b_events_cluster_id_starts_at"), ["cluster_id", "starts_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_b2b_events_event_id"), ["event_id"], unique=False)

    op.create_table(
        "b2b_guest_clusters",
        sa.Column("b2b_event_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["b2b_event_id"],
            ["b2b_events.id"],
            name=op.f("fk_b2b_guest_clusters_b2b_event_id_b2b_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_b2b_guest_clusters_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("b2b_event_id", "cluster_id", name=op.f("pk_b2b_guest_clusters")),
    )
    with op.batch_alter_table("b2b_guest_clusters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_b2b_guest_clusters_cluster_id"), ["cluster_id"], unique=False)

    op.create_table(
        "b2b_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("b2b_event_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("unavailable", sa.String(length=1000), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["b2b_event_id"],
            ["b2b_events.id"],
            name=op.f("fk_b2b_participants_b2b_event_id_b2b_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_b2b_participants_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_b2b_participants")),
        sa.UniqueConstraint(
            "b2b_event_id", "organisation_id", name=op.f("uq_b2b_participants_b2b_event_id_organisation_id")
        ),
    )
    with op.batch_alter_table("b2b_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_b2b_participants_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "b2b_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("b2b_event_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("table_number", sa.Integer(), nullable=False),
        sa.Column("participant_a_id", sa.Integer(), nullable=False),
        sa.Column("participant_b_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("participant_a_id <> participant_b_id", name=op.f("ck_b2b_meetings_distinct")),
        sa.CheckConstraint("slot >= 1 AND table_number >= 1", name=op.f("ck_b2b_meetings_place")),
        sa.ForeignKeyConstraint(
            ["b2b_event_id"],
            ["b2b_events.id"],
            name=op.f("fk_b2b_meetings_b2b_event_id_b2b_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_a_id"],
            ["b2b_participants.id"],
            name=op.f("fk_b2b_meetings_participant_a_id_b2b_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_b_id"],
            ["b2b_participants.id"],
            name=op.f("fk_b2b_meetings_participant_b_id_b2b_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_b2b_meetings")),
        sa.UniqueConstraint(
            "b2b_event_id",
            "participant_a_id",
            "participant_b_id",
            name=op.f("uq_b2b_meetings_b2b_event_id_participant_a_id_participant_b_id"),
        ),
        sa.UniqueConstraint(
            "b2b_event_id",
            "slot",
            "table_number",
            name=op.f("uq_b2b_meetings_b2b_event_id_slot_table_number"),
        ),
    )
    with op.batch_alter_table("b2b_meetings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_b2b_meetings_participant_a_id"), ["participant_a_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_b2b_meetings_participant_b_id"), ["participant_b_id"], unique=False
        )

    op.create_table(
        "b2b_wishes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("b2b_event_id", sa.Integer(), nullable=False),
        sa.Column("from_id", sa.Integer(), nullable=False),
        sa.Column("to_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'refused')", name=op.f("ck_b2b_wishes_status")),
        sa.CheckConstraint("from_id <> to_id", name=op.f("ck_b2b_wishes_distinct")),
        sa.CheckConstraint("priority >= 1 AND priority <= 10", name=op.f("ck_b2b_wishes_priority")),
        sa.ForeignKeyConstraint(
            ["b2b_event_id"],
            ["b2b_events.id"],
            name=op.f("fk_b2b_wishes_b2b_event_id_b2b_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_id"],
            ["b2b_participants.id"],
            name=op.f("fk_b2b_wishes_from_id_b2b_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_id"],
            ["b2b_participants.id"],
            name=op.f("fk_b2b_wishes_to_id_b2b_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_b2b_wishes")),
        sa.UniqueConstraint(
            "b2b_event_id", "from_id", "to_id", name=op.f("uq_b2b_wishes_b2b_event_id_from_id_to_id")
        ),
    )
    with op.batch_alter_table("b2b_wishes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_b2b_wishes_to_id"), ["to_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("b2b_wishes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_b2b_wishes_to_id"))

    op.drop_table("b2b_wishes")
    with op.batch_alter_table("b2b_meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_b2b_meetings_participant_b_id"))
        batch_op.drop_index(batch_op.f("ix_b2b_meetings_participant_a_id"))

    op.drop_table("b2b_meetings")
    with op.batch_alter_table("b2b_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_b2b_participants_organisation_id"))

    op.drop_table("b2b_participants")
    with op.batch_alter_table("b2b_guest_clusters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_b2b_guest_clusters_cluster_id"))

    op.drop_table("b2b_guest_clusters")
    with op.batch_alter_table("b2b_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_b2b_events_event_id"))
        batch_op.drop_index(batch_op.f("ix_b2b_events_cluster_id_starts_at"))

    op.drop_table("b2b_events")
