"""Persistent model of cooperation: links, collaborative projects and business between members."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grappe.registry.models import Cluster, Money, Organisation, OrganisationKind, utcnow
from grappe.storage.sql import Base, UtcDateTime, check_in


class LinkKind(StrEnum):
    """Kinds of cooperation link; for ``supplier_customer`` side a supplies side b."""

    SUPPLIER_CUSTOMER = "supplier_customer"
    SUBCONTRACTING = "subcontracting"  # side a subcontracts to side b
    CO_DEVELOPMENT = "co_development"
    HORIZONTAL_PARTNERSHIP = "horizontal_partnership"
    SHARED_RESOURCE = "shared_resource"


class Orientation(StrEnum):
    """The three orientations of cooperation (seed 001)."""

    MEANS = "means"  # moyens
    PRODUCTS_MARKETS = "products_markets"  # produits/marchés
    WORKING_CLUB = "working_club"  # club de travail


class LinkSource(StrEnum):
    """Who or what recorded a link."""

    MANAGER = "manager"
    MEMBER = "member"
    PROJECT = "project"
    EVENT = "event"
    BUSINESS = "business"


class LinkState(StrEnum):
    """A link declared by a member counts once the other party confirms it."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class ProjectKind(StrEnum):
    """Kinds of collaborative project."""

    RD_INNOVATION = "rd_innovation"
    MARKET = "market"
    TRAINING = "training"
    STRUCTURING = "structuring"


class ProjectStatus(StrEnum):
    """Steps of a project's pipeline (idée ... abandonné)."""

    IDEA = "idea"
    DRAFTING = "drafting"  # montage
    LABELLED = "labelled"
    SUBMITTED = "submitted"  # déposé
    FUNDED = "funded"
    REJECTED = "rejected"
    RUNNING = "running"  # en cours
    COMPLETED = "completed"  # terminé
    ABANDONED = "abandoned"


class PartnerCategory(StrEnum):
    """Category of a project partner."""

    MEMBER_FIRM = "member_firm"
    NON_MEMBER_FIRM = "non_member_firm"
    LABORATORY = "laboratory"
    TRAINING_BODY = "training_body"
    PUBLIC_BODY = "public_body"
    FOREIGN_PARTNER = "foreign_partner"


class Programme(StrEnum):
    """Funding programmes of collaborative projects."""

    FUI = "fui"
    ANR = "anr"
    BPIFRANCE = "bpifrance"
    REGION = "region"
    HORIZON_EUROPE = "horizon_europe"
    INTERREG = "interreg"
    OTHER = "other"


KIND_OF_CATEGORY: Final = {
    PartnerCategory.MEMBER_FIRM: OrganisationKind.FIRM,
    PartnerCategory.NON_MEMBER_FIRM: OrganisationKind.FIRM,
    PartnerCategory.LABORATORY: OrganisationKind.RESEARCH_LAB,
    PartnerCategory.TRAINING_BODY: OrganisationKind.TRAINING_BODY,
    PartnerCategory.PUBLIC_BODY: OrganisationKind.PUBLIC_BODY,
    PartnerCategory.FOREIGN_PARTNER: OrganisationKind.OTHER,
}
"""The organisation kind a partner category stands for (a foreign partner's is unknown)."""

NOT_GIVEN: Final = frozenset({"", "non renseigne", "nr", "n a", "na"})
"""Name keys of values that mean "not given" (the ANR writes ``Non renseigné``): a partner
named so is not an organisation (CONTRACTS)."""


class DealKind(StrEnum):
    """Kinds of business deal between organisations."""

    GOODS = "goods"
    SERVICES = "services"
    SUBCONTRACTING = "subcontracting"
    OTHER = "other"


class CooperationLink(Base):
    """A cooperation link between two organisations, recorded in one cluster's books.

    A link declared by a member starts ``pending`` and counts (network, figures) once the
    other party confirms it; a link recorded by the manager or derived is ``confirmed``.
    """

    __tablename__ = "cooperation_links"
    __table_args__ = (
        check_in("kind", LinkKind, "kind"),
        check_in("source", LinkSource, "source"),
        check_in("state", LinkState, "state"),
        CheckConstraint("organisation_a_id <> organisation_b_id", name="two_sides"),
        CheckConstraint("end_date IS NULL OR start IS NULL OR end_date >= start", name="period"),
        CheckConstraint("intensity IS NULL OR intensity BETWEEN 1 AND 5", name="intensity"),
        CheckConstraint("amount_eur IS NULL OR amount_eur >= 0", name="amount"),
        Index(None, "cluster_id", "state"),
        Index(None, "organisation_a_id"),
        Index(None, "organisation_b_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    organisation_a_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    organisation_b_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    start: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    intensity: Mapped[int | None] = mapped_column(SmallInteger)  # 1 (occasional) .. 5 (strategic)
    amount_eur: Mapped[Decimal | None] = mapped_column(Money)
    source: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    # The organisation whose member declared it; the other side confirms.
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    orientations: Mapped[list[LinkOrientation]] = relationship(
        cascade="all, delete-orphan", order_by="LinkOrientation.orientation", lazy="selectin"
    )
    organisation_a: Mapped[Organisation] = relationship(foreign_keys=[organisation_a_id])
    organisation_b: Mapped[Organisation] = relationship(foreign_keys=[organisation_b_id])


class LinkOrientation(Base):
    """One orientation of a link (a link may have several)."""

    __tablename__ = "cooperation_link_orientations"
    __table_args__ = (check_in("orientation", Orientation, "orientation"),)
    link_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation_links.id", ondelete="CASCADE"), primary_key=True
    )
    orientation: Mapped[str] = mapped_column(String(20), primary_key=True)


class Project(Base):
    """A collaborative project.

    ``cluster_id`` is the cluster organisation whose books hold it (NULL for projects
    imported from open data, which are public); the clusters that labelled it are in
    :class:`ProjectLabel`. ``code`` is the identifier given by its source (the ANR decision
    code), unique so a re-import finds the project again.
    """

    __tablename__ = "projects"
    __table_args__ = (
        check_in("kind", ProjectKind, "kind"),
        check_in("status", ProjectStatus, "status"),
        CheckConstraint("end_date IS NULL OR start IS NULL OR end_date >= start", name="period"),
        CheckConstraint(
            "coalesce(patents, 0) >= 0 AND coalesce(products, 0) >= 0 AND coalesce(jobs, 0) >= 0",
            name="results",
        ),
        Index(None, "cluster_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    code: Mapped[str | None] = mapped_column(String(60), unique=True)
    acronym: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    call: Mapped[str | None] = mapped_column(String(200))  # the call for projects answered
    edition: Mapped[int | None] = mapped_column(SmallInteger)  # year of that call
    start: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    patents: Mapped[int | None] = mapped_column(Integer)
    products: Mapped[int | None] = mapped_column(Integer)
    jobs: Mapped[int | None] = mapped_column(Integer)
    turnover_eur: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    partners: Mapped[list[ProjectPartner]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectPartner.id"
    )
    fundings: Mapped[list[ProjectFunding]] = relationship(
        cascade="all, delete-orphan", order_by="ProjectFunding.id"
    )
    transitions: Mapped[list[ProjectTransition]] = relationship(
        cascade="all, delete-orphan", order_by="ProjectTransition.id"
    )
    labels: Mapped[list[ProjectLabel]] = relationship(cascade="all, delete-orphan")
    cluster: Mapped[Cluster | None] = relationship()


class ProjectTransition(Base):
    """One dated step of a project's status pipeline (the history is the set of rows)."""

    __tablename__ = "project_transitions"
    __table_args__ = (check_in("status", ProjectStatus, "status"), Index(None, "project_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ProjectPartner(Base):
    """A partner of a project; ``organisation_id`` NULL for an unnamed partner (``Non renseigné``).

    An unnamed partner keeps its category, town and budget but stays outside the network,
    the directory and partner search. ``code`` is the source's partner identifier.
    """

    __tablename__ = "project_partners"
    __table_args__ = (
        check_in("category", PartnerCategory, "category"),
        CheckConstraint("budget_eur IS NULL OR budget_eur >= 0", name="budget"),
        Index(None, "project_id"),
        Index(None, "organisation_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    code: Mapped[str | None] = mapped_column(String(80), unique=True)
    coordinator: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str | None] = mapped_column(String(20))
    source_category: Mapped[str | None] = mapped_column(String(120))  # as the source names it
    town: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(60))
    budget_eur: Mapped[Decimal | None] = mapped_column(Money)
    project: Mapped[Project] = relationship(back_populates="partners")
    organisation: Mapped[Organisation | None] = relationship()


class ProjectFunding(Base):
    """Funding of a project by one funder under one programme."""

    __tablename__ = "project_fundings"
    __table_args__ = (
        check_in("programme", Programme, "programme"),
        CheckConstraint("amount_eur >= 0", name="amount"),
        Index(None, "project_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    funder: Mapped[str] = mapped_column(String(200))
    programme: Mapped[str] = mapped_column(String(20))
    amount_eur: Mapped[Decimal] = mapped_column(Money)


class ProjectLabel(Base):
    """A cluster organisation that labelled a project."""

    __tablename__ = "project_labels"
    __table_args__ = (Index(None, "cluster_id"),)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True)
    labelled_on: Mapped[dt.date | None] = mapped_column(Date)


class BusinessDeal(Base):
    """Business between two organisations in one year, declared in one cluster's books."""

    __tablename__ = "business_deals"
    __table_args__ = (
        check_in("kind", DealKind, "kind"),
        CheckConstraint("buyer_id <> seller_id", name="two_sides"),
        CheckConstraint("amount_eur >= 0", name="amount"),
        Index(None, "cluster_id", "year"),
        Index(None, "buyer_id"),
        Index(None, "seller_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(SmallInteger)
    amount_eur: Mapped[Decimal] = mapped_column(Money)
    kind: Mapped[str] = mapped_column(String(20))
    brokered: Mapped[bool] = mapped_column(Boolean, default=False)  # by the cluster organisation
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    buyer: Mapped[Organisation] = relationship(foreign_keys=[buyer_id])
    seller: Mapped[Organisation] = relationship(foreign_keys=[seller_id])
