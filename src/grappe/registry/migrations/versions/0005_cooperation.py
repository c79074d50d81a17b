"""Cooperation (issue 17): links, collaborative projects, business deals; organisations without SIREN.

Organisations gain a town, a country and a name key (the de-duplication key of partners
known only by name), filled here for the organisations already stored.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 07:35:05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from grappe.registry.identifiers import name_key

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "business_deals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("amount_eur", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("brokered", sa.Boolean(), nullable=False),
        sa.Column("declared_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('goods', 'services', 'subcontracting', 'other')", name=op.f("ck_business_deals_kind")
        ),
        sa.CheckConstraint("amount_eur >= 0", name=op.f("ck_business_deals_amount")),
        sa.CheckConstraint("buyer_id <> seller_id", name=op.f("ck_business_deals_two_sides")),
        sa.ForeignKeyConstraint(
            ["buyer_id"],
            ["organisations.id"],
            name=op.f("fk_business_deals_buyer_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_business_deals_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["declared_by_id"],
            ["organisations.id"],
            name=op.f("fk_business_deals_declared_by_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["organisations.id"],
            name=op.f("fk_business_deals_seller_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_deals")),
    )
    with op.batch_alter_table("business_deals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_business_deals_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_business_deals_cluster_id_year"), ["cluster_id", "year"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_business_deals_seller_id"), ["seller_id"], unique=False)

    op.create_table(
        "cooperation_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("organisation_a_id", sa.Integer(), nullable=False),
        sa.Column("organisation_b_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("intensity", sa.SmallInteger(), nullable=True),
        sa.Column("amount_eur", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("declared_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('supplier_customer', 'subcontracting', 'co_development', "
            "'horizontal_partnership', 'shared_resource')",
            name=op.f("ck_cooperation_links_kind"),
        ),
        sa.CheckConstraint(
            "source IN ('manager', 'member', 'project', 'event', 'business')",
            name=op.f("ck_cooperation_links_source"),
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'confirmed', 'declined')", name=op.f("ck_cooperation_links_state")
        ),
        sa.CheckConstraint("amount_eur IS NULL OR amount_eur >= 0", name=op.f("ck_cooperation_links_amount")),
        sa.CheckConstraint(
            "end_date IS NULL OR start IS NULL OR end_date >= start", name=op.f("ck_cooperation_links_period")
        ),
        sa.CheckConstraint(
            "intensity IS NULL OR intensity BETWEEN 1 AND 5", name=op.f("ck_cooperation_links_intensity")
        ),
        sa.CheckConstraint(
            "organisation_a_id <> organisation_b_id", name=op.f("ck_cooperation_links_two_sides")
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_cooperation_links_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["declared_by_id"],
            ["organisations.id"],
            name=op.f("fk_cooperation_links_declared_by_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_a_id"],
            ["organisations.id"],
            name=op.f("fk_cooperation_links_organisation_a_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_b_id"],
            ["organisations.id"],
            name=op.f("fk_cooperation_links_organisation_b_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cooperation_links")),
    )
    with op.batch_alter_table("cooperation_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cooperation_links_cluster_id_state"), ["cluster_id", "state"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cooperation_links_organisation_a_id"), ["organisation_a_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cooperation_links_organisation_b_id"), ["organisation_b_id"], unique=False
        )

    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=60), nullable=True),
        sa.Column("acronym", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("call", sa.String(length=200), nullable=True),
        sa.Column("edition", sa.SmallInteger(), nullable=True),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("patents", sa.Integer(), nullable=True),
        sa.Column("products", sa.Integer(), nullable=True),
        sa.Column("jobs", sa.Integer(), nullable=True),
        sa.Column("turnover_eur", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('rd_innovation', 'market', 'training', 'structuring')", name=op.f("ck_projects_kind")
        ),
        sa.CheckConstraint(
            "status IN ('idea', 'drafting', 'labelled', 'submitted', 'funded', "
            "'rejected', 'running', 'completed', 'abandoned')",
            name=op.f("ck_projects_status"),
        ),
        sa.CheckConstraint(
            "coalesce(patents, 0) >= 0 AND coalesce(products, 0) >= 0 AND coalesce(jobs, 0) >= 0",
            name=op.f("ck_projects_results"),
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR start IS NULL OR end_date >= start", name=op.f("ck_projects_period")
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_projects_cluster_id_clusters"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("code", name=op.f("uq_projects_code")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_projects_cluster_id_status"), ["cluster_id", "status"], unique=False
        )

    op.create_table(
        "cooperation_link_orientations",
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("orientation", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "orientation IN ('means', 'products_markets', 'working_club')",
            name=op.f("ck_cooperation_link_orientations_orientation"),
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["cooperation_links.id"],
            name=op.f("fk_cooperation_link_orientations_link_id_cooperation_links"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("link_id", "orientation", name=op.f("pk_cooperation_link_orientations")),
    )
    op.create_table(
        "project_fundings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("funder", sa.String(length=200), nullable=False),
        sa.Column("programme", sa.String(length=20), nullable=False),
        sa.Column("amount_eur", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.CheckConstraint(
            "programme IN ('fui', 'anr', 'bpifrance', 'region', 'horizon_europe', 'interreg', 'other')",
            name=op.f("ck_project_fundings_programme"),
        ),
        sa.CheckConstraint("amount_eur >= 0", name=op.f("ck_project_fundings_amount")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_fundings_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_fundings")),
    )
    with op.batch_alter_table("project_fundings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_fundings_project_id"), ["project_id"], unique=False)

    op.create_table(
        "project_labels",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("labelled_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_project_labels_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_labels_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "cluster_id", name=op.f("pk_project_labels")),
    )
    with op.batch_alter_table("project_labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_labels_cluster_id"), ["cluster_id"], unique=False)

    op.create_table(
        "project_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=80), nullable=True),
        sa.Column("coordinator", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=True),
        sa.Column("source_category", sa.String(length=120), nullable=True),
        sa.Column("town", sa.String(length=120), nullable=True),
        sa.Column("country", sa.String(length=60), nullable=True),
        sa.Column("budget_eur", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.CheckConstraint(
            "category IN ('member_firm', 'non_member_firm', 'laboratory', "
            "'training_body', 'public_body', 'foreign_partner')",
            name=op.f("ck_project_partners_category"),
        ),
        sa.CheckConstraint("budget_eur IS NULL OR budget_eur >= 0", name=op.f("ck_project_partners_budget")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_project_partners_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_partners_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_partners")),
        sa.UniqueConstraint("code", name=op.f("uq_project_partners_code")),
    )
    with op.batch_alter_table("project_partners", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_partners_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_project_partners_project_id"), ["project_id"], unique=False)

    op.create_table(
        "project_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('idea', 'drafting', 'labelled', 'submitted', 'funded', "
            "'rejected', 'running', 'completed', 'abandoned')",
            name=op.f("ck_project_transitions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_transitions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_transitions")),
    )
    with op.batch_alter_table("project_transitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_transitions_project_id"), ["project_id"], unique=False)

    # Plain ALTER TABLE on both backends: a batch rebuild of organisations on SQLite would
    # drop the table its foreign keys point to.
    op.add_column("organisations", sa.Column("town", sa.String(length=120), nullable=True))
    op.add_column("organisations", sa.Column("country", sa.String(length=60), nullable=True))
    op.add_column("organisations", sa.Column("name_key", sa.String(length=300), nullable=True))
    op.create_index(op.f("ix_organisations_name_key"), "organisations", ["name_key"], unique=False)
    organisations = sa.table(
        "organisations",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("name_key", sa.String),
    )
    connection = op.get_bind()
    keys = [
        {"row_id": row.id, "key": name_key(row.name)}
        for row in connection.execute(sa.select(organisations.c.id, organisations.c.name))
    ]
    if keys:
        connection.execute(
            organisations.update()
            .where(organisations.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("key")),
            keys,
        )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_organisations_name_key"), table_name="organisations")
    op.drop_column("organisations", "name_key")
    op.drop_column("organisations", "country")
    op.drop_column("organisations", "town")

    with op.batch_alter_table("project_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_transitions_project_id"))

    op.drop_table("project_transitions")
    with op.batch_alter_table("project_partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_partners_project_id"))
        batch_op.drop_index(batch_op.f("ix_project_partners_organisation_id"))

    op.drop_table("project_partners")
    with op.batch_alter_table("project_labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_labels_cluster_id"))

    op.drop_table("project_labels")
    with op.batch_alter_table("project_fundings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_fundings_project_id"))

    op.drop_table("project_fundings")
    op.drop_table("cooperation_link_orientations")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projects_cluster_id_status"))

    op.drop_table("projects")
    with op.batch_alter_table("cooperation_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cooperation_links_organisation_b_id"))
        batch_op.drop_index(batch_op.f("ix_cooperation_links_organisation_a_id"))
        batch_op.drop_index(batch_op.f("ix_cooperation_links_cluster_id_state"))

    op.drop_table("cooperation_links")
    with op.batch_alter_table("business_deals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_business_deals_seller_id"))
        batch_op.drop_index(batch_op.f("ix_business_deals_cluster_id_year"))
        batch_op.drop_index(batch_op.f("ix_business_deals_buyer_id"))

    op.drop_table("business_deals")
