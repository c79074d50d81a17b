"""What users do with B2B meetings: organise an event, register, wish (helped by the partner
search), answer wishes, schedule with the solver (compared with greedy), publish, read agendas
and the table plan, and count the meetings for evaluation.

Every operation checks the actor's rights through :mod:`grappe.partners.meetings.policy`; the
SQL lives in :mod:`grappe.partners.meetings.repository`; the solver in
:mod:`grappe.partners.schedule`; the caller's unit of work commits.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from grappe.errors import ConflictError, InputError, NotFoundError
from grappe.kit.repository import check_page
from grappe.kit.tables import Issue, read_rows
from grappe.partners import schedule as solver
from grappe.partners.meetings import agendas, policy
from grappe.partners.meetings.models import (
    B2BEvent,
    B2BParticipant,
    B2BWish,
    ScheduleMethod,
    WishStatus,
)
from grappe.partners.meetings.repository import B2BEventRepository, MeetingRow, WishRow
from grappe.partners.meetings.schemas import (
    MAX_PRIORITY,
    Agenda,
    AgendaLine,
    B2BEventIn,
    B2BEventOut,
    B2BEventPage,
    GuestIn,
    ImportOut,
    MeetingFigures,
    MeetingOut,
    MeetingPage,
    ParticipantIn,
    ParticipantOut,
    ParticipantPage,
    PublishIn,
    ScheduleIn,
    ScheduleOut,
    SuggestionOut,
    SuggestionPage,
    UnavailableIn,
    WishAnswer,
    WishIn,
    WishOut,
    WishPage,
)
from grappe.registry.models import Role, utcnow
from grappe.registry.policy import (
    Access,
    Actor,
    cluster_access,
    member_cluster_ids,
    require_cluster,
)


def _event_out(events: B2BEventRepository, event: B2BEvent, participants: int | None = None) -> B2BEventOut:
    if participants is None:
        participants = events.participant_counts([event.id]).get(event.id, 0)
    return B2BEventOut(
        id=event.id,
        cluster_id=event.cluster_id,
        event_id=event.event_id,
        title=event.title,
        place=event.place,
        starts_at=event.starts_at,
        ends_at=event.slot_end(event.slots),
        slot_minutes=event.slot_minutes,
        slots=event.slots,
        tables=event.tables,
        max_meetings=event.max_meetings,
        participants=participants,
        guest_clusters=sorted(events.guests(event.id)),
        published=event.published,
        scheduled_at=event.scheduled_at,
        method=None if event.method is None else ScheduleMethod(event.method),
        satisfied=event.satisfied,
        greedy_satisfied=event.greedy_satisfied,
        bound=event.bound,
    )


def _load(
    session: Session, actor: Actor, event_id: int, need: Access, action: str, *, lock: bool = False
) -> tuple[B2BEventRepository, B2BEvent, Access]:
    events = B2BEventRepository(session)
    event = events.get(event_id, lock=lock)
    return events, event, policy.require_event(session, actor, event, need, action)


# --- events --------------------------------------------------------------------------------------


def create_event(session: Session, actor: Actor, cluster_id: int, data: B2BEventIn) -> B2BEventOut:
    """Create a B2B event of a cluster (its managers).

    Raises
    ------
    InputError
        A collective event that is not the cluster's.
    """
    require_cluster(session, actor, cluster_id, Access.MANAGE, "organiser des rendez-vous d'affaires")
    if data.event_id is not None:
        from grappe.cooperation.actions import service as actions

        try:
            found = actions.get_event(session, actor, data.event_id)
        except NotFoundError:
            found = None
        if found is None or found.cluster_id != cluster_id:
            raise InputError(
                f"rendez-vous refusé : l'événement {data.event_id} n'est pas un événement de la structure "
                f"{cluster_id}"
            )
    events = B2BEventRepository(session)
    event = events.add(B2BEvent(cluster_id=cluster_id, **data.model_dump(), published=False))
    events.flush()
    return _event_out(events, event, 0)


def list_events(
    session: Session, actor: Actor, cluster_id: int | None = None, *, limit: int = 100, offset: int = 0
) -> B2BEventPage:
    """B2B events: a cluster's for its managers (``cluster_id``); without it, for a member user,
    the events its organisation may register to or takes part in.

    Raises
    ------
    InputError
        A manager or administrator who names no cluster.
    """
    events = B2BEventRepository(session)
    if cluster_id is not None and cluster_access(session, actor, cluster_id) is Access.MANAGE:
        query = events.of_cluster(cluster_id)
    elif actor.role is Role.MEMBER and actor.organisation_id is not None:
        clusters = member_cluster_ids(session, actor.organisation_id)
        if cluster_id is not None:
            require_cluster(session, actor, cluster_id, Access.DIRECTORY, "lister les rendez-vous d'affaires")
            clusters &= {cluster_id}
        query = events.open_to(actor.organisation_id, clusters)
        if cluster_id is not None:
            query = query.where(B2BEvent.cluster_id == cluster_id)
    elif cluster_id is None:
        raise InputError("précisez la structure (cluster_id) dont lister les rendez-vous d'affaires")
    else:
        require_cluster(session, actor, cluster_id, Access.MANAGE, "lister les rendez-vous d'affaires")
        query = events.of_cluster(cluster_id)
    total, rows = events.page(query, limit, offset)
    counts = events.participant_counts([event.id for event in rows])
    return B2BEventPage(total=total, items=[_event_out(events, e, counts.get(e.id, 0)) for e in rows])


def get_event(session: Session, actor: Actor, event_id: int) -> B2BEventOut:
    """One B2B event (its organisers, its participants, the members who may register)."""
    events, event, _ = _load(session, actor, event_id, Access.SEE, "lire le rendez-vous d'affaires")
    return _event_out(events, event)


def add_guest_cluster(session: Session, actor: Actor, event_id: int, data: GuestIn) -> B2BEventOut:
    """Open the event to the current members of another cluster (its organisers; a cluster they know)."""
    events, event, _ = _load(session, actor, event_id, Access.MANAGE, "inviter une structure")
    require_cluster(session, actor, data.cluster_id, Access.SEE, "inviter une structure")
    if data.cluster_id == event.cluster_id:
        raise InputError(f"structure {data.cluster_id} : c'est la structure organisatrice")
    events.add_guest(event.id, data.cluster_id)
    return _event_out(events, event)


# --- participants --------------------------------------------------------------------------------


def _slots(event: B2BEvent, slots: Sequence[int]) -> str:
    """The unavailabilities as stored, refused beyond the event's slots."""
    beyond = sorted(s for s in set(slots) if s > event.slots)
    if beyond:
        raise InputError(
            f"créneau {beyond[0]} indisponible refusé : le rendez-vous {event.id} a {event.slots} créneaux"
        )
    return " ".join(str(s) for s in sorted(set(slots)))


def _participant_out(participant: B2BParticipant, name: str, shown: bool) -> ParticipantOut:
    return ParticipantOut(
        id=participant.id,
        organisation_id=participant.organisation_id,
        organisation_name=name,
        unavailable_slots=participant.unavailable_slots if shown else None,
    )


def register(session: Session, actor: Actor, event_id: int, data: ParticipantIn) -> ParticipantOut:
    """Register an organisation: a member its own (a member of the organising or a guest
    cluster), the organiser any organisation it reads.

    Raises
    ------
    ConflictError
        The organisation is already registered.
    InputError
        An unavailable slot beyond the event's slots.
    """
    events, event, access = _load(session, actor, event_id, Access.SEE, "s'inscrire", lock=True)
    organisation_id = policy.acting_for(session, actor, access, data.organisation_id, "inscrire")
    if events.participant(event.id, organisation_id) is not None:
        raise ConflictError(
            f"inscription refusée : organisation {organisation_id} déjà inscrite au rendez-vous {event.id}"
        )
    unavailable = _slots(event, data.unavailable_slots)
    participant = events.add_participant(
        B2BParticipant(b2b_event_id=event.id, organisation_id=organisation_id, unavailable=unavailable)
    )
    name = next(n for p, n in events.participants(event.id) if p.id == participant.id)
    return _participant_out(participant, name, True)


def _participant_of(events: B2BEventRepository, event: B2BEvent, organisation_id: int) -> B2BParticipant:
    found = events.participant(event.id, organisation_id)
    if found is None:
        raise NotFoundError(
            f"organisation {organisation_id} : pas inscrite au rendez-vous d'affaires {event.id}"
        )
    return found


def set_unavailable(
    session: Session, actor: Actor, event_id: int, organisation_id: int | None, data: UnavailableIn
) -> ParticipantOut:
    """Replace a participant's unavailable slots (the participant itself or the organiser)."""
    events, event, access = _load(session, actor, event_id, Access.READ, "déclarer ses indisponibilités")
    organisation_id = policy.acting_for(
        session, actor, access, organisation_id, "déclarer des indisponibilités", registered=True
    )
    participant = _participant_of(events, event, organisation_id)
    participant.unavailable = _slots(event, data.unavailable_slots)
    events.flush()
    name = next(n for p, n in events.participants(event.id) if p.id == participant.id)
    return _participant_out(participant, name, True)


def list_participants(
    session: Session, actor: Actor, event_id: int, *, limit: int = 100, offset: int = 0
) -> ParticipantPage:
    """An event's participants: every detail for the organiser; the names (and its own
    unavailabilities) for a participant."""
    check_page(limit, offset)
    events, event, access = _load(session, actor, event_id, Access.READ, "lister les participants")
    rows = events.participants(event.id)
    mine = actor.organisation_id
    items = [
        _participant_out(p, name, access is Access.MANAGE or p.organisation_id == mine)
        for p, name in rows[offset : offset + limit]
    ]
    return ParticipantPage(total=len(rows), items=items)


# --- wishes --------------------------------------------------------------------------------------


def _wish_out(row: WishRow) -> WishOut:
    return WishOut(
        id=row.wish.id,
        from_organisation_id=row.from_organisation,
        from_name=row.from_name,
        to_organisation_id=row.to_organisation,
        to_name=row.to_name,
        priority=row.wish.priority,
        status=WishStatus(row.wish.status),
    )


def add_wish(session: Session, actor: Actor, event_id: int, data: WishIn) -> WishOut:
    """Wish to meet another participant (a participant for itself, the organiser for anyone).

    A wish the other side wished too is accepted at once, both ways (mutual); one the organiser
    records is accepted on entry; the others wait for the addressee's answer. Wishing again
    changes the priority.

    Raises
    ------
    InputError
        A wish to meet oneself.
    NotFoundError
        One side is not a participant.
    """
    events, event, access = _load(session, actor, event_id, Access.READ, "exprimer un souhait")
    source = policy.acting_for(
        session, actor, access, data.from_organisation_id, "exprimer un souhait", registered=True
    )
    if source == data.to_organisation_id:
        raise InputError(f"souhait refusé : l'organisation {source} ne peut pas se rencontrer elle-même")
    giver = _participant_of(events, event, source)
    taker = _participant_of(events, event, data.to_organisation_id)
    wish = events.wish(event.id, giver.id, taker.id)
    if wish is None:
        wish = events.add_wish(
            B2BWish(b2b_event_id=event.id, from_id=giver.id, to_id=taker.id, priority=data.priority)
        )
        if access is Access.MANAGE:
            wish.status = WishStatus.ACCEPTED.value
    else:
        wish.priority = data.priority
        if access is Access.MANAGE and wish.status == WishStatus.PENDING.value:
            wish.status = WishStatus.ACCEPTED.value  # the organiser's word makes it count
    back = events.wish(event.id, taker.id, giver.id)
    if back is not None and WishStatus.REFUSED.value not in (back.status, wish.status):
        wish.status = back.status = WishStatus.ACCEPTED.value
    events.flush()
    row = events.wish_row(wish.id)
    assert row is not None
    return _wish_out(row)


def list_wishes(
    session: Session, actor: Actor, event_id: int, *, limit: int = 100, offset: int = 0
) -> WishPage:
    """An event's wishes: all for the organiser, those from or to its organisation for a participant."""
    check_page(limit, offset)
    events, event, access = _load(session, actor, event_id, Access.READ, "lister les souhaits")
    mine = None
    if access is not Access.MANAGE:
        assert actor.organisation_id is not None
        mine = _participant_of(events, event, actor.organisation_id).id
    rows = events.wishes(event.id, mine)
    return WishPage(total=len(rows), items=[_wish_out(r) for r in rows[offset : offset + limit]])


def answer_wish(session: Session, actor: Actor, event_id: int, wish_id: int, data: WishAnswer) -> WishOut:
    """Accept or refuse a wish addressed to one's organisation (its users, or the organiser).

    Raises
    ------
    NotFoundError
        A wish of another event, or one the actor may not read.
    PermissionDeniedError
        The wish was sent by the actor's own organisation: the addressee answers.
    """
    events, event, access = _load(session, actor, event_id, Access.READ, "répondre à un souhait")
    row = events.wish_row(wish_id)
    visible = (
        row is not None
        and row.wish.b2b_event_id == event.id
        and (access is Access.MANAGE or actor.organisation_id in (row.from_organisation, row.to_organisation))
    )
    if row is None or not visible:
        raise NotFoundError(f"souhait {wish_id} introuvable")
    if access is not Access.MANAGE and actor.organisation_id != row.to_organisation:
        raise policy.deny(actor, f"répondre au souhait {wish_id} (c'est au destinataire de répondre)")
    row.wish.status = (WishStatus.ACCEPTED if data.accept else WishStatus.REFUSED).value
    events.flush()
    return _wish_out(row)


def suggestions(
    session: Session, actor: Actor, event_id: int, organisation_id: int | None = None, *, top: int = 5
) -> SuggestionPage:
    """The participants the partner search suggests to a participant, best first, with their
    reasons, leaving out itself and those it already wished to meet."""
    from grappe.partners.search import Need
    from grappe.partners.service import build_index

    if not 1 <= top <= 50:
        raise InputError(f"top={top} : un entier de 1 à 50 est attendu")
    events, event, access = _load(session, actor, event_id, Access.READ, "lire les suggestions")
    source = policy.acting_for(
        session, actor, access, organisation_id, "lire les suggestions", registered=True
    )
    me = _participant_of(events, event, source)
    participants = {p.id: p.organisation_id for p, _ in events.participants(event.id)}
    wished = {participants[r.wish.to_id] for r in events.wishes(event.id, me.id) if r.wish.from_id == me.id}
    among = frozenset(participants.values()) - wished - {source}
    if not among:
        return SuggestionPage(total=0, items=[])
    found = build_index(session).index.search(Need(organisation=source, among=among), top)
    items = [
        SuggestionOut(organisation_id=s.organisation, name=s.name, score=s.score, reasons=list(s.reasons))
        for s in found
    ]
    return SuggestionPage(total=len(items), items=items)


def import_files(
    session: Session, actor: Actor, event_id: int, participants: Path, wishes: Path, *, strict: bool = False
) -> tuple[ImportOut, list[Issue]]:
    """Register the participants and record the wishes of the batch files (the organiser, who
    keeps them in a spreadsheet; CONTRACTS "Batch layouts", B2B). A participant is a stored
    organisation's name (ignoring case, accents and repeated spaces) or id; a registered one
    gets its unavailabilities replaced; wishes are accepted on entry, as the organiser's are.
    Refused rows come back as issues and the others are stored; with ``strict``, nothing is
    stored when a row is refused.

    Raises
    ------
    InputError
        A file unreadable or without its columns; with ``strict``, any refused row.
    """
    from grappe.partners.schedule_files import read_event
    from grappe.registry.identifiers import name_key

    events, event, _ = _load(session, actor, event_id, Access.MANAGE, "importer des participants")
    batch, issues = read_event(
        participants, wishes, slots=event.slots, tables=event.tables, max_meetings=event.max_meetings
    )
    by_key: dict[str, list[int]] = {}
    ids: set[int] = set()
    for organisation_id, name, key in events.organisation_keys():
        by_key.setdefault(key or name_key(name), []).append(organisation_id)
        ids.add(organisation_id)
    found: dict[str, int] = {}
    # the lines of the kept rows, for the messages (read_event keeps the names, not the lines)
    lines = {r.values["participant"]: r.line for r in reversed(read_rows(participants, ("participant",)))}
    wish_lines = {
        (r.values["from"], r.values["to"]): r.line for r in reversed(read_rows(wishes, ("from", "to")))
    }
    for name in batch.participants:
        line = lines[name]
        matches = [int(name)] if name.isdigit() and int(name) in ids else by_key.get(name_key(name), [])
        if len(matches) != 1:
            reason = (
                "aucune organisation enregistrée de ce nom ou de ce n°"
                if not matches
                else f"nom porté par {len(matches)} organisations : donner le n° de l'une d'elles"
            )
            issues.append(Issue(participants, line, "participant", name, reason))
            continue
        found[name] = matches[0]
    chosen: list[tuple[int, int, int]] = []
    for (a, b), priority in batch.wishes.items():
        if a in found and b in found and priority <= MAX_PRIORITY:
            chosen.append((found[a], found[b], priority))
        elif priority > MAX_PRIORITY:
            reason = f"priorité de 1 à {MAX_PRIORITY} attendue"
            issues.append(Issue(wishes, wish_lines[(a, b)], "priority", str(priority), reason))
    if strict and issues:
        raise InputError(
            f"import refusé (--strict) : {len(issues)} ligne(s) écartée(s), rien n'est enregistré"
        )
    registered = updated = 0
    for name, organisation_id in found.items():
        away = sorted(batch.unavailable.get(name, frozenset()))
        if events.participant(event.id, organisation_id) is None:
            register(
                session,
                actor,
                event.id,
                ParticipantIn(organisation_id=organisation_id, unavailable_slots=away),
            )
            registered += 1
        else:
            set_unavailable(session, actor, event.id, organisation_id, UnavailableIn(unavailable_slots=away))
            updated += 1
    for source, target, priority in chosen:
        data = WishIn(from_organisation_id=source, to_organisation_id=target, priority=priority)
        add_wish(session, actor, event.id, data)
    report = ImportOut(b2b_event_id=event.id, registered=registered, updated=updated, wishes=len(chosen))
    return report, issues


# --- schedule ------------------------------------------------------------------------------------


def schedule(session: Session, actor: Actor, event_id: int, data: ScheduleIn) -> ScheduleOut:
    """Schedule the accepted wishes and store the result in place of the previous one (the
    organiser). The solver's schedule is compared with greedy's in the same run and the better
    one is stored; the schedule goes back to unpublished until the organiser publishes it.
    """
    events, event, _ = _load(session, actor, event_id, Access.MANAGE, "planifier les rendez-vous", lock=True)
    participants = events.participants(event.id)
    wishes = events.accepted_wishes(event.id)
    problem = solver.Event(
        participants=tuple(str(p.id) for p, _ in participants),
        unavailable={str(p.id): frozenset(p.unavailable_slots) for p, _ in participants},
        wishes={(str(a), str(b)): priority for a, b, priority in wishes},
        slots=event.slots,
        tables=event.tables,
        max_meetings=event.max_meetings,
    )
    started = time.perf_counter()
    greedy = solver.greedy_schedule(problem)
    chosen, method = greedy, ScheduleMethod.GREEDY
    if data.method is ScheduleMethod.OPTIMAL:
        best = solver.optimal_schedule(problem, time_limit=data.time_limit)
        # out of time before HiGHS proved a bound: the LP relaxation's still bounds the gap
        bound = best.bound if best.bound is not None else solver.lp_bound(problem)
        if best.satisfied >= greedy.satisfied:
            chosen, method = best, ScheduleMethod.OPTIMAL
    else:
        bound = solver.lp_bound(problem)
    events.replace_meetings(
        event.id,
        [(m.slot, m.table, int(m.participant_a), int(m.participant_b)) for m in chosen.meetings],
    )
    event.published = False
    event.scheduled_at = utcnow()
    event.method = method.value
    event.satisfied = chosen.satisfied
    event.greedy_satisfied = greedy.satisfied
    event.bound = bound
    events.flush()
    counts = events.wish_counts(event.id)
    return ScheduleOut(
        b2b_event_id=event.id,
        method=method,
        meetings=len(chosen.meetings),
        satisfied=chosen.satisfied,
        greedy_satisfied=greedy.satisfied,
        bound=bound,
        gap=None if bound is None else solver.gap(chosen.satisfied, bound),
        optimal=chosen.optimal,
        seconds=time.perf_counter() - started,
        accepted_wishes=len(wishes),
        pending_wishes=counts.get(WishStatus.PENDING, 0),
    )


def publish(session: Session, actor: Actor, event_id: int, data: PublishIn) -> B2BEventOut:
    """Publish the stored schedule to the participants, or withdraw it (the organiser).

    Raises
    ------
    InputError
        Nothing scheduled yet.
    """
    events, event, _ = _load(session, actor, event_id, Access.MANAGE, "publier le planning")
    if data.published and event.scheduled_at is None:
        raise InputError(f"publication refusée : le rendez-vous {event.id} n'est pas encore planifié")
    event.published = data.published
    events.flush()
    return _event_out(events, event)


def _meeting_out(event: B2BEvent, row: MeetingRow) -> MeetingOut:
    m = row.meeting
    return MeetingOut(
        slot=m.slot,
        table=m.table_number,
        starts_at=event.slot_start(m.slot),
        ends_at=event.slot_end(m.slot),
        organisation_a_id=row.organisation_a,
        organisation_a=row.name_a,
        organisation_b_id=row.organisation_b,
        organisation_b=row.name_b,
    )


def table_plan(session: Session, actor: Actor, event_id: int) -> tuple[B2BEventOut, list[MeetingOut]]:
    """The whole stored schedule, by slot then table: the organiser's table plan."""
    events, event, _ = _load(session, actor, event_id, Access.MANAGE, "lire le plan de tables")
    return _event_out(events, event), [_meeting_out(event, row) for row in events.meetings(event.id)]


def list_meetings(
    session: Session, actor: Actor, event_id: int, *, limit: int = 100, offset: int = 0
) -> MeetingPage:
    """The stored meetings: all for the organiser, its own for a participant once published."""
    check_page(limit, offset)
    events, event, access = _load(session, actor, event_id, Access.READ, "lire les rendez-vous")
    mine = None
    if access is not Access.MANAGE:
        assert actor.organisation_id is not None
        mine = _participant_of(events, event, actor.organisation_id).id
        if not event.published:
            return MeetingPage(total=0, items=[])
    rows = events.meetings(event.id, mine)
    return MeetingPage(total=len(rows), items=[_meeting_out(event, r) for r in rows[offset : offset + limit]])


def agenda(session: Session, actor: Actor, event_id: int, organisation_id: int | None = None) -> Agenda:
    """A participant's agenda: its own for a participant once published, any for the organiser.

    Raises
    ------
    InputError
        The schedule is not published yet (participants).
    """
    events, event, access = _load(session, actor, event_id, Access.READ, "lire l'agenda")
    source = policy.acting_for(session, actor, access, organisation_id, "lire l'agenda", registered=True)
    me = _participant_of(events, event, source)
    if access is not Access.MANAGE and not event.published:
        raise InputError(
            f"agenda indisponible : le planning du rendez-vous {event.id} n'est pas encore publié"
        )
    names = {p.organisation_id: n for p, n in events.participants(event.id)}
    lines = []
    for row in events.meetings(event.id, me.id):
        partner = row.organisation_b if row.organisation_a == source else row.organisation_a
        lines.append(
            AgendaLine(
                slot=row.meeting.slot,
                table=row.meeting.table_number,
                starts_at=event.slot_start(row.meeting.slot),
                ends_at=event.slot_end(row.meeting.slot),
                partner_id=partner,
                partner=names[partner],
            )
        )
    return Agenda(
        b2b_event_id=event.id,
        title=event.title,
        place=event.place,
        organisation_id=source,
        organisation=names[source],
        lines=lines,
    )


# --- evaluation ----------------------------------------------------------------------------------


def meeting_figures(session: Session, cluster_id: int, year: int) -> MeetingFigures:
    """B2B figures of a cluster's published events starting in ``year`` (for evaluation, no
    actor: the caller checks its own right on the cluster). A meeting is inter-cluster when its
    two organisations are not members of a common cluster on the event's day."""
    events = B2BEventRepository(session)
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    published = events.published_of_year(cluster_id, start, start.replace(year=year + 1))
    counts = events.participant_counts([e.id for e in published])
    meetings = inter = satisfied = 0
    for event in published:
        day = event.starts_at.date()
        clusters: dict[int, set[int]] = {}
        for row in events.meetings(event.id):
            for side in (row.organisation_a, row.organisation_b):
                if side not in clusters:
                    clusters[side] = member_cluster_ids(session, side, day)
            meetings += 1
            inter += not (clusters[row.organisation_a] & clusters[row.organisation_b])
        satisfied += event.satisfied or 0
    return MeetingFigures(
        cluster_id=cluster_id,
        year=year,
        events=len(published),
        participants=sum(counts.values()),
        meetings=meetings,
        inter_cluster_meetings=inter,
        satisfied=satisfied,
    )


# --- printable files -----------------------------------------------------------------------------


def agenda_pdf(session: Session, actor: Actor, event_id: int, organisation_id: int | None = None) -> bytes:
    """A participant's agenda as PDF (who may read it: :func:`agenda`)."""
    found = agenda(session, actor, event_id, organisation_id)
    return agendas.agenda_pdf(get_event(session, actor, event_id), [found])


def agenda_ics(session: Session, actor: Actor, event_id: int, organisation_id: int | None = None) -> bytes:
    """A participant's agenda as an iCalendar file (who may read it: :func:`agenda`)."""
    found = agenda(session, actor, event_id, organisation_id)
    return agendas.agenda_calendar(get_event(session, actor, event_id), found, utcnow())


def all_agendas_pdf(session: Session, actor: Actor, event_id: int) -> bytes:
    """Every participant's agenda in one PDF, one page each (the organiser, to print them)."""
    event, _ = table_plan(session, actor, event_id)
    participants = B2BEventRepository(session).participants(event_id)
    found = [agenda(session, actor, event_id, p.organisation_id) for p, _ in participants]
    return agendas.agenda_pdf(event, found)


def table_plan_file(session: Session, actor: Actor, event_id: int, file_format: str) -> bytes:
    """The table plan as ``pdf`` or ``csv`` (the organiser).

    Raises
    ------
    InputError
        Another format.
    """
    if file_format not in {"pdf", "csv"}:
        raise InputError(f"format {file_format!r} non pris en charge pour le plan de tables (pdf ou csv)")
    event, meetings = table_plan(session, actor, event_id)
    if file_format == "pdf":
        return agendas.plan_pdf(event, meetings)
    return agendas.plan_csv(meetings).encode()
