"""Persistent model of the partners domain: profiles, interclustering opt-ins, calls for partners."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from grappe.registry.models import utcnow
from grappe.storage.sql import Base, UtcDateTime, check_in


class Visibility(StrEnum):
    """Who reads one field of a profile (each level includes the readers of the ones after it).

    ``public``: beyond the organisation's clusters, to the clusters they share their members'
    profiles with (interclustering) and to their funders; ``cluster``: the members of the
    organisation's clusters; ``manager``: the managers of its clusters only. The organisation's
    own users, its clusters' managers and the platform administrator read every field.
    """

    PUBLIC = "public"
    CLUSTER = "cluster"
    MANAGER = "manager"


#: The free-text fields of a profile, in the order pages show them.
PROFILE_FIELDS: Final = (
    "capabilities",
    "products",
    "technologies",
    "equipment",
    "needs",
    "markets",
    "keywords",
    "tags",
)


class ProfileTag(StrEnum):
    """The controlled tags of a profile: what an organisation offers or seeks, in one word."""

    RESEARCH = "research"  # R&D
    DESIGN = "design"  # conception, bureau d'études
    MACHINING = "machining"  # usinage, décolletage
    MANUFACTURING = "manufacturing"  # fabrication, production
    ASSEMBLY = "assembly"  # assemblage, intégration
    TESTING = "testing"  # essais, mesures, contrôle
    MATERIALS = "materials"  # matériaux
    SOFTWARE = "software"  # logiciel, numérique
    AUTOMATION = "automation"  # automatisme, robotique
    ENERGY = "energy"  # énergie
    ENVIRONMENT = "environment"  # environnement, recyclage
    LOGISTICS = "logistics"  # logistique
    MAINTENANCE = "maintenance"
    TRAINING = "training"  # formation
    CONSULTING = "consulting"  # conseil
    EXPORT = "export"  # export, international
    DISTRIBUTION = "distribution"  # distribution, négoce
    SUBCONTRACTING = "subcontracting"  # sous-traitance


#: French words of the tags: what pages show and what the search indexes.
TAG_LABELS: Final[dict[ProfileTag, str]] = {
    ProfileTag.RESEARCH: "recherche et développement",
    ProfileTag.DESIGN: "conception, bureau d'études",
    ProfileTag.MACHINING: "usinage, décolletage",
    ProfileTag.MANUFACTURING: "fabrication, production",
    ProfileTag.ASSEMBLY: "assemblage, intégration",
    ProfileTag.TESTING: "essais, mesures, contrôle",
    ProfileTag.MATERIALS: "matériaux",
    ProfileTag.SOFTWARE: "logiciel, numérique",
    ProfileTag.AUTOMATION: "automatisme, robotique",
    ProfileTag.ENERGY: "énergie",
    ProfileTag.ENVIRONMENT: "environnement, recyclage",
    ProfileTag.LOGISTICS: "logistique",
    ProfileTag.MAINTENANCE: "maintenance",
    ProfileTag.TRAINING: "formation",
    ProfileTag.CONSULTING: "conseil",
    ProfileTag.EXPORT: "export, international",
    ProfileTag.DISTRIBUTION: "distribution, négoce",
    ProfileTag.SUBCONTRACTING: "sous-traitance",
}

#: Length of a profile's free-text field (the schemas bound it too).
TEXT_MAX: Final = 4000


class PartnerProfile(Base):
    """What an organisation offers and seeks, field by field with its visibility.

    ``visibility`` maps each field of :data:`PROFILE_FIELDS` to a :class:`Visibility` value
    (a missing field: ``cluster``). Without ``consent`` the profile is read by its own users,
    its clusters' managers and the administrator only. ``fabric_*`` keep what the productive
    fabric said of the organisation at ``fabric_checked_on`` (blank values of the registry).
    """

    __tablename__ = "partner_profiles"
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    capabilities: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    products: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    technologies: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    equipment: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    needs: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    markets: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    keywords: Mapped[str | None] = mapped_column(String(TEXT_MAX))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    visibility: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_on: Mapped[dt.date | None] = mapped_column(Date)
    fabric_naf: Mapped[str | None] = mapped_column(String(10))
    fabric_commune: Mapped[str | None] = mapped_column(String(10))
    fabric_size_band: Mapped[str | None] = mapped_column(String(2))
    fabric_checked_on: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ClusterSharing(Base):
    """A cluster's interclustering opt-in: it shares its members' public profiles and calls for
    partners with every cluster (``all_clusters``) or with the ones named in :class:`SharingPartner`."""

    __tablename__ = "cluster_sharings"
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True)
    all_clusters: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class SharingPartner(Base):
    """A cluster another one shares with by name."""

    __tablename__ = "sharing_partners"
    __table_args__ = (
        CheckConstraint("cluster_id <> partner_id", name="other"),
        Index(None, "partner_id"),
    )
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("cluster_sharings.cluster_id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True)


class PostingStatus(StrEnum):
    """Where a call for partners stands."""

    OPEN = "open"
    CLOSED = "closed"


class Posting(Base):
    """A call for partners (recherche de partenaires): an organisation seeks partners, in one of
    its clusters, until ``deadline`` (the last day interest is taken)."""

    __tablename__ = "partner_postings"
    __table_args__ = (
        check_in("status", PostingStatus, "status"),
        Index(None, "cluster_id", "status", "deadline"),
        Index(None, "organisation_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=PostingStatus.OPEN.value)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class PostingInterest(Base):
    """An organisation's interest in a call for partners, with its message."""

    __tablename__ = "posting_interests"
    __table_args__ = (UniqueConstraint("posting_id", "organisation_id"), Index(None, "organisation_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("partner_postings.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    message: Mapped[str | None] = mapped_column(String(2000))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
