"""Events and shared equipment through the service, per role, on both backends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import icalendar
import pytest
from sqlalchemy.orm import Session

from grappe.cooperation import service as cooperation_service
from grappe.cooperation.actions import service
from grappe.cooperation.actions.schemas import (
    AttendanceIn,
    BookingIn,
    EquipmentIn,
    EventIn,
    NeedIn,
    PositionIn,
    PurchaseDeal,
    PurchaseIn,
    RegistrationIn,
    ShareIn,
)
from grappe.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import UserCreate
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.registry.models import Role
from grappe.registry.policy import LOCAL_ADMIN, Actor

NOW = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
SOON = NOW + dt.timedelta(days=30)
PAST = NOW - dt.timedelta(days=30)
OUTSIDERS = ("manager_other", "member_other", "funder", "funder_other", "public")


@pytest.fixture
def other(db: Session, world: Any) -> Actor:
    """A member user of a second member of A (org_free joins A)."""
    memberships.add_membership(
        db, LOCAL_ADMIN, world.a, MembershipCreate(organisation_id=world.org_free, joined=dt.date(2022, 1, 1))
    )
    user = accounts.create_user(
        db, LOCAL_ADMIN, UserCreate(email="u@solo.fr", role=Role.MEMBER, organisation_id=world.org_free)
    )
    return accounts.actor_for(db, user.email)


def _event(db: Session, world: Any, start: dt.datetime = SOON, **fields: Any) -> int:
    data = EventIn(
        kind="breakfast",
        title="Petit déjeuner usinage",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        **fields,
    )
    return service.create_event(db, world.actors["manager"], world.a, data).id


def test_registrations_stop_at_capacity_with_the_seats_left(db: Session, world: Any, other: Actor) -> None:
    event = _event(db, world, capacity=3, price_eur=Decimal("25.50"), place="Lyon")
    member = world.actors["member"]
    mine = service.register(db, member, event, RegistrationIn(seats=2))
    assert (mine.organisation_id, mine.amount_eur, mine.organisation_name) == (
        world.org_a,
        Decimal("51.00"),
        "Décolletage Dupont",
    )
    with pytest.raises(
        InputError, match=r"complet .*capacité 3 places, 2 prises, 2 demandée\(s\), 1 restante"
    ):
        service.register(db, other, event, RegistrationIn(seats=2))
    service.register(db, other, event, RegistrationIn(seats=1))
    with pytest.raises(ConflictError, match="déjà inscrite"):
        service.register(db, member, event, RegistrationIn())
    assert service.get_event(db, member, event).seats_taken == 3
    # a member registers its own organisation only, and reads its own registration only
    with pytest.raises(PermissionDeniedError):
        service.register(db, member, event, RegistrationIn(organisation_id=world.org_free))
    assert [r.organisation_id for r in service.list_registrations(db, member, event).items] == [world.org_a]
    assert service.list_registrations(db, world.actors["manager"], event).total == 2
    # the manager registers on behalf of an organisation it reads, never another tenant's
    with pytest.raises(NotFoundError):
        service.register(db, world.actors["manager"], event, RegistrationIn(organisation_id=world.org_b))


def test_members_see_public_events_and_other_tenants_find_nothing(db: Session, world: Any) -> None:
    public = _event(db, world)
    draft = _event(db, world, public=False)
    member, manager = world.actors["member"], world.actors["manager"]
    assert [e.id for e in service.list_events(db, member, world.a).items] == [public]
    assert service.list_events(db, manager, world.a).total == 2
    with pytest.raises(NotFoundError, match=f"événement {draft} introuvable"):
        service.get_event(db, member, draft)
    with pytest.raises(NotFoundError):
        service.register(db, member, draft, RegistrationIn())
    with pytest.raises(PermissionDeniedError):
        service.create_event(
            db,
            member,
            world.a,
            EventIn(kind="training", title="x", starts_at=SOON, ends_at=SOON + dt.timedelta(1)),
        )
    for role in OUTSIDERS:
        with pytest.raises(NotFoundError):
            service.get_event(db, world.actors[role], public)
        with pytest.raises(NotFoundError):
            service.event_calendar(db, world.actors[role], public)
        with pytest.raises((NotFoundError, PermissionDeniedError)):
            service.list_events(db, world.actors[role], world.a)  # A is public: refused, not hidden


def test_an_event_ending_before_it_starts_is_refused(db: Session, world: Any) -> None:
    with pytest.raises(InputError, match=r"la fin .* n.est pas après le début"):
        service.create_event(
            db,
            world.actors["manager"],
            world.a,
            EventIn(kind="conference", title="x", starts_at=SOON, ends_at=SOON),
        )


def test_attendance_after_the_event_and_late_registration(db: Session, world: Any, other: Actor) -> None:
    past, future = _event(db, world, PAST), _event(db, world, SOON)
    manager = world.actors["manager"]
    with pytest.raises(InputError, match="a commencé"):
        service.register(db, world.actors["member"], past, RegistrationIn())
    service.register(db, manager, past, RegistrationIn(organisation_id=world.org_a))  # recorded afterwards
    came = service.record_attendance(db, manager, past, world.org_a, AttendanceIn(attended=True))
    assert came.attended is True
    with pytest.raises(NotFoundError, match="inscription de l'organisation"):
        service.record_attendance(db, manager, past, world.org_free, AttendanceIn(attended=True))
    service.register(db, other, future, RegistrationIn())
    with pytest.raises(InputError, match="pas encore eu lieu"):
        service.record_attendance(db, manager, future, world.org_free, AttendanceIn(attended=False))
    with pytest.raises(PermissionDeniedError):
        service.record_attendance(db, other, past, world.org_a, AttendanceIn(attended=False))


def test_the_calendar_file_of_an_event(db: Session, world: Any) -> None:
    event = _event(db, world, place="Saint-Étienne, Cité du design", description="Usinage\net café")
    calendar = icalendar.Calendar.from_ical(service.event_calendar(db, world.actors["member"], event))
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["summary"]) == "Petit déjeuner usinage"
    assert str(entry["location"]) == "Saint-Étienne, Cité du design"
    assert entry.decoded("dtstart") == SOON
    assert entry.decoded("dtend") == SOON + dt.timedelta(hours=2)
    assert str(entry["uid"]) == f"event-{event}@grappe"


def test_co_attendance_ties_the_network(db: Session, world: Any, other: Actor) -> None:
    manager = world.actors["manager"]
    for start in (PAST, PAST - dt.timedelta(days=1)):
        event = _event(db, world, start)
        for organisation in (world.org_a, world.org_free):
            service.register(db, manager, event, RegistrationIn(organisation_id=organisation))
            service.record_attendance(db, manager, event, organisation, AttendanceIn(attended=True))
    absent = _event(db, world, PAST)
    service.register(db, manager, absent, RegistrationIn(organisation_id=world.org_a))
    analysis = cooperation_service.analyse_network(db, manager, cluster_id=world.a, layers=["events"])
    degrees = analysis.measures.set_index("organisation_id")["weighted_degree"].to_dict()
    assert degrees[world.org_a] == degrees[world.org_free] == 2.0
    year = cooperation_service.analyse_network(
        db, manager, cluster_id=world.a, layers=["events"], start=SOON.date(), end=SOON.date()
    )
    assert set(year.measures["weighted_degree"]) <= {0.0}


# --- shared equipment ----------------------------------------------------------------------------


def _room(db: Session, world: Any) -> int:
    data = EquipmentIn(name="Salle blanche ISO 7", hourly_rate_eur=Decimal("80"))
    return service.create_equipment(db, world.actors["manager"], world.a, data).id


def _hours(start: dt.datetime, hours: float) -> BookingIn:
    return BookingIn(starts_at=start, ends_at=start + dt.timedelta(hours=hours))


def test_bookings_never_overlap_and_the_clash_is_named(db: Session, world: Any, other: Actor) -> None:
    room = _room(db, world)
    member = world.actors["member"]
    first = service.book(db, member, room, _hours(SOON, 3))
    with pytest.raises(ConflictError, match=rf"réservé par la réservation {first.id} du \d\d/\d\d/\d{{4}}"):
        service.book(db, other, room, _hours(SOON + dt.timedelta(hours=2), 2))
    with pytest.raises(ConflictError, match=f"réservation {first.id}"):
        service.book(db, other, room, _hours(SOON - dt.timedelta(hours=1), 5))  # around it
    service.book(db, other, room, _hours(SOON + dt.timedelta(hours=3), 1))  # right after: no overlap
    with pytest.raises(InputError, match="n'est pas après le début"):
        service.book(db, member, room, _hours(SOON, 0))
    with pytest.raises(PermissionDeniedError):
        service.book(db, member, room, BookingIn(starts_at=NOW, ends_at=SOON, organisation_id=world.org_free))
    for role in OUTSIDERS:
        with pytest.raises(NotFoundError):
            service.book(db, world.actors[role], room, _hours(SOON + dt.timedelta(days=2), 1))


def test_usage_and_billing_per_member_over_a_period(db: Session, world: Any, other: Actor) -> None:
    room = _room(db, world)
    manager, member = world.actors["manager"], world.actors["member"]
    day = SOON.replace(hour=0, minute=0)
    service.book(db, member, room, _hours(day + dt.timedelta(hours=8), 3))
    service.book(db, other, room, _hours(day + dt.timedelta(hours=22), 4))  # 2 hours inside the day
    service.book(db, member, room, _hours(day + dt.timedelta(days=3), 1))  # outside
    bill = service.usage(db, manager, room, day, day + dt.timedelta(days=1))
    lines = {line.organisation_id: (line.hours, line.amount_eur) for line in bill.lines}
    assert lines == {
        world.org_a: (Decimal("3.00"), Decimal("240.00")),
        world.org_free: (Decimal("2.00"), Decimal("160.00")),
    }
    assert (bill.total_hours, bill.total_eur) == (Decimal("5.00"), Decimal("400.00"))
    own = service.usage(db, member, room, day, day + dt.timedelta(days=1))
    assert [line.organisation_id for line in own.lines] == [world.org_a]
    assert service.list_bookings(db, manager, room, day, day + dt.timedelta(days=5)).total == 3
    assert service.list_bookings(db, other, room, day, day + dt.timedelta(days=5)).total == 1
    for role in OUTSIDERS:
        with pytest.raises(NotFoundError):
            service.usage(db, world.actors[role], room, day, day + dt.timedelta(days=1))


# --- joint hiring --------------------------------------------------------------------------------


def _position(shares: list[tuple[int, str]], start: dt.date = dt.date(2025, 1, 1)) -> PositionIn:
    return PositionIn(
        title="Responsable qualité partagé",
        start=start,
        yearly_cost_eur=Decimal("60000"),
        shares=[ShareIn(organisation_id=o, percent=Decimal(p)) for o, p in shares],
    )


def test_a_shared_position_splits_time_and_cost_to_100_percent(db: Session, world: Any, other: Actor) -> None:
    manager = world.actors["manager"]
    position = service.create_position(
        db, manager, world.a, _position([(world.org_a, "60"), (world.org_free, "40")])
    )
    assert [(s.organisation_name, s.yearly_cost_eur) for s in position.shares] == [
        ("Décolletage Dupont", Decimal("36000.00")),
        ("Solo SARL", Decimal("24000.00")),
    ]
    with pytest.raises(InputError, match=r"les parts font 90.* % au total, attendu 100 %"):
        service.create_position(
            db, manager, world.a, _position([(world.org_a, "50"), (world.org_free, "40")])
        )
    with pytest.raises(InputError, match="nommée deux fois"):
        service.create_position(db, manager, world.a, _position([(world.org_a, "50"), (world.org_a, "50")]))
    with pytest.raises(InputError, match="n'est pas adhérente"):
        service.create_position(
            db,
            manager,
            world.a,
            _position([(world.org_a, "50"), (world.org_free, "50")], dt.date(2021, 1, 1)),
        )
    with pytest.raises(NotFoundError):
        service.create_position(db, manager, world.a, _position([(world.org_a, "50"), (world.org_b, "50")]))
    with pytest.raises(PermissionDeniedError):
        service.create_position(db, world.actors["member"], world.a, _position([(world.org_a, "100")]))
    service.create_position(db, manager, world.a, _position([(world.org_free, "100")]))
    assert service.list_positions(db, manager, world.a).total == 2
    assert [p.id for p in service.list_positions(db, world.actors["member"], world.a).items] == [position.id]
    for role in OUTSIDERS:
        with pytest.raises((NotFoundError, PermissionDeniedError)):
            service.list_positions(db, world.actors[role], world.a)


# --- group purchases -----------------------------------------------------------------------------


def test_a_group_purchase_gathers_needs_and_gives_the_savings(db: Session, world: Any, other: Actor) -> None:
    manager, member = world.actors["manager"], world.actors["member"]
    data = PurchaseIn(
        title="Électricité 2027", unit="MWh", reference_price_eur=Decimal("150"), closes_on=SOON.date()
    )
    purchase = service.create_purchase(db, manager, world.a, data).id
    service.state_need(db, member, purchase, NeedIn(quantity=Decimal("120")))
    service.state_need(db, member, purchase, NeedIn(quantity=Decimal("100")))  # changed, not added
    mine = service.state_need(db, other, purchase, NeedIn(quantity=Decimal("50")))
    assert (mine.volume, [n.organisation_id for n in mine.needs]) == (Decimal("150"), [world.org_free])
    with pytest.raises(PermissionDeniedError):
        service.state_need(db, member, purchase, NeedIn(quantity=Decimal(1), organisation_id=world.org_free))
    with pytest.raises(InputError, match="dépasse le prix de référence"):
        service.conclude_purchase(
            db, manager, purchase, PurchaseDeal(supplier="Enercoop", negotiated_price_eur=Decimal("151"))
        )
    done = service.conclude_purchase(
        db, manager, purchase, PurchaseDeal(supplier="Enercoop", negotiated_price_eur=Decimal("120"))
    )
    assert (done.volume, done.savings_eur) == (Decimal("150"), Decimal("4500.00"))
    assert {n.organisation_id: n.savings_eur for n in done.needs} == {
        world.org_a: Decimal("3000.00"),
        world.org_free: Decimal("1500.00"),
    }
    (seen,) = service.list_purchases(db, member, world.a).items
    assert [n.organisation_id for n in seen.needs] == [world.org_a]
    for role in OUTSIDERS:
        with pytest.raises(NotFoundError):
            service.state_need(db, world.actors[role], purchase, NeedIn(quantity=Decimal(1)))


def test_needs_stop_when_the_purchase_closes(db: Session, world: Any) -> None:
    manager = world.actors["manager"]
    data = PurchaseIn(title="Acier", unit="t", reference_price_eur=Decimal("900"), closes_on=PAST.date())
    purchase = service.create_purchase(db, manager, world.a, data).id
    with pytest.raises(InputError, match="est clos depuis le"):
        service.state_need(db, world.actors["member"], purchase, NeedIn(quantity=Decimal(3)))
    late = service.state_need(db, manager, purchase, NeedIn(quantity=Decimal(3), organisation_id=world.org_a))
    assert late.volume == Decimal(3)
    with pytest.raises(InputError, match="n'est pas adhérente"):
        service.state_need(db, manager, purchase, NeedIn(quantity=Decimal(3), organisation_id=world.org_free))
