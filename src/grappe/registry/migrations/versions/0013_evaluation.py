"""Evaluation (issue 19): objectives contracts, indicators and targets, declared values, self-assessments.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 10:49:23.680692
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "evaluation_declared_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=40), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("evidence_name", sa.String(length=200), nullable=True),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.Column("declared_by", sa.String(length=120), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_evaluation_declared_values_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_declared_values")),
        sa.UniqueConstraint(
            "cluster_id",
            "indicator",
            "year",
            name=op.f("uq_evaluation_declared_values_cluster_id_indicator_year"),
        ),
    )
    with op.batch_alter_table("evaluation_declared_values", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_declared_values_cluster_id"), ["cluster_id"], unique=False
        )

    op.create_table(
        "evaluation_self_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("area", sa.String(length=20), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.String(length=2000), nullable=True),
        sa.Column("evidence_name", sa.String(length=200), nullable=True),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.Column("declared_by", sa.String(length=120), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "area IN ('structure', 'governance', 'financing', 'services', 'interaction', 'achievements')",
            name=op.f("ck_evaluation_self_assessments_area"),
        ),
        sa.CheckConstraint("score >= 1 AND score <= 5", name=op.f("ck_evaluation_self_assessments_score")),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_evaluation_self_assessments_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_self_assessments")),
        sa.UniqueConstraint(
            "cluster_id", "year", "area", name=op.f("uq_evaluation_self_assessments_cluster_id_year_area")
        ),
    )
    with op.batch_alter_table("evaluation_self_assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_self_assessments_cluster_id"), ["cluster_id"], unique=False
        )

    op.create_table(
        "objectives_contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("funder_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("start_year", sa.SmallInteger(), nullable=False),
        sa.Column("end_year", sa.SmallInteger(), nullable=False),
        sa.Column("amount_eur", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("share_at_stake", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_eur >= 0", name=op.f("ck_objectives_contracts_amount")),
        sa.CheckConstraint("end_year >= start_year", name=op.f("ck_objectives_contracts_period")),
        sa.CheckConstraint(
            "share_at_stake >= 0 AND share_at_stake <= 1", name=op.f("ck_objectives_contracts_share")
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_objectives_contracts_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["funder_id"], ["funders.id"], name=op.f("fk_objectives_contracts_funder_id_funders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objectives_contracts")),
    )
    with op.batch_alter_table("objectives_contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objectives_contracts_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_objectives_contracts_funder_id"), ["funder_id"], unique=False)

    op.create_table(
        "contract_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=40), nullable=False),
        sa.Column("baseline", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("weight", sa.Numeric(precision=9, scale=4), nullable=False),
        sa.CheckConstraint("weight > 0", name=op.f("ck_contract_indicators_weight")),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["objectives_contracts.id"],
            name=op.f("fk_contract_indicators_contract_id_objectives_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_indicators")),
        sa.UniqueConstraint(
            "contract_id", "indicator", name=op.f("uq_contract_indicators_contract_id_indicator")
        ),
    )
    op.create_table(
        "contract_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_indicator_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("target", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_indicator_id"],
            ["contract_indicators.id"],
            name=op.f("fk_contract_targets_contract_indicator_id_contract_indicators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_targets")),
        sa.UniqueConstraint(
            "contract_indicator_id", "year", name=op.f("uq_contract_targets_contract_indicator_id_year")
        ),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("contract_targets")
    op.drop_table("contract_indicators")
    with op.batch_alter_table("objectives_contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objectives_contracts_funder_id"))
        batch_op.drop_index(batch_op.f("ix_objectives_contracts_cluster_id"))

    op.drop_table("objectives_contracts")
    with op.batch_alter_table("evaluation_self_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_self_assessments_cluster_id"))

    op.drop_table("evaluation_self_assessments")
    with op.batch_alter_table("evaluation_declared_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_declared_values_cluster_id"))

    op.drop_table("evaluation_declared_values")
