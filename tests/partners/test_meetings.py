"""Stored B2B meetings through the service, per role, on both backends; schedules checked by
the independent validator."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import icalendar
import pytest
from b2b_check import check_schedule
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grappe.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from grappe.evaluation.compute import evaluate
from grappe.partners.meetings import service
from grappe.partners.meetings.models import B2BMeeting
from grappe.partners.meetings.schemas import (
    B2BEventIn,
    GuestIn,
    ParticipantIn,
    PublishIn,
    ScheduleIn,
    UnavailableIn,
    WishAnswer,
    WishIn,
)
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import UserCreate
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.registry.models import Role
from grappe.registry.policy import LOCAL_ADMIN, Actor

START = dt.datetime(2026, 6, 11, 7, 0, tzinfo=dt.UTC)  # 09:00 in Paris
OUTSIDERS = ("manager_other", "funder", "funder_other", "public")


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


def _event(db: Session, world: Any, **fields: Any) -> int:
    values = {
        "title": "Rencontres usinage",
        "starts_at": START,
        "slots": 3,
        "tables": 2,
        "max_meetings": 2,
        "place": "Lyon",
        **fields,
    }
    return service.create_event(db, world.actors["manager"], world.a, B2BEventIn(**values)).id


def _rows(db: Session, event_id: int, manager: Actor) -> list[dict[str, str]]:
    """The stored schedule as the batch file's rows, participants named by organisation id."""
    _, meetings = service.table_plan(db, manager, event_id)
    return [
        {
            "slot": str(m.slot),
            "table": str(m.table),
            "participant_a": str(m.organisation_a_id),
            "participant_b": str(m.organisation_b_id),
        }
        for m in meetings
    ]


def test_an_event_from_registration_to_published_agendas(db: Session, world: Any, other: Actor) -> None:
    manager, member, guest = world.actors["manager"], world.actors["member"], world.actors["member_other"]
    event = _event(db, world)
    # B's members may not see it until B is a guest cluster
    with pytest.raises(NotFoundError, match="introuvable"):
        service.get_event(db, guest, event)
    service.add_guest_cluster(db, manager, event, GuestIn(cluster_id=world.b))
    mine = service.register(db, member, event, ParticipantIn(unavailable_slots=[3]))
    assert (mine.organisation_id, mine.unavailable_slots) == (world.org_a, [3])
    service.register(db, other, event, ParticipantIn())
    service.register(db, guest, event, ParticipantIn(unavailable_slots=[1]))
    # a wish waits for its addressee; the reverse wish makes it mutual: both accepted at once
    first = service.add_wish(db, member, event, WishIn(to_organisation_id=world.org_free, priority=3))
    assert first.status == "pending"
    back = service.add_wish(db, other, event, WishIn(to_organisation_id=world.org_a, priority=2))
    assert back.status == "accepted"
    assert {w.status for w in service.list_wishes(db, manager, event).items} == {"accepted"}
    # the guest's wish is accepted by its addressee; another is refused
    to_a = service.add_wish(db, guest, event, WishIn(to_organisation_id=world.org_a, priority=5))
    with pytest.raises(PermissionDeniedError, match="destinataire"):
        service.answer_wish(db, guest, event, to_a.id, WishAnswer(accept=True))
    assert service.answer_wish(db, member, event, to_a.id, WishAnswer(accept=True)).status == "accepted"
    to_free = service.add_wish(db, guest, event, WishIn(to_organisation_id=world.org_free, priority=4))
    assert service.answer_wish(db, other, event, to_free.id, WishAnswer(accept=False)).status == "refused"
    # a participant reads the wishes from or to its organisation only
    assert {w.id for w in service.list_wishes(db, other, event).items} == {first.id, back.id, to_free.id}

    result = service.schedule(db, manager, event, ScheduleIn())
    assert result.method == "optimal"
    assert result.optimal
    assert result.gap == 0
    assert (result.accepted_wishes, result.pending_wishes) == (3, 0)
    assert result.satisfied >= result.greedy_satisfied
    wishes = {
        (str(world.org_a), str(world.org_free)): 3,
        (str(world.org_free), str(world.org_a)): 2,
        (str(world.org_b), str(world.org_a)): 5,
    }
    unavailable = {str(world.org_a): {3}, str(world.org_free): set(), str(world.org_b): {1}}
    total = check_schedule(unavailable, wishes, 3, 2, 2, _rows(db, event, manager))
    assert total == result.satisfied == 10  # both pairs meet

    # unpublished: participants see no meeting and no agenda yet
    assert service.list_meetings(db, member, event).total == 0
    with pytest.raises(InputError, match="pas encore publié"):
        service.agenda(db, member, event)
    service.publish(db, manager, event, PublishIn())
    agenda = service.agenda(db, member, event)
    assert sorted(line.partner for line in agenda.lines) == ["Carrières Le Goff", "Solo SARL"]
    assert all(line.slot != 3 for line in agenda.lines)
    assert service.list_meetings(db, member, event).total == 2
    assert service.list_meetings(db, other, event).total == 1
    calendar = icalendar.Calendar.from_ical(service.agenda_ics(db, member, event))
    entries = list(calendar.walk("VEVENT"))
    assert len(entries) == 2
    assert all("Rendez-vous avec" in str(e["summary"]) for e in entries)
    assert service.agenda_pdf(db, member, event).startswith(b"%PDF")
    assert service.all_agendas_pdf(db, manager, event).startswith(b"%PDF")
    assert service.table_plan_file(db, manager, event, "pdf").startswith(b"%PDF")
    plan = list(csv.DictReader(io.StringIO(service.table_plan_file(db, manager, event, "csv").decode())))
    assert list(plan[0]) == ["slot", "table", "participant_a", "participant_b", "starts_at", "ends_at"]
    names = {
        "Décolletage Dupont": str(world.org_a),
        "Solo SARL": str(world.org_free),
        "Carrières Le Goff": str(world.org_b),
    }
    by_id = [
        {**r, "participant_a": names[r["participant_a"]], "participant_b": names[r["participant_b"]]}
        for r in plan
    ]
    assert check_schedule(unavailable, wishes, 3, 2, 2, by_id) == 10  # the file passes the checker too
    # a participant may not read the organiser's plan nor another participant's agenda
    with pytest.raises(PermissionDeniedError):
        service.table_plan(db, member, event)
    with pytest.raises(PermissionDeniedError):
        service.agenda(db, member, event, world.org_free)

    # evaluation: the guest's meeting with A's member is inter-cluster, A with A is not
    figures = service.meeting_figures(db, world.a, 2026)
    assert (figures.events, figures.participants, figures.meetings, figures.inter_cluster_meetings) == (
        1,
        3,
        2,
        1,
    )
    assert service.meeting_figures(db, world.a, 2025).meetings == 0
    # and the evaluation's indicator of the organising cluster reads the same count
    assert evaluate(db, 2026, [world.a]).of(world.a)["inter_cluster_meetings"] == 1
    assert evaluate(db, 2025, [world.a]).of(world.a)["inter_cluster_meetings"] == 0


def test_a_new_run_replaces_the_schedule_whole(db: Session, world: Any, other: Actor) -> None:
    manager = world.actors["manager"]
    event = _event(db, world, tables=1, slots=2, max_meetings=1)
    for organisation in (world.org_a, world.org_free):
        service.register(db, manager, event, ParticipantIn(organisation_id=organisation))
    # the organiser's wishes are accepted on entry
    wish = service.add_wish(
        db, manager, event, WishIn(from_organisation_id=world.org_a, to_organisation_id=world.org_free)
    )
    assert wish.status == "accepted"
    service.schedule(db, manager, event, ScheduleIn(method="greedy"))
    service.publish(db, manager, event, PublishIn())
    again = service.schedule(db, manager, event, ScheduleIn())
    stored = db.scalar(select(func.count()).select_from(B2BMeeting).where(B2BMeeting.b2b_event_id == event))
    assert stored == again.meetings == 1
    assert not service.get_event(db, manager, event).published  # to publish again after a new run
    # the participant's unavailability now leaves no common slot
    service.set_unavailable(db, other, event, None, UnavailableIn(unavailable_slots=[1, 2]))
    assert service.schedule(db, manager, event, ScheduleIn()).meetings == 0
    assert service.table_plan(db, manager, event)[1] == []


def test_bad_input_is_refused_in_french(db: Session, world: Any, other: Actor) -> None:
    manager, member = world.actors["manager"], world.actors["member"]
    event = _event(db, world)
    with pytest.raises(InputError, match=r"créneau 4 indisponible refusé : le rendez-vous .* a 3 créneaux"):
        service.register(db, member, event, ParticipantIn(unavailable_slots=[4]))
    service.register(db, member, event, ParticipantIn())
    with pytest.raises(ConflictError, match="déjà inscrite"):
        service.register(db, member, event, ParticipantIn())
    with pytest.raises(InputError, match="elle-même"):
        service.add_wish(db, member, event, WishIn(to_organisation_id=world.org_a))
    with pytest.raises(NotFoundError, match="pas inscrite"):
        service.add_wish(db, member, event, WishIn(to_organisation_id=world.org_free))
    with pytest.raises(PermissionDeniedError, match="autre organisation"):
        service.register(db, other, event, ParticipantIn(organisation_id=world.org_a))
    with pytest.raises(InputError, match="pas encore planifié"):
        service.publish(db, manager, event, PublishIn())
    with pytest.raises(InputError, match="format"):
        service.table_plan_file(db, manager, event, "xlsx")
    with pytest.raises(InputError, match="n'est pas un événement de la structure"):
        service.create_event(
            db,
            manager,
            world.a,
            B2BEventIn(title="X", starts_at=START, slots=1, tables=1, max_meetings=1, event_id=999999),
        )


def test_suggestions_come_from_the_participants(db: Session, world: Any, other: Actor) -> None:
    manager, member = world.actors["manager"], world.actors["member"]
    event = _event(db, world)
    service.add_guest_cluster(db, manager, event, GuestIn(cluster_id=world.b))
    for actor in (member, other, world.actors["member_other"]):
        service.register(db, actor, event, ParticipantIn())
    found = service.suggestions(db, member, event, top=5)
    assert {s.organisation_id for s in found.items} <= {world.org_free, world.org_b}
    assert world.org_a not in {s.organisation_id for s in found.items}
    service.add_wish(db, member, event, WishIn(to_organisation_id=world.org_free))
    after = service.suggestions(db, member, event, top=5)
    assert world.org_free not in {s.organisation_id for s in after.items}
    assert all(s.reasons is not None for s in after.items)


Operation = Callable[[Session, Actor, int, Any], object]
OPERATIONS: dict[str, Operation] = {
    "get_event": lambda db, actor, event, w: service.get_event(db, actor, event),
    "register": lambda db, actor, event, w: service.register(db, actor, event, ParticipantIn()),
    "participants": lambda db, actor, event, w: service.list_participants(db, actor, event),
    "wishes": lambda db, actor, event, w: service.list_wishes(db, actor, event),
    "wish": lambda db, actor, event, w: service.add_wish(
        db, actor, event, WishIn(to_organisation_id=w.org_a)
    ),
    "answer": lambda db, actor, event, w: service.answer_wish(db, actor, event, 1, WishAnswer(accept=False)),
    "suggestions": lambda db, actor, event, w: service.suggestions(db, actor, event),
    "schedule": lambda db, actor, event, w: service.schedule(db, actor, event, ScheduleIn()),
    "publish": lambda db, actor, event, w: service.publish(db, actor, event, PublishIn()),
    "meetings": lambda db, actor, event, w: service.list_meetings(db, actor, event),
    "agenda": lambda db, actor, event, w: service.agenda(db, actor, event, w.org_a),
    "plan": lambda db, actor, event, w: service.table_plan(db, actor, event),
    "guest": lambda db, actor, event, w: service.add_guest_cluster(db, actor, event, GuestIn(cluster_id=w.b)),
    "unavailable": lambda db, actor, event, w: service.set_unavailable(
        db, actor, event, w.org_a, UnavailableIn()
    ),
}


@pytest.mark.parametrize("role", OUTSIDERS)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_other_tenants_find_nothing(db: Session, world: Any, role: str, operation: str) -> None:
    """Every operation on another cluster's B2B event answers "introuvable" to outsiders, the
    guest-less member of another cluster included."""
    manager = world.actors["manager"]
    event = _event(db, world)
    service.register(db, manager, event, ParticipantIn(organisation_id=world.org_a))
    actor = world.actors[role]
    with pytest.raises(NotFoundError, match="introuvable"):
        OPERATIONS[operation](db, actor, event, world)
    with pytest.raises(NotFoundError):
        OPERATIONS[operation](db, world.actors["member_other"], event, world)


MANAGER_ONLY = ("schedule", "publish", "plan", "guest")


@pytest.mark.parametrize("operation", MANAGER_ONLY)
def test_participants_may_not_organise(db: Session, world: Any, operation: str) -> None:
    event = _event(db, world)
    member = world.actors["member"]
    service.register(db, member, event, ParticipantIn())
    with pytest.raises(PermissionDeniedError, match="adhérent"):
        OPERATIONS[operation](db, member, event, world)


def test_the_organiser_lists_its_events_and_a_member_those_open_to_it(db: Session, world: Any) -> None:
    event = _event(db, world)
    assert [e.id for e in service.list_events(db, world.actors["manager"], world.a).items] == [event]
    assert [e.id for e in service.list_events(db, world.actors["member"]).items] == [event]
    assert service.list_events(db, world.actors["member_other"]).total == 0
    # A is a public cluster: another manager knows it exists, and is refused its events
    with pytest.raises(PermissionDeniedError):
        service.list_events(db, world.actors["manager_other"], world.a)
