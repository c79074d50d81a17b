"""Inputs and outputs of the collective actions services (pydantic), shared by the CLI and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Final
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field

from grappe.cooperation.actions.models import (
    Equipment,
    Event,
    EventKind,
    EventRegistration,
    GroupPurchase,
    PositionShare,
    PurchaseNeed,
    ServiceOffer,
    ServiceSale,
    SharedPosition,
)
from grappe.registry.bounds import PAST, PLANNED, Amount, Dated, Int, Text, Timed
from grappe.registry.schemas import Schema

LOCAL_TIME: Final = ZoneInfo("Europe/Paris")
"""The time zone of a moment written without one: clusters are French."""


def _moment(value: dt.datetime) -> dt.datetime:
    """A moment in UTC; written without a time zone it is French local time."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=LOCAL_TIME)
    return aware.astimezone(dt.UTC)


#: Bounded like a planned date (from 1900 to ten years ahead), then stored in UTC.
Moment = Annotated[dt.datetime, Timed(PLANNED), AfterValidator(_moment)]
PlannedDate = Annotated[dt.date, Dated(PLANNED)]
MAX_SHARES: Final = 50
"""Members sharing one position at most."""
Id = Annotated[int, Int(EventRegistration.organisation_id, ge=1)]


class EventIn(Schema):
    """A collective event to create; ``capacity`` in seats (none: unlimited), ``price_eur`` per seat."""

    kind: EventKind
    title: Annotated[str, Text(Event.title, min_length=1)]
    starts_at: Moment
    ends_at: Moment
    place: Annotated[str, Text(Event.place)] | None = None
    capacity: Annotated[int, Int(Event.capacity, ge=1)] | None = None
    price_eur: Annotated[Decimal, Amount(Event.price_eur)] = Decimal(0)
    shared_stand: bool = False
    public: bool = True
    description: Annotated[str, Text(Event.description, multiline=True)] | None = None


class EventOut(Schema):
    """An event as read back, with the seats taken so far."""

    id: int
    cluster_id: int
    kind: EventKind
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str | None
    capacity: int | None
    seats_taken: int
    price_eur: Decimal
    shared_stand: bool
    public: bool
    description: str | None


class EventPage(Schema):
    """A page of events."""

    total: int
    items: list[EventOut]


class RegistrationIn(Schema):
    """A registration: the organisation (a member's own by default) and its seats."""

    organisation_id: Id | None = None
    seats: Annotated[int, Int(EventRegistration.seats, ge=1)] = 1


class RegistrationOut(Schema):
    """A registration as read back; ``amount_eur`` is the seats times the event's price."""

    id: int
    event_id: int
    organisation_id: int
    organisation_name: str
    seats: int
    attended: bool | None
    amount_eur: Decimal


class RegistrationPage(Schema):
    """A page of registrations."""

    total: int
    items: list[RegistrationOut]


class AttendanceIn(Schema):
    """Whether a registered organisation came."""

    attended: bool


class EquipmentIn(Schema):
    """A shared equipment to record, billed per hour of booking."""

    name: Annotated[str, Text(Equipment.name, min_length=1)]
    hourly_rate_eur: Annotated[Decimal, Amount(Equipment.hourly_rate_eur)]
    description: Annotated[str, Text(Equipment.description, multiline=True)] | None = None


class EquipmentOut(Schema):
    """A shared equipment as read back."""

    id: int
    cluster_id: int
    name: str
    hourly_rate_eur: Decimal
    description: str | None


class EquipmentPage(Schema):
    """A page of shared equipment."""

    total: int
    items: list[EquipmentOut]


class BookingIn(Schema):
    """A booking over ``[starts_at, ends_at)`` for an organisation (a member's own by default)."""

    starts_at: Moment
    ends_at: Moment
    organisation_id: Id | None = None


class BookingOut(Schema):
    """A booking as read back."""

    id: int
    equipment_id: int
    organisation_id: int
    organisation_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime


class BookingPage(Schema):
    """A page of bookings."""

    total: int
    items: list[BookingOut]


class UsageLine(Schema):
    """One member's use of an equipment over a period: hours booked within it and their price."""

    organisation_id: int
    organisation_name: str
    hours: Decimal
    amount_eur: Decimal


class EquipmentUsage(Schema):
    """The billing of an equipment over ``[start, end)``, per member, and its total."""

    equipment_id: int
    start: dt.datetime
    end: dt.datetime
    lines: list[UsageLine]
    total_hours: Decimal
    total_eur: Decimal


class ShareIn(Schema):
    """A member's share of a shared position's time, in percent."""

    organisation_id: Id
    percent: Annotated[Decimal, Amount(PositionShare.percent, positive=True), Field(le=100)]


class PositionIn(Schema):
    """A position shared by members (joint hiring); the shares must sum to exactly 100 %."""

    title: Annotated[str, Text(SharedPosition.title, min_length=1)]
    start: PlannedDate
    end: PlannedDate | None = None
    yearly_cost_eur: Annotated[Decimal, Amount(SharedPosition.yearly_cost_eur)]
    shares: list[ShareIn] = Field(min_length=1, max_length=MAX_SHARES)


class ShareOut(Schema):
    """A member's share and what it pays of the position's yearly cost."""

    organisation_id: int
    organisation_name: str
    percent: Decimal
    yearly_cost_eur: Decimal


class PositionOut(Schema):
    """A shared position as read back (a member reads its own share only)."""

    id: int
    cluster_id: int
    title: str
    start: dt.date
    end: dt.date | None
    yearly_cost_eur: Decimal
    shares: list[ShareOut]


class PositionPage(Schema):
    """A page of shared positions."""

    total: int
    items: list[PositionOut]


class PurchaseIn(Schema):
    """A group purchase to open: what is bought, in which unit, at which reference unit price."""

    title: Annotated[str, Text(GroupPurchase.title, min_length=1)]
    unit: Annotated[str, Text(GroupPurchase.unit, min_length=1)]
    reference_price_eur: Annotated[Decimal, Amount(GroupPurchase.reference_price_eur)]
    closes_on: PlannedDate


class PurchaseDeal(Schema):
    """The supplier chosen and the negotiated unit price."""

    supplier: Annotated[str, Text(GroupPurchase.supplier, min_length=1)]
    negotiated_price_eur: Annotated[Decimal, Amount(GroupPurchase.negotiated_price_eur)]


class NeedIn(Schema):
    """A member's need (a member states its own organisation's)."""

    quantity: Annotated[Decimal, Amount(PurchaseNeed.quantity, positive=True)]
    organisation_id: Id | None = None


class NeedOut(Schema):
    """A member's need and, once the purchase is concluded, what it saves."""

    organisation_id: int
    organisation_name: str
    quantity: Decimal
    savings_eur: Decimal | None


class PurchaseOut(Schema):
    """A group purchase with its needs (a member reads its own) and its total volume and savings."""

    id: int
    cluster_id: int
    title: str
    unit: str
    reference_price_eur: Decimal
    closes_on: dt.date
    supplier: str | None
    negotiated_price_eur: Decimal | None
    volume: Decimal
    savings_eur: Decimal | None
    needs: list[NeedOut]


class PurchasePage(Schema):
    """A page of group purchases."""

    total: int
    items: list[PurchaseOut]


# --- services sold to members -------------------------------------------------------------------


class OfferIn(Schema):
    """A service the cluster sells to its members, at a unit price excluding VAT."""

    name: Annotated[str, Text(ServiceOffer.name, min_length=1)]
    unit: Annotated[str, Text(ServiceOffer.unit, min_length=1)] = "prestation"
    unit_price_eur: Annotated[Decimal, Amount(ServiceOffer.unit_price_eur)]
    description: Annotated[str, Text(ServiceOffer.description, multiline=True)] | None = None


class OfferOut(Schema):
    """A service offer with its sales so far (count and amount)."""

    id: int
    cluster_id: int
    name: str
    unit: str
    unit_price_eur: Decimal
    active: bool
    description: str | None
    sales: int
    revenue_eur: Decimal


class OfferPage(Schema):
    """A page of service offers."""

    total: int
    items: list[OfferOut]


class SaleIn(Schema):
    """A sale to a member organisation; ``amount_eur`` defaults to the quantity at the offer's price."""

    organisation_id: Id
    sold_on: Annotated[dt.date, Dated(PAST)]
    quantity: Annotated[Decimal, Amount(ServiceSale.quantity, positive=True)] = Decimal(1)
    amount_eur: Annotated[Decimal, Amount(ServiceSale.amount_eur)] | None = None
    note: Annotated[str, Text(ServiceSale.note)] | None = None


class SaleOut(Schema):
    """A sale as read back."""

    id: int
    offer_id: int
    offer_name: str
    organisation_id: int
    organisation_name: str
    sold_on: dt.date
    quantity: Decimal
    amount_eur: Decimal
    note: str | None


class SalePage(Schema):
    """A page of sales."""

    total: int
    items: list[SaleOut]


class RevenueYear(Schema):
    """A year of services sold to members: sales, buyers, revenue, and revenue by offer."""

    year: int
    sales: int
    buyers: int
    amount_eur: Decimal
    by_offer: dict[str, Decimal]


class ServicesRevenue(Schema):
    """A cluster's yearly revenue from services sold to members (its ``services`` funding line)."""

    cluster_id: int
    years: list[RevenueYear]


class EventYear(Schema):
    """A year of a cluster's events in figures: events, registrations, seats, attendance."""

    year: int
    events: int
    registrations: int
    seats: int
    attended: int
    """Registrations marked present."""
    absent: int
    """Registrations marked absent (the others are not recorded yet)."""
