"""Persistent model of B2B meetings: the event, its participants, their wishes and the schedule.

A B2B event of a cluster runs ``slots`` consecutive slots of ``slot_minutes`` from
``starts_at``, on ``tables`` tables, each participant meeting at most ``max_meetings``
others. Members of the organising cluster (and of the guest clusters it names) register
their own organisation; the organiser registers any organisation it reads. A wish asks to
meet another participant with a priority; it counts in the schedule once accepted: by the
addressee, automatically when both sides wish each other, or on entry when the organiser
records it. The schedule (one row per meeting) is replaced whole at each run.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from grappe.registry.models import utcnow
from grappe.storage.sql import Base, UtcDateTime, check_in


class WishStatus(StrEnum):
    """Where a wish stands: waiting for the addressee, accepted (counts), refused."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"


class ScheduleMethod(StrEnum):
    """How a stored schedule was computed."""

    OPTIMAL = "optimal"  # HiGHS integer programme
    GREEDY = "greedy"


class B2BEvent(Base):
    """A B2B meeting event of a cluster (optionally part of one of its collective events)."""

    __tablename__ = "b2b_events"
    __table_args__ = (
        CheckConstraint("slots >= 1", name="slots"),
        CheckConstraint("tables >= 1", name="tables"),
        CheckConstraint("max_meetings >= 1", name="max_meetings"),
        CheckConstraint("slot_minutes >= 5", name="slot_minutes"),
        check_in("method", ScheduleMethod, "method"),
        Index(None, "cluster_id", "starts_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(300))
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    slot_minutes: Mapped[int] = mapped_column(Integer)
    slots: Mapped[int] = mapped_column(Integer)
    tables: Mapped[int] = mapped_column(Integer)
    max_meetings: Mapped[int] = mapped_column(Integer)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    # the stored schedule's quality, None until the first run
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    method: Mapped[str | None] = mapped_column(String(10))
    satisfied: Mapped[int | None] = mapped_column(Integer)
    greedy_satisfied: Mapped[int | None] = mapped_column(Integer)
    bound: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    def slot_start(self, slot: int) -> dt.datetime:
        """When slot ``slot`` (from 1) starts."""
        return self.starts_at + dt.timedelta(minutes=self.slot_minutes * (slot - 1))

    def slot_end(self, slot: int) -> dt.datetime:
        """When slot ``slot`` ends."""
        return self.slot_start(slot) + dt.timedelta(minutes=self.slot_minutes)


class B2BGuestCluster(Base):
    """A cluster whose current members may register to another cluster's B2B event."""

    __tablename__ = "b2b_guest_clusters"
    __table_args__ = (Index(None, "cluster_id"),)
    b2b_event_id: Mapped[int] = mapped_column(
        ForeignKey("b2b_events.id", ondelete="CASCADE"), primary_key=True
    )
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True)


class B2BParticipant(Base):
    """An organisation registered to a B2B event, with the slots it cannot attend
    (slot numbers from 1, space-separated, in increasing order)."""

    __tablename__ = "b2b_participants"
    __table_args__ = (UniqueConstraint("b2b_event_id", "organisation_id"), Index(None, "organisation_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    b2b_event_id: Mapped[int] = mapped_column(ForeignKey("b2b_events.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    unavailable: Mapped[str] = mapped_column(String(1000), default="")
    registered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)

    @property
    def unavailable_slots(self) -> list[int]:
        return [int(s) for s in self.unavailable.split()]


class B2BWish(Base):
    """A participant's wish to meet another one, with its priority (higher is more wanted)."""

    __tablename__ = "b2b_wishes"
    __table_args__ = (
        UniqueConstraint("b2b_event_id", "from_id", "to_id"),
        CheckConstraint("from_id <> to_id", name="distinct"),
        CheckConstraint("priority >= 1 AND priority <= 10", name="priority"),
        check_in("status", WishStatus, "status"),
        Index(None, "to_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    b2b_event_id: Mapped[int] = mapped_column(ForeignKey("b2b_events.id", ondelete="CASCADE"))
    from_id: Mapped[int] = mapped_column(ForeignKey("b2b_participants.id", ondelete="CASCADE"))
    to_id: Mapped[int] = mapped_column(ForeignKey("b2b_participants.id", ondelete="CASCADE"))
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default=WishStatus.PENDING.value)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class B2BMeeting(Base):
    """One meeting of a stored schedule: a slot and a table (from 1) and its two participants."""

    __tablename__ = "b2b_meetings"
    __table_args__ = (
        UniqueConstraint("b2b_event_id", "slot", "table_number"),
        UniqueConstraint("b2b_event_id", "participant_a_id", "participant_b_id"),
        CheckConstraint("participant_a_id <> participant_b_id", name="distinct"),
        CheckConstraint("slot >= 1 AND table_number >= 1", name="place"),
        Index(None, "participant_a_id"),
        Index(None, "participant_b_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    b2b_event_id: Mapped[int] = mapped_column(ForeignKey("b2b_events.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    table_number: Mapped[int] = mapped_column(Integer)
    participant_a_id: Mapped[int] = mapped_column(ForeignKey("b2b_participants.id", ondelete="CASCADE"))
    participant_b_id: Mapped[int] = mapped_column(ForeignKey("b2b_participants.id", ondelete="CASCADE"))
