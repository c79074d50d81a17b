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

from grappe.cooperation import policy as cooperation_policy
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
    ServiceOffer,
    ServiceSale,
    SharedPosition,
)
from grappe.cooperation.actions.repository import (
    EquipmentRepository,
    EventRepository,
    PositionRepository,
    PurchaseRepository,
    ServiceRepository,
    event_years,
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
    EventYear,
    NeedIn,
    NeedOut,
    OfferIn,
    OfferOut,
    OfferPage,
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
    RevenueYear,
    SaleIn,
    SaleOut,
    SalePage,
    ServicesRevenue,
    ShareOut,
    UsageLine,
)
from grappe.errors import ConflictError, InputError, NotFoundError
from grappe.kit.repository import check_page
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import FundingIn
from grappe.registry.models import FundingSource, utcnow
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


def get_equipment(session: Session, actor: Actor, equipment_id: int) -> EquipmentOut:
    """One shared equipment (the cluster's managers and members)."""
    equipment = EquipmentRepository(session).get(equipment_id)
    policy.require_actions(session, actor, equipment.cluster_id, Access.READ, "lire l'équipement")
    return _equipment_out(equipment)


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


# --- services sold to members ---------------------------------------------------------------------
#
# The yearly revenue of the services a cluster sells to its members is a line of its funding
# mix, which the registry keeps (``ClusterFunding``, source ``services``). The registry sits
# below cooperation and cannot read the sales: so cooperation writes that line, through the
# registry's own service, every time a sale is recorded or cancelled — the line of a year is
# the sum of that year's sales, recomputed from them (never incremented), and every reader of
# the registry's funding mix (its API, pages, exports, a funder's figures) sees it with no
# knowledge of cooperation. Revenue of services not recorded here belongs in the other lines.


def _offer_out(offer: ServiceOffer, sales: tuple[int, Decimal]) -> OfferOut:
    return OfferOut(
        id=offer.id,
        cluster_id=offer.cluster_id,
        name=offer.name,
        unit=offer.unit,
        unit_price_eur=offer.unit_price_eur,
        active=offer.active,
        description=offer.description,
        sales=sales[0],
        revenue_eur=sales[1],
    )


def create_offer(session: Session, actor: Actor, cluster_id: int, data: OfferIn) -> OfferOut:
    """Offer a service to a cluster's members (its managers)."""
    policy.require_actions(session, actor, cluster_id, Access.MANAGE, "proposer un service")
    offers = ServiceRepository(session)
    offer = offers.add(ServiceOffer(cluster_id=cluster_id, active=True, **data.model_dump()))
    offers.flush()
    return _offer_out(offer, (0, Decimal(0)))


def withdraw_offer(session: Session, actor: Actor, offer_id: int) -> OfferOut:
    """Stop selling a service; its past sales stay (its managers)."""
    offers = ServiceRepository(session)
    offer = offers.get(offer_id)
    policy.require_offer(session, actor, offer, Access.MANAGE, "retirer une offre de service")
    offer.active = False
    offers.flush()
    return _offer_out(offer, offers.offer_sales([offer.id]).get(offer.id, (0, Decimal(0))))


def list_offers(
    session: Session, actor: Actor, cluster_id: int, *, limit: int = 100, offset: int = 0
) -> OfferPage:
    """A cluster's service offers: all for its managers, those on sale for its members."""
    manages = policy.require_actions(session, actor, cluster_id, Access.READ, "lister les services")
    offers = ServiceRepository(session)
    total, rows = offers.page(offers.of_cluster(cluster_id, active_only=not manages), limit, offset)
    sales = offers.offer_sales([offer.id for offer in rows])
    return OfferPage(
        total=total, items=[_offer_out(offer, sales.get(offer.id, (0, Decimal(0)))) for offer in rows]
    )


def _sale_out(sale: ServiceSale, offer: str, buyer: str) -> SaleOut:
    return SaleOut(
        id=sale.id,
        offer_id=sale.offer_id,
        offer_name=offer,
        organisation_id=sale.organisation_id,
        organisation_name=buyer,
        sold_on=sale.sold_on,
        quantity=sale.quantity,
        amount_eur=sale.amount_eur,
        note=sale.note,
    )


def record_sale(session: Session, actor: Actor, offer_id: int, data: SaleIn) -> SaleOut:
    """Record the sale of a service to a member organisation (the cluster's managers); the
    cluster's ``services`` funding line of that year becomes the year's revenue.

    Raises
    ------
    InputError
        A withdrawn offer, or a buyer that was not a member of the cluster on the day of the sale.
    """
    offers = ServiceRepository(session)
    # the lock serialises the sales of one offer: two sales of a year sum into one funding line
    offer = offers.get(offer_id, lock=True)
    policy.require_offer(session, actor, offer, Access.MANAGE, "enregistrer une vente")
    if not offer.active:
        raise InputError(f"vente refusée : l'offre {offer.id} « {offer.name} » est retirée")
    require_organisation(session, actor, data.organisation_id, Access.READ, "vendre un service")
    if offer.cluster_id not in member_cluster_ids(session, data.organisation_id, on=data.sold_on):
        raise InputError(
            f"vente refusée : l'organisation {data.organisation_id} n'était pas adhérente de la structure "
            f"{offer.cluster_id} le {data.sold_on.strftime('%d/%m/%Y')} (services vendus aux adhérents)"
        )
    amount = data.amount_eur
    if amount is None:
        amount = (data.quantity * offer.unit_price_eur).quantize(CENT)
    sale = offers.add_sale(
        ServiceSale(
            offer_id=offer.id,
            organisation_id=data.organisation_id,
            sold_on=data.sold_on,
            quantity=data.quantity,
            amount_eur=amount,
            note=data.note,
        )
    )
    offers.flush()
    _book_revenue(session, actor, offer.cluster_id, data.sold_on.year)
    return _sale_out(sale, offer.name, offers.organisation_name(data.organisation_id))


def cancel_sale(session: Session, actor: Actor, sale_id: int) -> None:
    """Remove a sale recorded by mistake (the cluster's managers); its year's line follows."""
    offers = ServiceRepository(session)
    sale = offers.sale(sale_id)
    offer = offers.get(sale.offer_id, lock=True)
    policy.require_offer(session, actor, offer, Access.MANAGE, "annuler une vente")
    year = sale.sold_on.year
    offers.delete_sale(sale)
    offers.flush()
    _book_revenue(session, actor, offer.cluster_id, year)


def _book_revenue(session: Session, actor: Actor, cluster_id: int, year: int) -> None:
    """Write the year's revenue from sales as the cluster's ``services`` funding line (see above)."""
    lines = ServiceRepository(session).revenue(cluster_id, year)
    total = sum((amount for _, _, _, amount in lines), Decimal(0))
    clusters.set_funding(
        session, actor, cluster_id, FundingIn(year=year, source=FundingSource.SERVICES, amount_eur=total)
    )


def list_sales(
    session: Session,
    actor: Actor,
    cluster_id: int,
    *,
    year: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> SalePage:
    """A cluster's sales of services, the latest first: all for its managers, a member's own."""
    manages = policy.require_actions(session, actor, cluster_id, Access.READ, "lister les ventes")
    total, rows = ServiceRepository(session).sales(
        cluster_id,
        organisation_id=None if manages else actor.organisation_id,
        year=year,
        limit=limit,
        offset=offset,
    )
    return SalePage(total=total, items=[_sale_out(*row) for row in rows])


def services_revenue(session: Session, actor: Actor, cluster_id: int) -> ServicesRevenue:
    """The yearly revenue from services sold to members, by offer (managers and funders: figures)."""
    cooperation_policy.require_figures(session, actor, cluster_id)
    return _revenue(session, cluster_id)


def _revenue(session: Session, cluster_id: int) -> ServicesRevenue:
    offers = ServiceRepository(session)
    buyers = offers.buyers(cluster_id)
    years: dict[int, RevenueYear] = {}
    for year, offer, sales, amount in offers.revenue(cluster_id):
        entry = years.setdefault(
            year,
            RevenueYear(year=year, sales=0, buyers=buyers.get(year, 0), amount_eur=Decimal(0), by_offer={}),
        )
        entry.sales += sales
        entry.amount_eur += amount
        entry.by_offer[offer] = entry.by_offer.get(offer, Decimal(0)) + amount
    return ServicesRevenue(cluster_id=cluster_id, years=list(years.values()))


def event_figures(session: Session, actor: Actor, cluster_id: int) -> list[EventYear]:
    """A cluster's events per year: how many, registrations, seats and attendance (no names)."""
    cooperation_policy.require_figures(session, actor, cluster_id)
    return [
        EventYear(year=y, events=e, registrations=r, seats=s, attended=a, absent=n)
        for y, e, r, s, a, n in event_years(session, cluster_id)
    ]


def figures(session: Session, actor: Actor, cluster_id: int) -> tuple[list[EventYear], ServicesRevenue]:
    """Events and services revenue in figures (for the cooperation figures funders read)."""
    return event_figures(session, actor, cluster_id), services_revenue(session, actor, cluster_id)
