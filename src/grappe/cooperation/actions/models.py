"""Persistent model of collective actions: events, shared equipment, shared positions, group purchases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from grappe.registry.models import Money, utcnow
from grappe.storage.sql import Base, UtcDateTime, check_in


class EventKind(StrEnum):
    """Kinds of collective event (seed 004)."""

    BREAKFAST = "breakfast"  # petit déjeuner thématique
    TRAINING = "training"  # formation
    TRADE_SHOW = "trade_show"  # salon, stand partagé
    BUSINESS_MISSION = "business_mission"  # mission d'affaires
    COMPANY_VISIT = "company_visit"  # visite d'entreprise
    CONFERENCE = "conference"


class Event(Base):
    """A collective event of a cluster; ``public`` events are shown to the cluster's members,
    who register themselves; the others are seen by the managers only (drafts, invitations)."""

    __tablename__ = "events"
    __table_args__ = (
        check_in("kind", EventKind, "kind"),
        CheckConstraint("ends_at > starts_at", name="period"),
        CheckConstraint("capacity IS NULL OR capacity >= 1", name="capacity"),
        CheckConstraint("price_eur >= 0", name="price"),
        Index(None, "cluster_id", "starts_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    place: Mapped[str | None] = mapped_column(String(300))
    capacity: Mapped[int | None] = mapped_column(Integer)  # seats; None: unlimited
    price_eur: Mapped[Decimal] = mapped_column(Money)  # per seat
    shared_stand: Mapped[bool] = mapped_column(Boolean, default=False)  # a trade show's common stand
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class EventRegistration(Base):
    """An organisation's registration to an event: its seats and, after the event, attendance."""

    __tablename__ = "event_registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "organisation_id"),
        CheckConstraint("seats >= 1", name="seats"),
        Index(None, "organisation_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    seats: Mapped[int] = mapped_column(Integer, default=1)
    attended: Mapped[bool | None] = mapped_column(Boolean)  # None until the manager records it
    registered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Equipment(Base):
    """A piece of equipment a cluster shares among its members (a clean room, a test bench)."""

    __tablename__ = "equipment"
    __table_args__ = (CheckConstraint("hourly_rate_eur >= 0", name="rate"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    hourly_rate_eur: Mapped[Decimal] = mapped_column(Money)
    description: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class EquipmentBooking(Base):
    """A member's booking of a shared equipment over ``[starts_at, ends_at)``; bookings of one
    equipment never overlap (the service checks it under a lock of the equipment's row)."""

    __tablename__ = "equipment_bookings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="period"),
        Index(None, "equipment_id", "starts_at"),
        Index(None, "organisation_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SharedPosition(Base):
    """A job shared by several members (joint hiring): its yearly cost is split by their shares."""

    __tablename__ = "shared_positions"
    __table_args__ = (
        CheckConstraint("yearly_cost_eur >= 0", name="cost"),
        CheckConstraint("end_date IS NULL OR end_date >= start", name="period"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    start: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    yearly_cost_eur: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PositionShare(Base):
    """A member's share of a shared position's time (and cost), in percent; they sum to 100."""

    __tablename__ = "position_shares"
    __table_args__ = (
        CheckConstraint("percent > 0 AND percent <= 100", name="percent"),
        Index(None, "organisation_id"),
    )
    position_id: Mapped[int] = mapped_column(
        ForeignKey("shared_positions.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))


class GroupPurchase(Base):
    """A group purchase: members state their needs until ``closes_on``; the cluster then buys the
    whole volume from a supplier at a negotiated unit price, below the reference one."""

    __tablename__ = "group_purchases"
    __table_args__ = (
        CheckConstraint("reference_price_eur >= 0", name="reference"),
        CheckConstraint("negotiated_price_eur IS NULL OR negotiated_price_eur >= 0", name="negotiated"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(30))  # what a quantity counts: kWh, tonne, licence
    reference_price_eur: Mapped[Decimal] = mapped_column(Money)  # per unit, bought alone
    closes_on: Mapped[dt.date] = mapped_column(Date)
    supplier: Mapped[str | None] = mapped_column(String(200))
    negotiated_price_eur: Mapped[Decimal | None] = mapped_column(Money)  # per unit, once concluded
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PurchaseNeed(Base):
    """A member's need in a group purchase, in the purchase's unit."""

    __tablename__ = "purchase_needs"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity"), Index(None, "organisation_id"))
    purchase_id: Mapped[int] = mapped_column(
        ForeignKey("group_purchases.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class ServiceOffer(Base):
    """A service a cluster sells to its members (a diagnosis, a training day, a watch report),
    at a unit price; an offer withdrawn (``active`` false) keeps its past sales."""

    __tablename__ = "service_offers"
    __table_args__ = (CheckConstraint("unit_price_eur >= 0", name="price"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(30))  # what a quantity counts: jour, diagnostic, rapport
    unit_price_eur: Mapped[Decimal] = mapped_column(Money)  # excluding VAT
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ServiceSale(Base):
    """A sale of a service offer to a member organisation: its date, quantity and amount.

    The amount is the quantity at the offer's price unless the manager gives another one (a
    discount); the yearly sum of a cluster's sales is its ``services`` funding line in the
    registry (see :mod:`grappe.cooperation.actions.service`).
    """

    __tablename__ = "service_sales"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("amount_eur >= 0", name="amount"),
        Index(None, "offer_id", "sold_on"),
        Index(None, "organisation_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("service_offers.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    sold_on: Mapped[dt.date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    amount_eur: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
