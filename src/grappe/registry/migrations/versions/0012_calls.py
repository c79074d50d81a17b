"""Calls for projects (issue 19): calls, applications, budget lines, documents, reviewers, reviews.

Also adds the ``reviewer`` role to the users' role CHECK. PostgreSQL alters the constraint; on
SQLite, rebuilding ``users`` would run the ON DELETE CASCADE of every table that references it
(the connection enforces foreign keys and cannot stop inside a transaction), so the constraint's
text is widened in place by SQLite's documented ``writable_schema`` procedure: the allowed set
only grows, so every stored row still satisfies it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 11:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from grappe.storage.sql import UtcDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = "role IN ('admin', 'funder', 'manager', 'member', 'public')"
NEW_ROLES = "role IN ('admin', 'funder', 'manager', 'member', 'public', 'reviewer')"


def _roles(old: str, new: str) -> None:
    """Replace the users' role CHECK ``old`` by ``new``."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_role"), "users", new)
        return
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'"
    ).scalar()
    if sql is None or old not in sql:
        raise RuntimeError("contrainte ck_users_role introuvable dans la table users")
    version = int(bind.exec_driver_sql("PRAGMA schema_version").scalar() or 0)
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'users'",
        (sql.replace(old, new),),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")  # an integer read just above
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    check = bind.exec_driver_sql("PRAGMA integrity_check").scalar()
    if check != "ok":
        raise RuntimeError(f"base SQLite endommagée après la révision 0012 : {check}")


def upgrade() -> None:
    """Apply this revision."""
    _roles(OLD_ROLES, NEW_ROLES)
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("funder_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("budget_eur", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("max_request_eur", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("applicant_kind", sa.String(length=20), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("required_documents", sa.JSON(), nullable=False),
        sa.Column("reviewers_per_application", sa.SmallInteger(), nullable=False),
        sa.Column("scale_max", sa.SmallInteger(), nullable=False),
        sa.Column("disagreement_threshold", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("decided_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "applicant_kind IN ('cluster', 'consortium')", name=op.f("ck_calls_applicant_kind")
        ),
        sa.CheckConstraint("budget_eur > 0", name=op.f("ck_calls_budget")),
        sa.CheckConstraint("disagreement_threshold >= 0", name=op.f("ck_calls_disagreement")),
        sa.CheckConstraint(
            "max_request_eur IS NULL OR max_request_eur > 0", name=op.f("ck_calls_max_request")
        ),
        sa.CheckConstraint("reviewers_per_application BETWEEN 1 AND 10", name=op.f("ck_calls_reviewers")),
        sa.CheckConstraint("scale_max BETWEEN 1 AND 100", name=op.f("ck_calls_scale")),
        sa.ForeignKeyConstraint(["funder_id"], ["funders.id"], name=op.f("fk_calls_funder_id_funders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    op.create_index(op.f("ix_calls_funder_id"), "calls", ["funder_id"], unique=False)
    op.create_table(
        "call_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("territory", sa.String(length=3), nullable=True),
        sa.Column("theme", sa.String(length=120), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=True),
        sa.Column("eligibility", sa.JSON(), nullable=False),
        sa.Column("submitted_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("funded_eur", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'funded', 'rejected')", name=op.f("ck_call_applications_status")
        ),
        sa.CheckConstraint(
            "(cluster_id IS NULL) <> (organisation_id IS NULL)", name=op.f("ck_call_applications_applicant")
        ),
        sa.CheckConstraint("funded_eur IS NULL OR funded_eur >= 0", name=op.f("ck_call_applications_funded")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_applications_call_id_calls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_call_applications_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_call_applications_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_call_applications_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_applications")),
    )
    op.create_index(
        op.f("ix_call_applications_call_id_status"), "call_applications", ["call_id", "status"], unique=False
    )
    op.create_index(
        op.f("ix_call_applications_cluster_id"), "call_applications", ["cluster_id"], unique=False
    )
    op.create_index(
        op.f("ix_call_applications_organisation_id"), "call_applications", ["organisation_id"], unique=False
    )
    op.create_table(
        "call_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("weight", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("guidance", sa.Text(), nullable=True),
        sa.CheckConstraint("weight > 0 AND weight <= 1", name=op.f("ck_call_criteria_weight")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_criteria_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_criteria")),
        sa.UniqueConstraint("call_id", "name", name=op.f("uq_call_criteria_call_id_name")),
    )
    op.create_table(
        "reviewers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("load_cap", sa.SmallInteger(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("load_cap BETWEEN 0 AND 1000", name=op.f("ck_reviewers_load_cap")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reviewers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviewers")),
        sa.UniqueConstraint("user_id", name=op.f("uq_reviewers_user_id")),
    )
    op.create_table(
        "call_budget_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("amount_eur", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=True),
        sa.CheckConstraint("amount_eur >= 0", name=op.f("ck_call_budget_lines_amount")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["call_applications.id"],
            name=op.f("fk_call_budget_lines_application_id_call_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_call_budget_lines_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_budget_lines")),
        sa.UniqueConstraint(
            "application_id",
            "organisation_id",
            name=op.f("uq_call_budget_lines_application_id_organisation_id"),
        ),
    )
    op.create_table(
        "call_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=60), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_call_documents_size")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["call_applications.id"],
            name=op.f("fk_call_documents_application_id_call_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_documents")),
        sa.UniqueConstraint(
            "application_id", "doc_type", name=op.f("uq_call_documents_application_id_doc_type")
        ),
    )
    op.create_table(
        "review_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("affinity", sa.Float(), nullable=False),
        sa.Column("assigned_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["call_applications.id"],
            name=op.f("fk_review_assignments_application_id_call_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["reviewers.id"],
            name=op.f("fk_review_assignments_reviewer_id_reviewers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_assignments")),
        sa.UniqueConstraint(
            "application_id", "reviewer_id", name=op.f("uq_review_assignments_application_id_reviewer_id")
        ),
    )
    op.create_index(
        op.f("ix_review_assignments_reviewer_id"), "review_assignments", ["reviewer_id"], unique=False
    )
    op.create_table(
        "review_conflicts",
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("declared_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["call_applications.id"],
            name=op.f("fk_review_conflicts_application_id_call_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["reviewers.id"],
            name=op.f("fk_review_conflicts_reviewer_id_reviewers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("reviewer_id", "application_id", name=op.f("pk_review_conflicts")),
    )
    op.create_table(
        "review_scores",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint("value >= 0", name=op.f("ck_review_scores_value")),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["review_assignments.id"],
            name=op.f("fk_review_scores_assignment_id_review_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["call_criteria.id"],
            name=op.f("fk_review_scores_criterion_id_call_criteria"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assignment_id", "criterion_id", name=op.f("pk_review_scores")),
    )


def downgrade() -> None:
    """Undo this revision (reviewer accounts go with the role)."""
    op.drop_table("review_scores")
    op.drop_table("review_conflicts")
    op.drop_index(op.f("ix_review_assignments_reviewer_id"), table_name="review_assignments")
    op.drop_table("review_assignments")
    op.drop_table("call_documents")
    op.drop_table("call_budget_lines")
    op.drop_table("reviewers")
    op.drop_table("call_criteria")
    op.drop_index(op.f("ix_call_applications_organisation_id"), table_name="call_applications")
    op.drop_index(op.f("ix_call_applications_cluster_id"), table_name="call_applications")
    op.drop_index(op.f("ix_call_applications_call_id_status"), table_name="call_applications")
    op.drop_table("call_applications")
    op.drop_index(op.f("ix_calls_funder_id"), table_name="calls")
    op.drop_table("calls")
    op.execute("DELETE FROM users WHERE role = 'reviewer'")
    _roles(NEW_ROLES, OLD_ROLES)
