"""Persistent model of calls for projects: calls, applications, reviews and the committee's decisions.

A funder's :class:`Call` holds its budget, dates, eligibility rules (the declarative language of
:mod:`grappe.calls.eligibility`, stored as JSON), scoring grid (:class:`CallCriterion`) and the
document types every application must attach. An :class:`Application` is made by a cluster
organisation (``cluster_id``) or by a consortium whose coordinator is a firm
(``organisation_id``); its budget table has one :class:`BudgetLine` per partner. Reviewers
(users of role ``reviewer``) have a :class:`ReviewerProfile` (expertise, load cap); each
:class:`ReviewAssignment` gets one :class:`ReviewScore` per criterion.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grappe.registry.models import Money, utcnow
from grappe.storage.sql import Base, UtcDateTime, check_in


class ApplicantKind(StrEnum):
    """Who may apply to a call."""

    CLUSTER = "cluster"  # a cluster organisation, through its manager
    CONSORTIUM = "consortium"  # firms together, through the coordinator firm's member user


class ApplicationStatus(StrEnum):
    """Steps of an application."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    FUNDED = "funded"
    REJECTED = "rejected"


class Call(Base):
    """A call for projects of a funder."""

    __tablename__ = "calls"
    __table_args__ = (
        check_in("applicant_kind", ApplicantKind, "applicant_kind"),
        CheckConstraint("budget_eur > 0", name="budget"),
        CheckConstraint("max_request_eur IS NULL OR max_request_eur > 0", name="max_request"),
        CheckConstraint("reviewers_per_application BETWEEN 1 AND 10", name="reviewers"),
        CheckConstraint("scale_max BETWEEN 1 AND 100", name="scale"),
        CheckConstraint("disagreement_threshold >= 0", name="disagreement"),
        Index(None, "funder_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    funder_id: Mapped[int] = mapped_column(ForeignKey("funders.id"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    budget_eur: Mapped[Decimal] = mapped_column(Money)
    max_request_eur: Mapped[Decimal | None] = mapped_column(Money)
    opens_on: Mapped[dt.date] = mapped_column(Date)
    closes_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    applicant_kind: Mapped[str] = mapped_column(String(20))
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    required_documents: Mapped[list[str]] = mapped_column(JSON)
    reviewers_per_application: Mapped[int] = mapped_column(SmallInteger)
    scale_max: Mapped[int] = mapped_column(SmallInteger)  # marks run from 0 to scale_max
    disagreement_threshold: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    criteria: Mapped[list[CallCriterion]] = relationship(
        cascade="all, delete-orphan", order_by="CallCriterion.position", lazy="selectin"
    )


class CallCriterion(Base):
    """One criterion of a call's scoring grid; the weights of a grid sum to 1."""

    __tablename__ = "call_criteria"
    __table_args__ = (
        UniqueConstraint("call_id", "name"),
        CheckConstraint("weight > 0 AND weight <= 1", name="weight"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(200))
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    guidance: Mapped[str | None] = mapped_column(Text)


class Application(Base):
    """An application to a call, by a cluster organisation or a consortium of firms."""

    __tablename__ = "call_applications"
    __table_args__ = (
        check_in("status", ApplicationStatus, "status"),
        CheckConstraint("(cluster_id IS NULL) <> (organisation_id IS NULL)", name="applicant"),
        CheckConstraint("funded_eur IS NULL OR funded_eur >= 0", name="funded"),
        Index(None, "call_id", "status"),
        Index(None, "cluster_id"),
        Index(None, "organisation_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    territory: Mapped[str | None] = mapped_column(String(3))  # région code, for quotas
    theme: Mapped[str | None] = mapped_column(String(120))
    tags: Mapped[list[str]] = mapped_column(JSON)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.DRAFT.value)
    eligible: Mapped[bool | None] = mapped_column(Boolean)
    eligibility: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    funded_eur: Mapped[Decimal | None] = mapped_column(Money)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    call: Mapped[Call] = relationship()
    budget: Mapped[list[BudgetLine]] = relationship(
        cascade="all, delete-orphan", order_by="BudgetLine.id", lazy="selectin"
    )
    documents: Mapped[list[ApplicationDocument]] = relationship(
        cascade="all, delete-orphan", order_by="ApplicationDocument.id", lazy="selectin"
    )


class BudgetLine(Base):
    """What one partner of an application asks for (the budget table by partner)."""

    __tablename__ = "call_budget_lines"
    __table_args__ = (
        UniqueConstraint("application_id", "organisation_id"),
        CheckConstraint("amount_eur >= 0", name="amount"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("call_applications.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    amount_eur: Mapped[Decimal] = mapped_column(Money)
    purpose: Mapped[str | None] = mapped_column(String(300))


class ApplicationDocument(Base):
    """An attachment: its type, checked size and media type, and the SHA-256 of its content.

    The bytes live under ``GRAPPE_HOME`` at a path derived from the hash alone
    (:mod:`grappe.calls.documents`), never from a name a user gave.
    """

    __tablename__ = "call_documents"
    __table_args__ = (
        UniqueConstraint("application_id", "doc_type"),
        CheckConstraint("size_bytes > 0", name="size"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("call_applications.id", ondelete="CASCADE"))
    doc_type: Mapped[str] = mapped_column(String(60))
    filename: Mapped[str] = mapped_column(String(200))  # shown only, never a path
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ReviewerProfile(Base):
    """A reviewer of the pool: a user of role ``reviewer``, its expertise and load cap."""

    __tablename__ = "reviewers"
    __table_args__ = (CheckConstraint("load_cap BETWEEN 0 AND 1000", name="load_cap"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    load_cap: Mapped[int] = mapped_column(SmallInteger)
    tags: Mapped[list[str]] = mapped_column(JSON)  # sectors (NAF codes, themes)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DeclaredConflict(Base):
    """A conflict of interest a reviewer (or the funder) declared on an application."""

    __tablename__ = "review_conflicts"
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id", ondelete="CASCADE"), primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("call_applications.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(String(300))
    declared_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ReviewAssignment(Base):
    """A reviewer assigned to an application, with the affinity the assignment used."""

    __tablename__ = "review_assignments"
    __table_args__ = (UniqueConstraint("application_id", "reviewer_id"), Index(None, "reviewer_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("call_applications.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id", ondelete="CASCADE"))
    affinity: Mapped[float] = mapped_column(Float)
    assigned_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    scores: Mapped[list[ReviewScore]] = relationship(
        cascade="all, delete-orphan", order_by="ReviewScore.criterion_id", lazy="selectin"
    )


class ReviewScore(Base):
    """A reviewer's mark on one criterion, with its comment."""

    __tablename__ = "review_scores"
    __table_args__ = (CheckConstraint("value >= 0", name="value"),)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("review_assignments.id", ondelete="CASCADE"), primary_key=True
    )
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("call_criteria.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    comment: Mapped[str | None] = mapped_column(Text)
