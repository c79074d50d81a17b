"""Persistent model of the registry: cluster organisations, organisations, members, fees, audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
    or_,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grappe.kit import present
from grappe.registry.identifiers import name_key
from grappe.storage.sql import Base, UtcDateTime, check_in


def utcnow() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return dt.datetime.now(dt.UTC)


Money = Numeric(14, 2)


class Role(StrEnum):
    """Roles of the platform; every service operation checks one of them."""

    ADMIN = "admin"  # platform administrator
    FUNDER = "funder"  # reads the cluster organisations it funds
    MANAGER = "manager"  # manages its own cluster organisations
    MEMBER = "member"  # reads its organisation and its clusters' member directory
    PUBLIC = "public"  # anonymous: the public directory only
    REVIEWER = "reviewer"  # reviews the applications of calls for projects assigned to it


class TerritoryLevel(StrEnum):
    """Levels a cluster territory may be described at."""

    COMMUNE = "commune"
    EPCI = "epci"
    DEPARTEMENT = "departement"
    REGION = "region"


class LabelKind(StrEnum):
    """Kinds of label a cluster organisation holds."""

    POLE = "pole"  # pôle de compétitivité (State)
    GRAPPE = "grappe"  # grappe d'entreprises (State programme 2010-11)
    REGIONAL = "regional"  # a named regional label
    NONE = "none"


class FundingSource(StrEnum):
    """Sources of a cluster organisation's yearly funding."""

    MEMBERSHIP_FEES = "membership_fees"
    SERVICES = "services"
    PUBLIC = "public"
    EUROPEAN = "european"
    OTHER = "other"


class BodyKind(StrEnum):
    """Governance bodies."""

    BOARD = "board"  # conseil d'administration
    BUREAU = "bureau"


class OrganisationKind(StrEnum):
    """Kinds of organisation that may be members."""

    FIRM = "firm"
    RESEARCH_LAB = "research_lab"
    TRAINING_BODY = "training_body"
    PUBLIC_BODY = "public_body"
    ASSOCIATION = "association"
    OTHER = "other"


class SizeCategory(StrEnum):
    """Firm categories of décret 2008-1354."""

    TPE = "TPE"
    PME = "PME"
    ETI = "ETI"
    GE = "GE"


class FeeMode(StrEnum):
    """How a fee rule computes the amount."""

    FIXED = "fixed"
    HEADCOUNT = "headcount"  # by headcount bracket


class FeeStatus(StrEnum):
    """Status of a fee call; ``late`` is derived from ``due`` and the due date when read."""

    DUE = "due"
    PAID = "paid"
    LATE = "late"
    WAIVED = "waived"


class InvitationStatus(StrEnum):
    """Where an invitation stands: waiting for the organisation's answer, or answered."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Funder(Base):
    """A funder (State, Région, Europe...): labels and funding lines point to it."""

    __tablename__ = "funders"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="other")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Cluster(Base):
    """A cluster organisation (structure d'animation), the tenant of most registry data."""

    __tablename__ = "clusters"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    acronym: Mapped[str | None] = mapped_column(String(60))
    legal_form: Mapped[str | None] = mapped_column(String(120))
    founded: Mapped[int | None] = mapped_column(SmallInteger)
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    sector_group: Mapped[str | None] = mapped_column(String(120))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    # Open memberships (left_on IS NULL), kept up to date by the membership service so the
    # directory never aggregates the membership table on a read.
    member_count: Mapped[int] = mapped_column(Integer, default=0, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UtcDateTime(), default=utcnow, onupdate=utcnow
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    territories: Mapped[list[ClusterTerritory]] = relationship(
        back_populates="cluster", cascade="all, delete-orphan", order_by="ClusterTerritory.id"
    )
    sectors: Mapped[list[ClusterSector]] = relationship(
        back_populates="cluster", cascade="all, delete-orphan", order_by="ClusterSector.id"
    )
    labels: Mapped[list[ClusterLabel]] = relationship(
        back_populates="cluster", cascade="all, delete-orphan", order_by="ClusterLabel.start"
    )
    bodies: Mapped[list[GovernanceBody]] = relationship(
        back_populates="cluster", cascade="all, delete-orphan", order_by="GovernanceBody.id"
    )
    fundings: Mapped[list[ClusterFunding]] = relationship(
        back_populates="cluster", cascade="all, delete-orphan", order_by="ClusterFunding.year"
    )


class ClusterTerritory(Base):
    """One territory (commune, EPCI, département or région) of a cluster organisation."""

    __tablename__ = "cluster_territories"
    __table_args__ = (
        UniqueConstraint("cluster_id", "level", "code"),
        check_in("level", TerritoryLevel, "level"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(20))
    # Derived on save for the directory filter: the région holding most of the territory's
    # population (an EPCI may straddle two régions).
    region: Mapped[str | None] = mapped_column(String(3), index=True)
    cluster: Mapped[Cluster] = relationship(back_populates="territories")


class ClusterSector(Base):
    """One NAF code (any level, canonical form) of a cluster organisation's sector scope."""

    __tablename__ = "cluster_sectors"
    __table_args__ = (UniqueConstraint("cluster_id", "naf"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    naf: Mapped[str] = mapped_column(String(10), index=True)
    section: Mapped[str] = mapped_column(String(1), index=True)  # derived, for section filters
    cluster: Mapped[Cluster] = relationship(back_populates="sectors")


class ClusterLabel(Base):
    """A label held over a period (the history is the set of rows)."""

    __tablename__ = "cluster_labels"
    __table_args__ = (
        check_in("kind", LabelKind, "kind"),
        CheckConstraint("end_date IS NULL OR end_date >= start", name="period"),
        Index(None, "kind", "cluster_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    funder_id: Mapped[int | None] = mapped_column(ForeignKey("funders.id"))
    phase: Mapped[str | None] = mapped_column(String(60))
    start: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    cluster: Mapped[Cluster] = relationship(back_populates="labels")
    funder: Mapped[Funder | None] = relationship()

    def _held_on(self, day: Any) -> bool:  # a date, or a bound date parameter in SQL
        return self.start <= day and (self.end_date is None or self.end_date >= day)

    def _held_on_sql(cls: Any, day: Any) -> ColumnElement[bool]:  # noqa: N805
        return and_(cls.start <= day, or_(cls.end_date.is_(None), cls.end_date >= day))

    held_on = hybrid_method(_held_on, _held_on_sql)
    """The label is held on ``day`` (its end date included)."""


class GovernanceBody(Base):
    """A governance body (board, bureau) with its number of seats."""

    __tablename__ = "governance_bodies"
    __table_args__ = (UniqueConstraint("cluster_id", "kind"), check_in("kind", BodyKind, "kind"))
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    seats: Mapped[int] = mapped_column(Integer)
    cluster: Mapped[Cluster] = relationship(back_populates="bodies")
    holders: Mapped[list[SeatHolder]] = relationship(
        back_populates="body", cascade="all, delete-orphan", order_by="SeatHolder.id"
    )


class SeatHolder(Base):
    """Who holds a seat of a governance body, with an optional office (président, trésorier)."""

    __tablename__ = "seat_holders"
    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("governance_bodies.id", ondelete="CASCADE"))
    person: Mapped[str] = mapped_column(String(200))
    office: Mapped[str | None] = mapped_column(String(100))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    start: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    body: Mapped[GovernanceBody] = relationship(back_populates="holders")


class ClusterFunding(Base):
    """Funding of one year from one source (and funder, for public money)."""

    __tablename__ = "cluster_fundings"
    __table_args__ = (
        UniqueConstraint("cluster_id", "year", "source", "funder_id"),
        check_in("source", FundingSource, "source"),
        CheckConstraint("amount_eur >= 0", name="amount"),
        Index(None, "funder_id", "cluster_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(30))
    funder_id: Mapped[int | None] = mapped_column(ForeignKey("funders.id"))
    amount_eur: Mapped[Decimal] = mapped_column(Money)
    cluster: Mapped[Cluster] = relationship(back_populates="fundings")
    funder: Mapped[Funder | None] = relationship()


class Organisation(Base):
    """A legal unit (SIREN when it has one) that may be a member of cluster organisations."""

    __tablename__ = "organisations"
    __table_args__ = (
        check_in("kind", OrganisationKind, "kind"),
        CheckConstraint(
            "size_category IS NULL OR size_category IN ('TPE', 'PME', 'ETI', 'GE')", name="size"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    siren: Mapped[str | None] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default=OrganisationKind.FIRM.value)
    naf: Mapped[str | None] = mapped_column(String(10))
    commune: Mapped[str | None] = mapped_column(String(10))
    size_band: Mapped[str | None] = mapped_column(String(2))
    declared_headcount: Mapped[int | None] = mapped_column(Integer)
    declared_turnover_eur: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    size_category: Mapped[str | None] = mapped_column(String(3))
    in_fabric: Mapped[bool] = mapped_column(Boolean, default=False)
    website: Mapped[str | None] = mapped_column(String(300))
    # For organisations known without SIREN (project partners): where they are, and the
    # name key (grappe.registry.identifiers.name_key) that de-duplicates them on import.
    town: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(60))
    name_key: Mapped[str | None] = mapped_column(String(300), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    establishments: Mapped[list[Establishment]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Establishment.siret"
    )
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Contact.id"
    )


@event.listens_for(Organisation, "before_insert")
@event.listens_for(Organisation, "before_update")
def _keep_name_key(_mapper: Any, _connection: Any, target: Organisation) -> None:
    target.name_key = name_key(target.name)


class OrganisationOwner(Base):
    """The cluster organisation whose manager created an organisation record.

    The owner's managers have on the organisation the rights of a current member's cluster,
    so an organisation created and not yet attached is nobody else's to read. Ownership is
    set once, at creation, and never by attaching (see :mod:`grappe.registry.policy`);
    organisations created by the platform administrator have no owner. A table of its own
    rather than a column: adding a column with a foreign key is a table rebuild on SQLite.
    """

    __tablename__ = "organisation_owners"
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE"), index=True
    )
    organisation: Mapped[Organisation] = relationship()


class Establishment(Base):
    """An establishment (SIRET) of an organisation, linked to the fabric when found there."""

    __tablename__ = "establishments"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str | None] = mapped_column(String(300))
    naf: Mapped[str | None] = mapped_column(String(10))
    commune: Mapped[str | None] = mapped_column(String(10))
    size_band: Mapped[str | None] = mapped_column(String(2))
    in_fabric: Mapped[bool] = mapped_column(Boolean, default=False)
    organisation: Mapped[Organisation] = relationship(back_populates="establishments")


class Contact(Base):
    """A person of an organisation; appears in member directories only with consent."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    directory_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    organisation: Mapped[Organisation] = relationship(back_populates="contacts")


class Membership(Base):
    """A period of membership of an organisation in a cluster organisation: [joined, left).

    Periods of the same organisation in the same cluster never overlap: the service checks
    it, and the database enforces it (an exclusion constraint on PostgreSQL, triggers on
    SQLite; see the first migration).
    """

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("left_on IS NULL OR left_on > joined", name="period"),
        Index(None, "cluster_id", "left_on"),
        Index(None, "organisation_id", "cluster_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    establishment_id: Mapped[int | None] = mapped_column(
        ForeignKey("establishments.id", ondelete="SET NULL")
    )
    membership_type: Mapped[str] = mapped_column(String(60), default="adherent")
    joined: Mapped[dt.date] = mapped_column(Date)
    left_on: Mapped[dt.date | None] = mapped_column(Date)
    leaving_reason: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    organisation: Mapped[Organisation] = relationship()
    establishment: Mapped[Establishment | None] = relationship()
    cluster: Mapped[Cluster] = relationship()

    # The membership rules every caller uses (services, policy, fees, figures, imports):
    # each is one name, read in Python on a loaded period and in SQL on the table.
    # Days are typed Any: a date in Python, a date or a bound date parameter in SQL.
    def _runs_after(self, day: Any) -> bool:
        return self.left_on is None or self.left_on > day

    def _runs_after_sql(cls: Any, day: Any) -> ColumnElement[bool]:  # noqa: N805
        return or_(cls.left_on.is_(None), cls.left_on > day)

    runs_after = hybrid_method(_runs_after, _runs_after_sql)
    """The period has not ended by ``day``: no end, or an end after it."""

    def _meets(self, start: Any, end: Any) -> bool:
        return self.joined <= end and self.runs_after(start)

    def _meets_sql(cls: Any, start: Any, end: Any) -> ColumnElement[bool]:  # noqa: N805
        return and_(cls.joined <= end, cls.runs_after(start))

    meets = hybrid_method(_meets, _meets_sql)
    """The period [joined, left) meets the days from ``start`` to ``end``, both included."""

    def _open_on(self, day: Any) -> bool:
        return self.meets(day, day)

    def _open_on_sql(cls: Any, day: Any) -> ColumnElement[bool]:  # noqa: N805
        return cls.meets(day, day)

    open_on = hybrid_method(_open_on, _open_on_sql)
    """A member on ``day``: joined on or before it and not left by then."""


class Invitation(Base):
    """A cluster organisation's invitation to an organisation it has no right on.

    Nothing of the organisation becomes readable to the inviting cluster until the
    organisation's side accepts (see :func:`grappe.registry.policy.may_answer`): acceptance
    opens the membership period described here, with the checks of any membership.
    At most one invitation per cluster and organisation is pending at a time.
    """

    __tablename__ = "invitations"
    __table_args__ = (
        check_in("status", InvitationStatus, "status"),
        CheckConstraint("left_on IS NULL OR left_on > joined", name="period"),
        Index(None, "organisation_id", "status"),
        Index(
            "uq_invitations_pending",
            "cluster_id",
            "organisation_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    siret: Mapped[str | None] = mapped_column(String(14))
    membership_type: Mapped[str] = mapped_column(String(60), default="adherent")
    joined: Mapped[dt.date] = mapped_column(Date)
    left_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=InvitationStatus.PENDING.value)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    membership_id: Mapped[int | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    cluster: Mapped[Cluster] = relationship()
    organisation: Mapped[Organisation] = relationship()


class FeeSchedule(Base):
    """The fee schedule of a cluster organisation for one year, with an optional cap."""

    __tablename__ = "fee_schedules"
    __table_args__ = (UniqueConstraint("cluster_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(SmallInteger)
    cap_eur: Mapped[Decimal | None] = mapped_column(Money)
    due_days: Mapped[int] = mapped_column(Integer, default=30)
    # What the year's printed fee calls and reminders carry: the cluster's postal address
    # (several lines) and how to pay (bank account, payee); the address a year's letters
    # printed stays with that year.
    letterhead: Mapped[str | None] = mapped_column(String(500))
    payment_details: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    rules: Mapped[list[FeeRule]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", order_by="FeeRule.id"
    )


class FeeRule(Base):
    """One line of a schedule: a membership type (and size category, or any) -> an amount.

    ``fixed`` rules carry ``amount_eur``; ``headcount`` rules carry brackets
    ``[[min_headcount, amount], ...]`` sorted by ``min_headcount`` (a bracket runs to the next).
    """

    __tablename__ = "fee_rules"
    __table_args__ = (
        UniqueConstraint("schedule_id", "membership_type", "size_category"),
        check_in("mode", FeeMode, "mode"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("fee_schedules.id", ondelete="CASCADE"))
    membership_type: Mapped[str] = mapped_column(String(60))
    size_category: Mapped[str | None] = mapped_column(String(3))
    mode: Mapped[str] = mapped_column(String(20))
    amount_eur: Mapped[Decimal | None] = mapped_column(Money)
    brackets: Mapped[list[list[Any]] | None] = mapped_column(JSON)
    schedule: Mapped[FeeSchedule] = relationship(back_populates="rules")


class FeeCall(Base):
    """A fee call (appel de cotisation) to one membership for one year."""

    __tablename__ = "fee_calls"
    __table_args__ = (
        UniqueConstraint("membership_id", "year"),
        CheckConstraint("status IN ('due', 'paid', 'waived')", name="status"),
        Index(None, "cluster_id", "status", "due_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    amount_eur: Mapped[Decimal] = mapped_column(Money)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=FeeStatus.DUE.value)
    waived_reason: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    organisation: Mapped[Organisation] = relationship()
    payments: Mapped[list[Payment]] = relationship(
        back_populates="fee_call", cascade="all, delete-orphan", order_by="Payment.id"
    )


class Payment(Base):
    """A payment received against a fee call."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount_eur > 0", name="amount"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    fee_call_id: Mapped[int] = mapped_column(
        ForeignKey("fee_calls.id", ondelete="CASCADE"), index=True
    )
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    paid_on: Mapped[dt.date] = mapped_column(Date)
    amount_eur: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str | None] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(120))
    fee_call: Mapped[FeeCall] = relationship(back_populates="payments")


class User(Base):
    """A person who acts on the platform with one role (and its scope)."""

    __tablename__ = "users"
    __table_args__ = (
        check_in("role", Role, "role"),
        check_in("language", present.Language, "language"),
        CheckConstraint("role <> 'funder' OR funder_id IS NOT NULL", name="funder_scope"),
        CheckConstraint("role <> 'member' OR organisation_id IS NOT NULL", name="member_scope"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    funder_id: Mapped[int | None] = mapped_column(ForeignKey("funders.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    #: The language of the mail the user receives (and of its pages once it chooses one).
    language: Mapped[str] = mapped_column(
        String(2), default=present.DEFAULT, server_default=present.DEFAULT
    )
    managed: Mapped[list[ClusterManager]] = relationship(cascade="all, delete-orphan")


class ClusterManager(Base):
    """A manager user's assignment to a cluster organisation it manages."""

    __tablename__ = "cluster_managers"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True
    )


class ApiToken(Base):
    """An API token; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    user: Mapped[User] = relationship()


class AuditEntry(Base):
    """One write: who, when, which entity, state before and after (JSON)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "entity", "entity_id"), Index(None, "cluster_id", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(Integer)  # no FK: the log outlives users
    action: Mapped[str] = mapped_column(String(10))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(60))
    cluster_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class RegistryState(Base):
    """One row: the registry's generation, bumped in the same transaction as every write.

    Readers compare it with the generation a cached answer was built at (public directory
    pages, resolved API tokens): equal means nothing was written since, so the cached answer
    is still the database's. See :mod:`grappe.registry.generation`.
    """

    __tablename__ = "registry_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger, nullable=False)
