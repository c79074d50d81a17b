"""Persistent model of evaluation: objectives contracts, their indicators and targets, declared values,
management self-assessments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grappe.registry.models import Money, utcnow
from grappe.storage.sql import Base, UtcDateTime, check_in

#: Indicator values: counts, euros, shares and ratios alike (4 decimals, up to 10^14).
Value = Numeric(18, 4)


class Area(StrEnum):
    """The six areas of the management self-assessment (inspired by ESCA's benchmarking)."""

    STRUCTURE = "structure"
    GOVERNANCE = "governance"
    FINANCING = "financing"
    SERVICES = "services"
    INTERACTION = "interaction"
    ACHIEVEMENTS = "achievements"


class ObjectivesContract(Base):
    """An objectives contract between a funder and a funded cluster organisation over years.

    ``share_at_stake`` is the part of ``amount_eur`` paid on results (0 to 1); ``call_id``
    names the call for projects that selected the cluster, when there was one (no foreign key
    yet: calls are stored by another domain).
    """

    __tablename__ = "objectives_contracts"
    __table_args__ = (
        CheckConstraint("end_year >= start_year", name="period"),
        CheckConstraint("share_at_stake >= 0 AND share_at_stake <= 1", name="share"),
        CheckConstraint("amount_eur >= 0", name="amount"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    funder_id: Mapped[int] = mapped_column(ForeignKey("funders.id"), index=True)
    call_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    start_year: Mapped[int] = mapped_column(SmallInteger)
    end_year: Mapped[int] = mapped_column(SmallInteger)
    amount_eur: Mapped[Decimal] = mapped_column(Money)
    share_at_stake: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    indicators: Mapped[list[ContractIndicator]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="ContractIndicator.id"
    )


class ContractIndicator(Base):
    """One indicator of a contract: its baseline, its weight in the results-based share."""

    __tablename__ = "contract_indicators"
    __table_args__ = (
        UniqueConstraint("contract_id", "indicator"),
        CheckConstraint("weight > 0", name="weight"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("objectives_contracts.id", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(40))
    baseline: Mapped[Decimal | None] = mapped_column(Value)
    weight: Mapped[Decimal] = mapped_column(Numeric(9, 4))
    contract: Mapped[ObjectivesContract] = relationship(back_populates="indicators")
    targets: Mapped[list[ContractTarget]] = relationship(
        back_populates="indicator_row", cascade="all, delete-orphan", order_by="ContractTarget.year"
    )


class ContractTarget(Base):
    """The target of a contract's indicator for one year of the period."""

    __tablename__ = "contract_targets"
    __table_args__ = (UniqueConstraint("contract_indicator_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_indicator_id: Mapped[int] = mapped_column(
        ForeignKey("contract_indicators.id", ondelete="CASCADE")
    )
    year: Mapped[int] = mapped_column(SmallInteger)
    target: Mapped[Decimal] = mapped_column(Value)
    indicator_row: Mapped[ContractIndicator] = relationship(back_populates="targets")


class DeclaredValue(Base):
    """A yearly value a cluster declares for an indicator grappe cannot compute, with its evidence.

    A declared value replaces the computed one for that cluster, indicator and year. The
    evidence file is stored under ``GRAPPE_HOME/evidence`` by its SHA-256 (see
    :mod:`grappe.evaluation.evidence`); ``evidence_name`` is the name the user gave it.
    """

    __tablename__ = "evaluation_declared_values"
    __table_args__ = (UniqueConstraint("cluster_id", "indicator", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    indicator: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(SmallInteger)
    value: Mapped[Decimal] = mapped_column(Value)
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    declared_by: Mapped[str] = mapped_column(String(120))
    declared_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SelfAssessment(Base):
    """The management's own mark (1 to 5) of one area for one year, with evidence."""

    __tablename__ = "evaluation_self_assessments"
    __table_args__ = (
        UniqueConstraint("cluster_id", "year", "area"),
        check_in("area", Area, "area"),
        CheckConstraint("score >= 1 AND score <= 5", name="score"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    area: Mapped[str] = mapped_column(String(20))
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(String(2000))
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    declared_by: Mapped[str] = mapped_column(String(120))
    declared_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
