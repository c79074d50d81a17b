"""Inputs and outputs of the B2B meetings services (pydantic), shared by the CLI, the API and the pages."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final

from pydantic import Field

from grappe.cooperation.actions.schemas import Moment
from grappe.partners.meetings.models import (
    B2BEvent,
    B2BMeeting,
    B2BParticipant,
    B2BWish,
    ScheduleMethod,
    WishStatus,
)
from grappe.registry.bounds import Int, Text
from grappe.registry.schemas import Schema

MAX_SLOTS: Final = 100
"""Slots of one event at most (a slot number is written into the unavailabilities' column)."""
MAX_TABLES: Final = 1000
MAX_PRIORITY: Final = 10
MIN_TIME_LIMIT: Final = 0.1
MAX_TIME_LIMIT: Final = 600.0
"""Seconds the solver may be given, at least and at most, by one request."""
Id = Annotated[int, Int(B2BParticipant.organisation_id, ge=1)]
#: A slot number (from 1), as the meetings' ``slot`` column holds it.
Slot = Annotated[int, Int(B2BMeeting.slot, ge=1, le=MAX_SLOTS)]


class B2BEventIn(Schema):
    """A B2B event to create: ``slots`` consecutive slots of ``slot_minutes`` from ``starts_at``
    (French local time when written without a time zone), ``tables`` meetings at once, each
    participant meeting ``max_meetings`` others at most; ``event_id``: the cluster's collective
    event it is part of, if any."""

    title: Annotated[str, Text(B2BEvent.title, min_length=1)]
    starts_at: Moment
    slots: Annotated[int, Int(B2BEvent.slots, ge=1, le=MAX_SLOTS)]
    tables: Annotated[int, Int(B2BEvent.tables, ge=1, le=MAX_TABLES)]
    max_meetings: Annotated[int, Int(B2BEvent.max_meetings, ge=1, le=MAX_SLOTS)]
    slot_minutes: Annotated[int, Int(B2BEvent.slot_minutes, ge=5, le=240)] = 20
    place: Annotated[str, Text(B2BEvent.place)] | None = None
    event_id: Annotated[int, Int(B2BEvent.event_id, ge=1)] | None = None


class B2BEventOut(Schema):
    """A B2B event as read back, with its participants and what is known of its schedule."""

    id: int
    cluster_id: int
    event_id: int | None
    title: str
    place: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    slot_minutes: int
    slots: int
    tables: int
    max_meetings: int
    participants: int
    guest_clusters: list[int]
    published: bool
    scheduled_at: dt.datetime | None
    method: ScheduleMethod | None
    satisfied: int | None
    greedy_satisfied: int | None
    bound: float | None


class B2BEventPage(Schema):
    """A page of B2B events."""

    total: int
    items: list[B2BEventOut]


class GuestIn(Schema):
    """A cluster whose current members may register to the event too (interclustering)."""

    cluster_id: Annotated[int, Int(B2BEvent.cluster_id, ge=1)]


class ParticipantIn(Schema):
    """A registration: the organisation (a member's own by default) and the slots it cannot attend."""

    organisation_id: Id | None = None
    unavailable_slots: Annotated[list[Slot], Field(max_length=MAX_SLOTS)] = Field(default_factory=list)


class UnavailableIn(Schema):
    """The slots a participant cannot attend (replacing the ones given before)."""

    unavailable_slots: Annotated[list[Slot], Field(max_length=MAX_SLOTS)] = Field(default_factory=list)


class ParticipantOut(Schema):
    """A participant; its unavailabilities show to the organiser and to itself only (else None)."""

    id: int
    organisation_id: int
    organisation_name: str
    unavailable_slots: list[int] | None


class ParticipantPage(Schema):
    """A page of participants."""

    total: int
    items: list[ParticipantOut]


class WishIn(Schema):
    """A wish to meet another participant; ``from_organisation_id``: the wishing one (a member's
    own by default, any participant for the organiser)."""

    to_organisation_id: Id
    priority: Annotated[int, Int(B2BWish.priority, ge=1, le=MAX_PRIORITY)] = 1
    from_organisation_id: Id | None = None


class WishAnswer(Schema):
    """The addressee's answer to a wish."""

    accept: bool


class WishOut(Schema):
    """A wish between two participants (organisations)."""

    id: int
    from_organisation_id: int
    from_name: str
    to_organisation_id: int
    to_name: str
    priority: int
    status: WishStatus


class WishPage(Schema):
    """A page of wishes."""

    total: int
    items: list[WishOut]


class SuggestionOut(Schema):
    """A participant the partner search suggests meeting, with its score and French reasons."""

    organisation_id: int
    name: str
    score: float
    reasons: list[str]


class SuggestionPage(Schema):
    """Suggestions, best first."""

    total: int
    items: list[SuggestionOut]


class ScheduleIn(Schema):
    """How to schedule: the solver (HiGHS, compared with greedy in the same run) or greedy alone."""

    method: ScheduleMethod = ScheduleMethod.OPTIMAL
    time_limit: Annotated[
        float, Field(ge=MIN_TIME_LIMIT, le=MAX_TIME_LIMIT, allow_inf_nan=False)
    ] = 60.0


class ScheduleOut(Schema):
    """What a scheduling run stored: its meetings and satisfied priorities against greedy's, the
    bound proven on the optimum and the gap to it, the wishes still waiting for an answer (left
    out)."""

    b2b_event_id: int
    method: ScheduleMethod
    meetings: int
    satisfied: int
    greedy_satisfied: int
    bound: float | None
    gap: float | None
    optimal: bool
    seconds: float
    accepted_wishes: int
    pending_wishes: int


class MeetingOut(Schema):
    """One meeting of a schedule."""

    slot: int
    table: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    organisation_a_id: int
    organisation_a: str
    organisation_b_id: int
    organisation_b: str


class MeetingPage(Schema):
    """A page of meetings, by slot then table."""

    total: int
    items: list[MeetingOut]


class AgendaLine(Schema):
    """One meeting of a participant's agenda."""

    slot: int
    table: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    partner_id: int
    partner: str


class Agenda(Schema):
    """A participant's agenda of one B2B event."""

    b2b_event_id: int
    title: str
    place: str | None
    organisation_id: int
    organisation: str
    lines: list[AgendaLine]


class PublishIn(Schema):
    """Publish the stored schedule to the participants (or withdraw it)."""

    published: bool = True


class MeetingFigures(Schema):
    """B2B figures of a cluster's published events of a year, for evaluation: meetings between
    organisations that share no cluster on the event's day count as inter-cluster."""

    cluster_id: int
    year: int
    events: int
    participants: int
    meetings: int
    inter_cluster_meetings: int
    satisfied: int


class ImportOut(Schema):
    """What an import of participants and wishes stored."""

    b2b_event_id: int
    registered: int
    updated: int
    wishes: int
