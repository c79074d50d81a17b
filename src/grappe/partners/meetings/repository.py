"""All SQL of B2B meetings: events, guest clusters, participants, wishes and stored schedules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import aliased

from grappe.kit.repository import Repository
from grappe.partners.meetings.models import (
    B2BEvent,
    B2BGuestCluster,
    B2BMeeting,
    B2BParticipant,
    B2BWish,
    WishStatus,
)
from grappe.registry.models import Organisation


class WishRow(NamedTuple):
    """A wish with the organisations (ids and names) of both sides."""

    wish: B2BWish
    from_organisation: int
    from_name: str
    to_organisation: int
    to_name: str


class MeetingRow(NamedTuple):
    """A stored meeting with the organisations (ids and names) of both sides."""

    meeting: B2BMeeting
    organisation_a: int
    name_a: str
    organisation_b: int
    name_b: str


# The two sides of a wish or a meeting and their organisations, aliased once (building an alias
# per query costs more than the query itself on a busy page).
_SIDE_A, _SIDE_B = aliased(B2BParticipant), aliased(B2BParticipant)
_NAME_A, _NAME_B = aliased(Organisation), aliased(Organisation)


class B2BEventRepository(Repository[B2BEvent]):
    """B2B events with everything attached to them."""

    model = B2BEvent
    what = "rendez-vous d'affaires"

    # --- events ------------------------------------------------------------------------------

    def of_cluster(self, cluster_id: int) -> Select[Any]:
        """A cluster's B2B events, the soonest first."""
        return (
            select(B2BEvent)
            .where(B2BEvent.cluster_id == cluster_id)
            .order_by(B2BEvent.starts_at, B2BEvent.id)
        )

    def open_to(self, organisation_id: int, cluster_ids: Iterable[int]) -> Select[Any]:
        """B2B events an organisation takes part in, or that its clusters organise or are guests of."""
        clusters = list(cluster_ids)
        return (
            select(B2BEvent)
            .where(
                or_(
                    B2BEvent.cluster_id.in_(clusters),
                    B2BEvent.id.in_(
                        select(B2BGuestCluster.b2b_event_id).where(B2BGuestCluster.cluster_id.in_(clusters))
                    ),
                    B2BEvent.id.in_(
                        select(B2BParticipant.b2b_event_id).where(
                            B2BParticipant.organisation_id == organisation_id
                        )
                    ),
                )
            )
            .order_by(B2BEvent.starts_at, B2BEvent.id)
        )

    def participant_counts(self, event_ids: Sequence[int]) -> dict[int, int]:
        """Participants per event (absent: none)."""
        rows = self.session.execute(
            select(B2BParticipant.b2b_event_id, func.count())
            .where(B2BParticipant.b2b_event_id.in_(event_ids))
            .group_by(B2BParticipant.b2b_event_id)
        )
        return {event_id: int(count) for event_id, count in rows}

    # --- guest clusters ----------------------------------------------------------------------

    def guests(self, event_id: int) -> set[int]:
        """The guest clusters of an event."""
        query = select(B2BGuestCluster.cluster_id).where(B2BGuestCluster.b2b_event_id == event_id)
        return set(self.session.scalars(query))

    def add_guest(self, event_id: int, cluster_id: int) -> None:
        if self.session.get(B2BGuestCluster, (event_id, cluster_id)) is None:
            self.session.add(B2BGuestCluster(b2b_event_id=event_id, cluster_id=cluster_id))
            self.flush()

    # --- participants ------------------------------------------------------------------------

    def participant(self, event_id: int, organisation_id: int) -> B2BParticipant | None:
        """An organisation's registration to an event."""
        return self.session.scalar(
            select(B2BParticipant).where(
                B2BParticipant.b2b_event_id == event_id, B2BParticipant.organisation_id == organisation_id
            )
        )

    def participants(self, event_id: int) -> list[tuple[B2BParticipant, str]]:
        """An event's participants with their organisation's name, in registration order."""
        rows = self.session.execute(
            select(B2BParticipant, Organisation.name)
            .join(Organisation, Organisation.id == B2BParticipant.organisation_id)
            .where(B2BParticipant.b2b_event_id == event_id)
            .order_by(B2BParticipant.id)
        )
        return [(participant, name) for participant, name in rows]

    def add_participant(self, participant: B2BParticipant) -> B2BParticipant:
        self.session.add(participant)
        self.flush()
        return participant

    # --- wishes ------------------------------------------------------------------------------

    def _wishes(self) -> Select[B2BWish, int, str, int, str]:
        giver, taker, giver_name, taker_name = _SIDE_A, _SIDE_B, _NAME_A, _NAME_B
        return (
            select(B2BWish, giver.organisation_id, giver_name.name, taker.organisation_id, taker_name.name)
            .join(giver, giver.id == B2BWish.from_id)
            .join(taker, taker.id == B2BWish.to_id)
            .join(giver_name, giver_name.id == giver.organisation_id)
            .join(taker_name, taker_name.id == taker.organisation_id)
        )

    def wishes(self, event_id: int, participant_id: int | None = None) -> list[WishRow]:
        """An event's wishes (those from or to one participant when given), in entry order."""
        query = self._wishes().where(B2BWish.b2b_event_id == event_id)
        if participant_id is not None:
            query = query.where(or_(B2BWish.from_id == participant_id, B2BWish.to_id == participant_id))
        return [WishRow(*row) for row in self.session.execute(query.order_by(B2BWish.id))]

    def wish_row(self, wish_id: int) -> WishRow | None:
        row = self.session.execute(self._wishes().where(B2BWish.id == wish_id)).first()
        return None if row is None else WishRow(*row)

    def wish(self, event_id: int, from_id: int, to_id: int) -> B2BWish | None:
        """The wish of one participant to meet another."""
        return self.session.scalar(
            select(B2BWish).where(
                B2BWish.b2b_event_id == event_id, B2BWish.from_id == from_id, B2BWish.to_id == to_id
            )
        )

    def get_wish(self, wish_id: int) -> B2BWish | None:
        return self.session.get(B2BWish, wish_id)

    def add_wish(self, wish: B2BWish) -> B2BWish:
        self.session.add(wish)
        self.flush()
        return wish

    def wish_counts(self, event_id: int) -> dict[WishStatus, int]:
        """Wishes of an event by status."""
        rows = self.session.execute(
            select(B2BWish.status, func.count())
            .where(B2BWish.b2b_event_id == event_id)
            .group_by(B2BWish.status)
        )
        return {WishStatus(status): int(count) for status, count in rows}

    def accepted_wishes(self, event_id: int) -> list[tuple[int, int, int]]:
        """``(from participant, to participant, priority)`` of the accepted wishes."""
        rows = self.session.execute(
            select(B2BWish.from_id, B2BWish.to_id, B2BWish.priority)
            .where(B2BWish.b2b_event_id == event_id, B2BWish.status == WishStatus.ACCEPTED.value)
            .order_by(B2BWish.id)
        )
        return [(a, b, priority) for a, b, priority in rows]

    # --- schedule ----------------------------------------------------------------------------

    def replace_meetings(self, event_id: int, meetings: Sequence[tuple[int, int, int, int]]) -> None:
        """Replace an event's schedule by ``(slot, table, participant a, participant b)`` rows."""
        self.session.execute(delete(B2BMeeting).where(B2BMeeting.b2b_event_id == event_id))
        self.session.add_all(
            B2BMeeting(b2b_event_id=event_id, slot=s, table_number=t, participant_a_id=a, participant_b_id=b)
            for s, t, a, b in meetings
        )
        self.flush()

    def meetings(self, event_id: int, participant_id: int | None = None) -> list[MeetingRow]:
        """An event's meetings (one participant's when given) by slot then table."""
        side_a, side_b, name_a, name_b = _SIDE_A, _SIDE_B, _NAME_A, _NAME_B
        query = (
            select(B2BMeeting, side_a.organisation_id, name_a.name, side_b.organisation_id, name_b.name)
            .join(side_a, side_a.id == B2BMeeting.participant_a_id)
            .join(side_b, side_b.id == B2BMeeting.participant_b_id)
            .join(name_a, name_a.id == side_a.organisation_id)
            .join(name_b, name_b.id == side_b.organisation_id)
            .where(B2BMeeting.b2b_event_id == event_id)
        )
        if participant_id is not None:
            query = query.where(
                or_(
                    B2BMeeting.participant_a_id == participant_id,
                    B2BMeeting.participant_b_id == participant_id,
                )
            )
        query = query.order_by(B2BMeeting.slot, B2BMeeting.table_number)
        return [MeetingRow(*row) for row in self.session.execute(query)]

    def organisation_keys(self) -> list[tuple[int, str, str | None]]:
        """Every stored organisation's id, name and name key (to read a file's names)."""
        rows = self.session.execute(
            select(Organisation.id, Organisation.name, Organisation.name_key).order_by(Organisation.id)
        )
        return [(i, name, key) for i, name, key in rows]

    # --- figures -----------------------------------------------------------------------------

    def published_of_year(self, cluster_id: int, start: dt.datetime, end: dt.datetime) -> list[B2BEvent]:
        """A cluster's published B2B events starting within ``[start, end)``."""
        return list(
            self.session.scalars(
                select(B2BEvent)
                .where(
                    B2BEvent.cluster_id == cluster_id,
                    B2BEvent.published.is_(True),
                    B2BEvent.starts_at >= start,
                    B2BEvent.starts_at < end,
                )
                .order_by(B2BEvent.id)
            )
        )
