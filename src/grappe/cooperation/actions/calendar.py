"""An event as an iCalendar file (RFC 5545), for the participants' agendas."""

from __future__ import annotations

import datetime as dt
from typing import Final

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from grappe.cooperation.actions.models import Event

PRODUCT: Final = "-//grappe//actions collectives//FR"


def event_calendar(event: Event, now: dt.datetime) -> bytes:
    """The ICS file of one event; its UID stays the same across exports so agendas update it."""
    entry = CalendarEvent()
    entry.add("uid", f"event-{event.id}@grappe")
    entry.add("dtstamp", now)
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", event.ends_at)
    entry.add("summary", event.title)
    if event.place:
        entry.add("location", event.place)
    if event.description:
        entry.add("description", event.description)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add_component(entry)
    return calendar.to_ical()
