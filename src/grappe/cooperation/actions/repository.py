"""All SQL of collective actions: events and their registrations, shared equipment and its bookings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Select, case, cast, distinct, extract, func, select
from sqlalchemy.orm import Session

from grappe.cooperation.actions.models import (
    Equipment,
    EquipmentBooking,
    Event,
    EventRegistration,
    GroupPurchase,
    PositionShare,
    PurchaseNeed,
    ServiceOffer,
    ServiceSale,
    SharedPosition,
)
from grappe.kit.repository import Repository, check_page, not_found
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


class ServiceRepository(Repository[ServiceOffer]):
    """Service offers of the clusters and their sales to members."""

    model = ServiceOffer
    what = "offre de service"

    def of_cluster(self, cluster_id: int, *, active_only: bool) -> Select[Any]:
        """A cluster's offers by name; ``active_only`` for what its members see."""
        query = select(ServiceOffer).where(ServiceOffer.cluster_id == cluster_id)
        if active_only:
            query = query.where(ServiceOffer.active.is_(True))
        return query.order_by(ServiceOffer.name, ServiceOffer.id)

    def offer_sales(self, offer_ids: Sequence[int]) -> dict[int, tuple[int, Decimal]]:
        """Sales and revenue per offer (absent: none)."""
        rows = self.session.execute(
            select(ServiceSale.offer_id, func.count(), func.sum(ServiceSale.amount_eur))
            .where(ServiceSale.offer_id.in_(offer_ids))
            .group_by(ServiceSale.offer_id)
        )
        return {offer_id: (int(n), Decimal(total or 0)) for offer_id, n, total in rows}

    def add_sale(self, sale: ServiceSale) -> ServiceSale:
        """Stage a sale."""
        self.session.add(sale)
        return sale

    def sale(self, sale_id: int) -> ServiceSale:
        """A sale, or NotFoundError."""
        found = self.session.get(ServiceSale, sale_id)
        if found is None:
            raise not_found("vente", sale_id)
        return found

    def organisation_name(self, organisation_id: int) -> str:
        """An organisation's name ("" when it does not exist)."""
        return self.session.scalar(select(Organisation.name).where(Organisation.id == organisation_id)) or ""

    def delete_sale(self, sale: ServiceSale) -> None:
        """Remove a sale (a sale recorded by mistake)."""
        self.session.delete(sale)

    def sales(
        self, cluster_id: int, *, organisation_id: int | None, year: int | None, limit: int, offset: int
    ) -> tuple[int, list[tuple[ServiceSale, str, str]]]:
        """A page of a cluster's sales, the latest first, with the offer's and buyer's names."""
        check_page(limit, offset)
        query = (
            select(ServiceSale, ServiceOffer.name, Organisation.name)
            .join(ServiceOffer, ServiceOffer.id == ServiceSale.offer_id)
            .join(Organisation, Organisation.id == ServiceSale.organisation_id)
            .where(ServiceOffer.cluster_id == cluster_id)
        )
        if organisation_id is not None:
            query = query.where(ServiceSale.organisation_id == organisation_id)
        if year is not None:
            query = query.where(_year(ServiceSale.sold_on) == year)
        total = self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = self.session.execute(
            query.order_by(ServiceSale.sold_on.desc(), ServiceSale.id.desc()).limit(limit).offset(offset)
        )
        return total or 0, [(sale, offer, buyer) for sale, offer, buyer in rows]

    def revenue(self, cluster_id: int, year: int | None = None) -> list[tuple[int, str, int, Decimal]]:
        """``(year, offer name, sales, revenue)`` of a cluster's sales (one year's when given)."""
        year_of = _year(ServiceSale.sold_on)
        query = (
            select(year_of, ServiceOffer.name, func.count(), func.sum(ServiceSale.amount_eur))
            .join(ServiceOffer, ServiceOffer.id == ServiceSale.offer_id)
            .where(ServiceOffer.cluster_id == cluster_id)
        )
        if year is not None:
            query = query.where(year_of == year)
        query = query.group_by(year_of, ServiceOffer.name).order_by(year_of, ServiceOffer.name)
        rows = self.session.execute(query)
        return [(int(y), name, int(n), Decimal(total or 0)) for y, name, n, total in rows]

    def buyers(self, cluster_id: int) -> dict[int, int]:
        """Distinct member organisations buying per year."""
        year_of = _year(ServiceSale.sold_on)
        rows = self.session.execute(
            select(year_of, func.count(distinct(ServiceSale.organisation_id)))
            .join(ServiceOffer, ServiceOffer.id == ServiceSale.offer_id)
            .where(ServiceOffer.cluster_id == cluster_id)
            .group_by(year_of)
        )
        return {int(y): int(n) for y, n in rows}


def _year(column: Any) -> Any:
    """The calendar year of a date column, as an integer on every backend."""
    return cast(extract("year", column), Integer)


def event_years(session: Session, cluster_id: int) -> list[tuple[int, int, int, int, int, int]]:
    """``(year, events, registrations, seats, attended, absent)`` of a cluster's events, by the
    year they start (UTC)."""
    year_of = _year(Event.starts_at)
    registrations = (
        select(
            EventRegistration.event_id,
            func.count().label("registrations"),
            func.sum(EventRegistration.seats).label("seats"),
            func.sum(case((EventRegistration.attended.is_(True), 1), else_=0)).label("attended"),
            func.sum(case((EventRegistration.attended.is_(False), 1), else_=0)).label("absent"),
        )
        .group_by(EventRegistration.event_id)
        .subquery()
    )
    rows = session.execute(
        select(
            year_of,
            func.count(Event.id),
            func.coalesce(func.sum(registrations.c.registrations), 0),
            func.coalesce(func.sum(registrations.c.seats), 0),
            func.coalesce(func.sum(registrations.c.attended), 0),
            func.coalesce(func.sum(registrations.c.absent), 0),
        )
        .outerjoin(registrations, registrations.c.event_id == Event.id)
        .where(Event.cluster_id == cluster_id)
        .group_by(year_of)
        .order_by(year_of)
    )
    return [tuple(int(v) for v in row) for row in rows]  # type: ignore[misc]
