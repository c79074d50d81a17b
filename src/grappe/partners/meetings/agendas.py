"""Printable agendas and table plans of a B2B event: PDF (WeasyPrint, from a Jinja2 template),
ICS (iCalendar, RFC 5545) and CSV. No SQL: the service gives what is printed."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from grappe.partners.meetings.schemas import Agenda, B2BEventOut, MeetingOut

if TYPE_CHECKING:
    from jinja2 import Template

LOCAL_TIME: Final = ZoneInfo("Europe/Paris")
PRODUCT: Final = "-//grappe//rendez-vous d'affaires//FR"
PDF: Final = "application/pdf"
ICS: Final = "text/calendar; charset=utf-8"
CSV: Final = "text/csv; charset=utf-8"
#: The batch schedule's columns (CONTRACTS "Batch layouts", B2B), then when each slot runs.
PLAN_COLUMNS: Final = ("slot", "table", "participant_a", "participant_b", "starts_at", "ends_at")


def clock(moment: dt.datetime) -> str:
    """A moment's French local time of day: ``09:20``."""
    return moment.astimezone(LOCAL_TIME).strftime("%H:%M")


def local_day(moment: dt.datetime) -> dt.date:
    """A moment's French local date."""
    return moment.astimezone(LOCAL_TIME).date()


def day(moment: dt.datetime) -> str:
    """A moment's French local date: ``10/12/2026``."""
    return moment.astimezone(LOCAL_TIME).strftime("%d/%m/%Y")


def agenda_pdf(event: B2BEventOut, agendas: Sequence[Agenda]) -> bytes:
    """One PDF holding the agendas in order, each on its own page."""
    from weasyprint import HTML

    html = _template("agenda.html").render(event=event, agendas=agendas, clock=clock, day=day)
    return bytes(HTML(string=html).write_pdf())


def plan_pdf(event: B2BEventOut, meetings: Sequence[MeetingOut]) -> bytes:
    """The table plan: per slot, each table with its pair."""
    from weasyprint import HTML

    by_slot: dict[int, list[MeetingOut]] = {}
    for meeting in meetings:
        by_slot.setdefault(meeting.slot, []).append(meeting)
    html = _template("plan.html").render(event=event, slots=sorted(by_slot.items()), clock=clock, day=day)
    return bytes(HTML(string=html).write_pdf())


def plan_rows(meetings: Sequence[MeetingOut]) -> list[tuple[object, ...]]:
    """The table plan's rows, columns :data:`PLAN_COLUMNS` (participants by their organisation's
    name, moments in UTC, ISO)."""
    return [(m.slot, m.table, m.organisation_a, m.organisation_b, m.starts_at, m.ends_at) for m in meetings]


def plan_csv(meetings: Sequence[MeetingOut]) -> str:
    """The table plan as the CSV for programs (CONTRACTS: ``,``, English headers, ISO moments)."""
    from grappe.kit import export

    out = io.StringIO()
    export.write_csv(out, plan_rows(meetings), columns=PLAN_COLUMNS)
    return out.getvalue()


def agenda_calendar(event: B2BEventOut, agenda: Agenda, now: dt.datetime) -> bytes:
    """A participant's agenda as an ICS file: one entry per meeting, whose UID stays the same
    across exports (event, slot, participant) so a calendar updates it."""
    from icalendar import Calendar
    from icalendar import Event as Entry

    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    for line in agenda.lines:
        entry = Entry()
        entry.add("uid", f"b2b-{agenda.b2b_event_id}-{line.slot}-{agenda.organisation_id}@grappe")
        entry.add("dtstamp", now)
        entry.add("dtstart", line.starts_at)
        entry.add("dtend", line.ends_at)
        entry.add("summary", f"Rendez-vous avec {line.partner} (table {line.table})")
        where = f"{event.place} — table {line.table}" if event.place else f"table {line.table}"
        entry.add("location", where)
        entry.add("description", f"{event.title} : créneau {line.slot}, table {line.table}")
        calendar.add_component(entry)
    return bytes(calendar.to_ical())


@lru_cache(maxsize=2)
def _template(name: str) -> Template:
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("grappe.partners.meetings", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    return environment.get_template(name)
