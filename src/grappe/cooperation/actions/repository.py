"""All SQL of collective actions: events and their registrations, shared equipment and its bookings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select

from grappe.cooperation.actions.models import (
    Equipment,
    EquipmentBooking,
    Event,
    EventRegistration,
    GroupPurchase,
    PositionShare,
    PurchaseNeed,
    SharedPosition,
)
from grappe.kit.repository import Repository, check_page
from grappe.registry.models import Organisation


class EventRepository(Repository[Event]):
    """Events of the clusters and their registrations."""

    model = Event
    what = "événement"

    def of_cluster(self, cluster_id: int, *, public_only: bool) -> Select[Any]:
        """A cluster's events, the soonest first; ``public_only`` for what its members see."""
        query = select(Event).where(Event.cluster_id == cluster_id)
        if public_only:
            query = query.where(Event.public.is_(True))
        return query.order_by(Event.starts_at, Event.id)

    def seats_taken(self, event_ids: Sequence[int]) -> dict[int, int]:
        """Seats registered per event (absent: none)."""
        rows = self.session.execute(
            select(EventRegistration.event_id, func.sum(EventRegistration.seats))
            .where(EventRegistration.event_id.in_(event_ids))
            .group_by(EventRegistration.event_id)
        )
        return {event_id: int(seats) for event_id, seats in rows}

    def registration(self, event_id: int, organisation_id: int) -> EventRegistration | None:
        """An organisation's registration to an event."""
        return self.session.scalar(
            select(EventRegistration).where(
                EventRegistration.event_id == event_id, EventRegistration.organisation_id == organisation_id
            )
        )

    def registrations(self, event_id: int, organisation_id: int | None) -> Select[EventRegistration, str]:
        """An event's registrations (one organisation's when given), with the organisation's name."""
        query = (
            select(EventRegistration, Organisation.name)
            .join(Organisation, Organisation.id == EventRegistration.organisation_id)
            .where(EventRegistration.event_id == event_id)
        )
        if organisation_id is not None:
            query = query.where(EventRegistration.organisation_id == organisation_id)
        return query.order_by(EventRegistration.id)

    def registration_page(
        self, event_id: int, organisation_id: int | None, limit: int, offset: int
    ) -> tuple[int, list[tuple[EventRegistration, str]]]:
        """How many registrations :meth:`registrations` selects, and one page of them."""
        check_page(limit, offset)
        query = self.registrations(event_id, organisation_id)
        total = self.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = self.session.execute(query.limit(limit).offset(offset))
        return total or 0, [(registration, name) for registration, name in rows]


class EquipmentRepository(Repository[Equipment]):
    """Shared equipment of the clusters and its bookings."""

    model = Equipment
    what = "équipement"

    def of_cluster(self, cluster_id: int) -> Select[Any]:
        """A cluster's equipment, by name."""
        return (
            select(Equipment).where(Equipment.cluster_id == cluster_id).order_by(Equipment.name, Equipment.id)
        )

    def _during(
        self, equipment_id: int, start: dt.datetime, end: dt.datetime
    ) -> Select[EquipmentBooking, str]:
        """Bookings of an equipment that meet ``[start, end)`` (a booking ending when another
        starts does not meet it), with the organisation's name, in time order."""
        return (
            select(EquipmentBooking, Organisation.name)
            .join(Organisation, Organisation.id == EquipmentBooking.organisation_id)
            .where(
                EquipmentBooking.equipment_id == equipment_id,
                EquipmentBooking.starts_at < end,
                EquipmentBooking.ends_at > start,
            )
            .order_by(EquipmentBooking.starts_at, EquipmentBooking.id)
        )

    def first_overlap(
        self, equipment_id: int, start: dt.datetime, end: dt.datetime
    ) -> EquipmentBooking | None:
        """The earliest booking of an equipment that overlaps ``[start, end)``, if any."""
        row = self.session.execute(self._during(equipment_id, start, end).limit(1)).first()
        return None if row is None else row[0]

    def bookings(
        self, equipment_id: int, start: dt.datetime, end: dt.datetime, organisation_id: int | None
    ) -> list[tuple[EquipmentBooking, str]]:
        """Bookings meeting a period (one organisation's when given) with the organisation's name."""
        query = self._during(equipment_id, start, end)
        if organisation_id is not None:
            query = query.where(EquipmentBooking.organisation_id == organisation_id)
        return [(booking, name) for booking, name in self.session.execute(query)]

    def add_booking(self, booking: EquipmentBooking) -> EquipmentBooking:
        self.session.add(booking)
        self.flush()
        return booking


class PositionRepository(Repository[SharedPosition]):
    """Positions shared by members and their shares."""

    model = SharedPosition
    what = "poste partagé"

    def of_cluster(self, cluster_id: int, organisation_id: int | None) -> Select[Any]:
        """A cluster's positions (those an organisation has a share of, when given), by start."""
        query = select(SharedPosition).where(SharedPosition.cluster_id == cluster_id)
        if organisation_id is not None:
            query = query.where(
                SharedPosition.id.in_(
                    select(PositionShare.position_id).where(PositionShare.organisation_id == organisation_id)
                )
            )
        return query.order_by(SharedPosition.start, SharedPosition.id)

    def shares(self, position_ids: Sequence[int]) -> dict[int, list[tuple[PositionShare, str]]]:
        """The shares of positions with the organisation's name, by position."""
        found: dict[int, list[tuple[PositionShare, str]]] = {i: [] for i in position_ids}
        rows = self.session.execute(
            select(PositionShare, Organisation.name)
            .join(Organisation, Organisation.id == PositionShare.organisation_id)
            .where(PositionShare.position_id.in_(position_ids))
            .order_by(PositionShare.position_id, PositionShare.organisation_id)
        )
        for share, name in rows:
            found[share.position_id].append((share, name))
        return found


class PurchaseRepository(Repository[GroupPurchase]):
    """Group purchases and the needs members state."""

    model = GroupPurchase
    what = "achat groupé"

    def of_cluster(self, cluster_id: int) -> Select[Any]:
        """A cluster's group purchases, the latest closing first."""
        return (
            select(GroupPurchase)
            .where(GroupPurchase.cluster_id == cluster_id)
            .order_by(GroupPurchase.closes_on.desc(), GroupPurchase.id)
        )

    def need(self, purchase_id: int, organisation_id: int) -> PurchaseNeed | None:
        """An organisation's need in a purchase."""
        return self.session.get(PurchaseNeed, (purchase_id, organisation_id))

    def needs(self, purchase_ids: Sequence[int]) -> dict[int, list[tuple[PurchaseNeed, str]]]:
        """The needs of purchases with the organisation's name, by purchase."""
        found: dict[int, list[tuple[PurchaseNeed, str]]] = {i: [] for i in purchase_ids}
        rows = self.session.execute(
            select(PurchaseNeed, Organisation.name)
            .join(Organisation, Organisation.id == PurchaseNeed.organisation_id)
            .where(PurchaseNeed.purchase_id.in_(purchase_ids))
            .order_by(PurchaseNeed.purchase_id, PurchaseNeed.organisation_id)
        )
        for need, name in rows:
            found[need.purchase_id].append((need, name))
        return found
