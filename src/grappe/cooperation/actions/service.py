"""What users do with collective actions: run events (registrations, attendance, calendar file),
share equipment (bookings without overlap, usage and billing per member), hire jointly and buy
together (needs gathered from members, volume, savings).

Every operation checks the actor's rights through :mod:`grappe.cooperation.actions.policy`;
the SQL lives in :mod:`grappe.cooperation.actions.repository`; the caller's unit of work commits.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Final

from sqlalchemy.orm import Session

from grappe.cooperation.actions import calendar, policy
from grappe.cooperation.actions.models import (
    Equipment,
    EquipmentBooking,
    Event,
    EventKind,
    EventRegistration,
    GroupPurchase,
    PositionShare,
    PurchaseNeed,
    SharedPosition,
)
from grappe.cooperation.actions.repository import (
    EquipmentRepository,
    EventRepository,
    PositionRepository,
    PurchaseRepository,
)
from grappe.cooperation.actions.schemas import (
    LOCAL_TIME,
    AttendanceIn,
    BookingIn,
    BookingOut,
    BookingPage,
    EquipmentIn,
    EquipmentOut,
    EquipmentPage,
    EquipmentUsage,
    EventIn,
    EventOut,
    EventPage,
    NeedIn,
    NeedOut,
    PositionIn,
    PositionOut,
    PositionPage,
    PurchaseDeal,
    PurchaseIn,
    PurchaseOut,
    PurchasePage,
    RegistrationIn,
    RegistrationOut,
    RegistrationPage,
    ShareOut,
    UsageLine,
)
from grappe.errors import ConflictError, InputError, NotFoundError
from grappe.kit.repository import check_page
from grappe.registry.models import utcnow
from grappe.registry.policy import Access, Actor, member_cluster_ids, require_organisation

HOUR: Final = Decimal(3600)
CENT: Final = Decimal("0.01")
HUNDRED: Final = Decimal(100)


def shown(moment: dt.datetime) -> str:
    """A moment as French users read it, in French local time: ``10/12/2026 08:30``."""
    return moment.astimezone(LOCAL_TIME).strftime("%d/%m/%Y %H:%M")


def _period(start: dt.datetime, end: dt.datetime, what: str) -> None:
    if end <= start:
        raise InputError(
            f"{what} refusé(e) : la fin ({shown(end)}) n'est pas après le début ({shown(start)})"
        )


# --- events --------------------------------------------------------------------------------------


def _event_out(event: Event, seats_taken: int) -> EventOut:
    return EventOut(
        id=event.id,
        cluster_id=event.cluster_id,
        kind=EventKind(event.kind),
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        place=event.place,
        capacity=event.capacity,
        seats_taken=seats_taken,
        price_eur=event.price_eur,
        shared_stand=event.shared_stand,
        public=event.public,
        description=event.description,
    )


def create_event(session: Session, actor: Actor, cluster_id: int, data: EventIn) -> EventOut:
    """Create an event of a cluster (its managers).

    Raises
    ------
    InputError
        An event ending before it starts.
    """
    policy.require_actions(session, actor, cluster_id, Access.MANAGE, "créer un événement")
    _period(data.starts_at, data.ends_at, "événement")
    events = EventRepository(session)
    event = events.add(Event(cluster_id=cluster_id, **data.model_dump()))
    events.flush()
    return _event_out(event, 0)


def list_events(
    session: Session, actor: Actor, cluster_id: int, *, limit: int = 100, offset: int = 0
) -> EventPage:
    """A cluster's events, the soonest first: all for its managers, the public ones for its members."""
    manages = policy.require_actions(session, actor, cluster_id, Access.READ, "lister les événements")
    events = EventRepository(session)
    total, rows = events.page(events.of_cluster(cluster_id, public_only=not manages), limit, offset)
    taken = events.seats_taken([event.id for event in rows])
    return EventPage(total=total, items=[_event_out(event, taken.get(event.id, 0)) for event in rows])


def get_event(session: Session, actor: Actor, event_id: int) -> EventOut:
    """One event with its seats taken."""
    events = EventRepository(session)
    event = events.get(event_id)
    policy.require_event(session, actor, event, Access.READ, "lire l'événement")
    return _event_out(event, events.seats_taken([event.id]).get(event.id, 0))


def _registration_out(registration: EventRegistration, name: str, price: Decimal) -> RegistrationOut:
    return RegistrationOut(
        id=registration.id,
        event_id=registration.event_id,
        organisation_id=registration.organisation_id,
        organisation_name=name,
        seats=registration.seats,
        attended=registration.attended,
        amount_eur=price * registration.seats,
    )


def register(session: Session, actor: Actor, event_id: int, data: RegistrationIn) -> RegistrationOut:
    """Register an organisation to an event: a member registers its own before the event starts,
    a manager any organisation at any time (a late registration, a guest).

    Raises
    ------
    InputError
        The event is full (the seats left are named) or has started.
    ConflictError
        The organisation is already registered.
    """
    events = EventRepository(session)
    # the lock serialises the registrations of one event, so two cannot both take the last seat
    event = events.get(event_id, lock=True)
    manages = policy.require_event(session, actor, event, Access.READ, "s'inscrire à l'événement")
    organisation_id = policy.acting_for(session, actor, manages, data.organisation_id, "inscrire")
    if not manages and event.starts_at <= utcnow():
        raise InputError(
            f"inscription refusée : l'événement {event.id} a commencé le {shown(event.starts_at)}"
        )
    if events.registration(event.id, organisation_id) is not None:
        raise ConflictError(
            f"inscription refusée : organisation {organisation_id} déjà inscrite à l'événement {event.id}"
        )
    taken = events.seats_taken([event.id]).get(event.id, 0)
    if event.capacity is not None and taken + data.seats > event.capacity:
        raise InputError(
            f"inscription refusée : l'événement {event.id} est complet pour cette demande "
            f"(capacité {event.capacity} places, {taken} prises, {data.seats} demandée(s), "
            f"{event.capacity - taken} restante(s))"
        )
    registration = EventRegistration(event_id=event.id, organisation_id=organisation_id, seats=data.seats)
    session.add(registration)
    events.flush()
    name = next(n for r, n in session.execute(events.registrations(event.id, organisation_id)))
    return _registration_out(registration, name, event.price_eur)


def list_registrations(
    session: Session, actor: Actor, event_id: int, *, limit: int = 100, offset: int = 0
) -> RegistrationPage:
    """An event's registrations: all for its managers, a member's own for a member."""
    events = EventRepository(session)
    event = events.get(event_id)
    manages = policy.require_event(session, actor, event, Access.READ, "lister les inscriptions")
    total, rows = events.registration_page(
        event.id, None if manages else actor.organisation_id, limit, offset
    )
    return RegistrationPage(
        total=total, items=[_registration_out(r, name, event.price_eur) for r, name in rows]
    )


def record_attendance(
    session: Session, actor: Actor, event_id: int, organisation_id: int, data: AttendanceIn
) -> RegistrationOut:
    """Record whether a registered organisation came (the managers, once the event has started).

    Raises
    ------
    InputError
        The event has not started yet.
    NotFoundError
        The organisation is not registered.
    """
    events = EventRepository(session)
    event = events.get(event_id)
    policy.require_event(session, actor, event, Access.MANAGE, "noter la présence")
    if event.starts_at > utcnow():
        raise InputError(
            f"présence refusée : l'événement {event.id} n'a pas encore eu lieu "
            f"(il commence le {shown(event.starts_at)})"
        )
    found = session.execute(events.registrations(event.id, organisation_id)).first()
    if found is None:
        raise NotFoundError(
            f"inscription de l'organisation {organisation_id} à l'événement {event.id} introuvable"
        )
    registration, name = found
    registration.attended = data.attended
    events.flush()
    return _registration_out(registration, name, event.price_eur)


def event_calendar(session: Session, actor: Actor, event_id: int) -> bytes:
    """The event's calendar file (ICS)."""
    event = EventRepository(session).get(event_id)
    policy.require_event(session, actor, event, Access.READ, "exporter l'événement")
    return calendar.event_calendar(event, utcnow())


# --- shared equipment ----------------------------------------------------------------------------


def _equipment_out(equipment: Equipment) -> EquipmentOut:
    return EquipmentOut.model_validate(equipment)


def create_equipment(session: Session, actor: Actor, cluster_id: int, data: EquipmentIn) -> EquipmentOut:
    """Record a piece of equipment a cluster shares (its managers)."""
    policy.require_actions(session, actor, cluster_id, Access.MANAGE, "ajouter un équipement")
    equipment = EquipmentRepository(session)
    added = equipment.add(Equipment(cluster_id=cluster_id, **data.model_dump()))
    equipment.flush()
    return _equipment_out(added)


def list_equipment(
    session: Session, actor: Actor, cluster_id: int, *, limit: int = 100, offset: int = 0
) -> EquipmentPage:
    """A cluster's shared equipment (its managers and members)."""
    policy.require_actions(session, actor, cluster_id, Access.READ, "lister les équipements")
    equipment = EquipmentRepository(session)
    total, rows = equipment.page(equipment.of_cluster(cluster_id), limit, offset)
    return EquipmentPage(total=total, items=[_equipment_out(e) for e in rows])


def _booking_out(booking: EquipmentBooking, name: str) -> BookingOut:
    return BookingOut(
        id=booking.id,
        equipment_id=booking.equipment_id,
        organisation_id=booking.organisation_id,
        organisation_name=name,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
    )


def book(session: Session, actor: Actor, equipment_id: int, data: BookingIn) -> BookingOut:
    """Book an equipment over ``[starts_at, ends_at)``: a member for itself, a manager for anyone.

    Raises
    ------
    InputError
        A period ending before it starts.
    ConflictError
        The period overlaps another booking, which the message names.
    """
    repository = EquipmentRepository(session)
    # the lock serialises the bookings of one equipment, so two overlapping ones cannot both pass
    equipment = repository.get(equipment_id, lock=True)
    manages = policy.require_actions(session, actor, equipment.cluster_id, Access.READ, "réserver")
    organisation_id = policy.acting_for(session, actor, manages, data.organisation_id, "réserver")
    _period(data.starts_at, data.ends_at, "réservation")
    clash = repository.first_overlap(equipment.id, data.starts_at, data.ends_at)
    if clash is not None:
        raise ConflictError(
            f"réservation refusée : « {equipment.name} » est déjà réservé par la réservation {clash.id} "
            f"du {shown(clash.starts_at)} au {shown(clash.ends_at)}"
        )
    booking = repository.add_booking(
        EquipmentBooking(
            equipment_id=equipment.id,
            organisation_id=organisation_id,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
        )
    )
    _, name = repository.bookings(equipment.id, booking.starts_at, booking.ends_at, organisation_id)[0]
    return _booking_out(booking, name)


def _bookings_in(
    session: Session, actor: Actor, equipment_id: int, start: dt.datetime, end: dt.datetime, action: str
) -> tuple[Equipment, list[tuple[EquipmentBooking, str]]]:
    """The equipment and its bookings meeting ``[start, end)`` the actor may read."""
    _period(start, end, "période")
    repository = EquipmentRepository(session)
    equipment = repository.get(equipment_id)
    manages = policy.require_actions(session, actor, equipment.cluster_id, Access.READ, action)
    return equipment, repository.bookings(
        equipment.id, start, end, None if manages else actor.organisation_id
    )


def list_bookings(
    session: Session,
    actor: Actor,
    equipment_id: int,
    start: dt.datetime,
    end: dt.datetime,
    *,
    limit: int = 100,
    offset: int = 0,
) -> BookingPage:
    """Bookings of an equipment meeting a period: all for the managers, a member's own."""
    check_page(limit, offset)
    _, rows = _bookings_in(session, actor, equipment_id, start, end, "lister les réservations")
    page = rows[offset : offset + limit]
    return BookingPage(total=len(rows), items=[_booking_out(b, name) for b, name in page])


def usage(
    session: Session, actor: Actor, equipment_id: int, start: dt.datetime, end: dt.datetime
) -> EquipmentUsage:
    """Hours booked per member within ``[start, end)`` and their price at the equipment's rate
    (a booking across a bound counts for its part inside); a member reads its own line."""
    equipment, rows = _bookings_in(session, actor, equipment_id, start, end, "lire l'usage de l'équipement")
    seconds: dict[tuple[int, str], int] = defaultdict(int)
    for booking, name in rows:
        inside = min(booking.ends_at, end) - max(booking.starts_at, start)
        seconds[(booking.organisation_id, name)] += int(inside.total_seconds())
    lines = []
    for (organisation_id, name), total in sorted(seconds.items()):
        hours = Decimal(total) / HOUR
        lines.append(
            UsageLine(
                organisation_id=organisation_id,
                organisation_name=name,
                hours=hours.quantize(CENT),
                amount_eur=(hours * equipment.hourly_rate_eur).quantize(CENT),
            )
        )
    return EquipmentUsage(
        equipment_id=equipment.id,
        start=start,
        end=end,
        lines=lines,
        total_hours=sum((line.hours for line in lines), Decimal(0)),
        total_eur=sum((line.amount_eur for line in lines), Decimal(0)),
    )


# --- joint hiring --------------------------------------------------------------------------------


def _position_out(position: SharedPosition, shares: list[tuple[PositionShare, str]]) -> PositionOut:
    return PositionOut(
        id=position.id,
        cluster_id=position.cluster_id,
        title=position.title,
        start=position.start,
        end=position.end_date,
        yearly_cost_eur=position.yearly_cost_eur,
        shares=[
            ShareOut(
                organisation_id=share.organisation_id,
                organisation_name=name,
                percent=share.percent,
                yearly_cost_eur=(position.yearly_cost_eur * share.percent / HUNDRED).quantize(CENT),
            )
            for share, name in shares
        ],
    )


def create_position(session: Session, actor: Actor, cluster_id: int, data: PositionIn) -> PositionOut:
    """Record a position shared by current members of a cluster (its managers).

    Raises
    ------
    InputError
        Shares that do not sum to 100 %, an organisation named twice or not a current member,
        a period ending before it starts.
    """
    policy.require_actions(session, actor, cluster_id, Access.MANAGE, "créer un poste partagé")
    if data.end is not None and data.end < data.start:
        raise InputError(
            f"poste refusé : fin ({data.end.isoformat()}) avant le début ({data.start.isoformat()})"
        )
    organisations = [share.organisation_id for share in data.shares]
    twice = sorted({o for o in organisations if organisations.count(o) > 1})
    if twice:
        raise InputError(f"poste refusé : organisation {twice[0]} nommée deux fois dans la répartition")
    for organisation_id in organisations:
        require_organisation(session, actor, organisation_id, Access.READ, "répartir un poste")
        if cluster_id not in member_cluster_ids(session, organisation_id, data.start):
            raise InputError(
                f"poste refusé : l'organisation {organisation_id} n'est pas adhérente de la structure "
                f"{cluster_id} au {data.start.isoformat()}"
            )
    total = sum((share.percent for share in data.shares), Decimal(0))
    if total != HUNDRED:
        raise InputError(f"poste refusé : les parts font {total} % au total, attendu 100 %")
    positions = PositionRepository(session)
    position = positions.add(
        SharedPosition(
            cluster_id=cluster_id,
            title=data.title,
            start=data.start,
            end_date=data.end,
            yearly_cost_eur=data.yearly_cost_eur,
        )
    )
    positions.flush()
    session.add_all(
        PositionShare(position_id=position.id, organisation_id=s.organisation_id, percent=s.percent)
        for s in data.shares
    )
    positions.flush()
    return _position_out(position, positions.shares([position.id])[position.id])


def list_positions(
    session: Session, actor: Actor, cluster_id: int, *, limit: int = 100, offset: int = 0
) -> PositionPage:
    """A cluster's shared positions: all for its managers, those its organisation shares for a member."""
    manages = policy.require_actions(session, actor, cluster_id, Access.READ, "lister les postes partagés")
    positions = PositionRepository(session)
    query = positions.of_cluster(cluster_id, None if manages else actor.organisation_id)
    total, rows = positions.page(query, limit, offset)
    shares = positions.shares([p.id for p in rows])
    return PositionPage(total=total, items=[_position_out(p, shares[p.id]) for p in rows])


# --- group purchases -----------------------------------------------------------------------------


def _purchase_out(
    purchase: GroupPurchase, needs: list[tuple[PurchaseNeed, str]], organisation_id: int | None
) -> PurchaseOut:
    """The purchase with every need counted in its volume, showing ``organisation_id``'s only
    when given (a member)."""
    saved = (
        None
        if purchase.negotiated_price_eur is None
        else purchase.reference_price_eur - purchase.negotiated_price_eur
    )
    volume = sum((need.quantity for need, _ in needs), Decimal(0))
    return PurchaseOut(
        id=purchase.id,
        cluster_id=purchase.cluster_id,
        title=purchase.title,
        unit=purchase.unit,
        reference_price_eur=purchase.reference_price_eur,
        closes_on=purchase.closes_on,
        supplier=purchase.supplier,
        negotiated_price_eur=purchase.negotiated_price_eur,
        volume=volume,
        savings_eur=None if saved is None else (saved * volume).quantize(CENT),
        needs=[
            NeedOut(
                organisation_id=need.organisation_id,
                organisation_name=name,
                quantity=need.quantity,
                savings_eur=None if saved is None else (saved * need.quantity).quantize(CENT),
            )
            for need, name in needs
            if organisation_id in (None, need.organisation_id)
        ],
    )


def create_purchase(session: Session, actor: Actor, cluster_id: int, data: PurchaseIn) -> PurchaseOut:
    """Open a group purchase in which the cluster's members state their needs (its managers)."""
    policy.require_actions(session, actor, cluster_id, Access.MANAGE, "ouvrir un achat groupé")
    purchases = PurchaseRepository(session)
    purchase = purchases.add(GroupPurchase(cluster_id=cluster_id, **data.model_dump()))
    purchases.flush()
    return _purchase_out(purchase, [], None)


def list_purchases(
    session: Session, actor: Actor, cluster_id: int, *, limit: int = 100, offset: int = 0
) -> PurchasePage:
    """A cluster's group purchases with their volume: every need for its managers, a member's own."""
    manages = policy.require_actions(session, actor, cluster_id, Access.READ, "lister les achats groupés")
    purchases = PurchaseRepository(session)
    total, rows = purchases.page(purchases.of_cluster(cluster_id), limit, offset)
    needs = purchases.needs([p.id for p in rows])
    mine = None if manages else actor.organisation_id
    return PurchasePage(total=total, items=[_purchase_out(p, needs[p.id], mine) for p in rows])


def state_need(session: Session, actor: Actor, purchase_id: int, data: NeedIn) -> PurchaseOut:
    """State (or change) a member's need: a member its own until the purchase closes, a manager
    any current member's at any time.

    Raises
    ------
    InputError
        The purchase is closed, or the organisation is not a current member of the cluster.
    """
    purchases = PurchaseRepository(session)
    purchase = purchases.get(purchase_id)
    manages = policy.require_actions(session, actor, purchase.cluster_id, Access.READ, "exprimer un besoin")
    organisation_id = policy.acting_for(session, actor, manages, data.organisation_id, "exprimer un besoin")
    today = dt.date.today()
    if not manages and today > purchase.closes_on:
        raise InputError(
            f"besoin refusé : l'achat groupé {purchase.id} est clos depuis le {purchase.closes_on:%d/%m/%Y}"
        )
    if purchase.cluster_id not in member_cluster_ids(session, organisation_id, today):
        raise InputError(
            f"besoin refusé : l'organisation {organisation_id} n'est pas adhérente de la structure "
            f"{purchase.cluster_id}"
        )
    need = purchases.need(purchase.id, organisation_id)
    if need is None:
        session.add(
            PurchaseNeed(purchase_id=purchase.id, organisation_id=organisation_id, quantity=data.quantity)
        )
    else:
        need.quantity = data.quantity
    purchases.flush()
    return _purchase_out(
        purchase, purchases.needs([purchase.id])[purchase.id], None if manages else organisation_id
    )


def conclude_purchase(session: Session, actor: Actor, purchase_id: int, deal: PurchaseDeal) -> PurchaseOut:
    """Record the supplier and the negotiated unit price; the savings follow (its managers).

    Raises
    ------
    InputError
        A negotiated price above the reference one: the purchase would save nothing.
    """
    purchases = PurchaseRepository(session)
    purchase = purchases.get(purchase_id)
    policy.require_actions(session, actor, purchase.cluster_id, Access.MANAGE, "conclure un achat groupé")
    if deal.negotiated_price_eur > purchase.reference_price_eur:
        raise InputError(
            f"achat refusé : le prix négocié ({deal.negotiated_price_eur} €) dépasse le prix de "
            f"référence ({purchase.reference_price_eur} €)"
        )
    purchase.supplier, purchase.negotiated_price_eur = deal.supplier, deal.negotiated_price_eur
    purchases.flush()
    return _purchase_out(purchase, purchases.needs([purchase.id])[purchase.id], None)
