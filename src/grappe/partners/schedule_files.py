"""The B2B batch files: read participants and wishes row by row, write the schedule.

Layouts (CONTRACTS.md, "Batch layouts", B2B): participants ``participant, unavailable_slots``
(slot numbers from 1, separated by spaces, may be empty); wishes ``from, to, priority``;
schedule ``slot, table, participant_a, participant_b``. A refused row is reported with its file,
line, column and value, and the good rows are kept:

* participants: empty or repeated name, a slot that is not an integer or lies outside
  ``1..slots`` (the whole row: scheduling someone in a slot they meant to refuse is worse than
  leaving them out);
* wishes: a participant that is not in the participants file (or whose row was refused), a
  wish to oneself, a priority that is not a positive integer, the same wish twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grappe.kit import export
from grappe.kit.tables import Issue, read_rows, unique_rows
from grappe.partners.schedule import Event, Meeting

SCHEDULE_COLUMNS = ("slot", "table", "participant_a", "participant_b")
SCHEDULE_LABELS = {
    "slot": "Créneau",
    "table": "Table",
    "participant_a": "Participant A",
    "participant_b": "Participant B",
}


def read_event(
    participants: Path, wishes: Path, *, slots: int, tables: int, max_meetings: int
) -> tuple[Event, list[Issue]]:
    """The event the two files describe, and the rows they refused.

    Raises
    ------
    InputError
        A file is unreadable or lacks a column.
    """
    names: list[str] = []
    refused: dict[str, int] = {}
    unavailable: dict[str, frozenset[int]] = {}
    rows, issues = unique_rows(
        participants, read_rows(participants, ("participant",), ("unavailable_slots",)), "participant"
    )
    for row in rows:
        name = row.values["participant"]
        text = row.values.get("unavailable_slots", "")
        away: set[int] = set()
        bad: tuple[str, str] | None = None
        for token in text.replace(",", " ").replace(";", " ").split():
            if not token.isdigit():
                bad = (token, "numéro de créneau entier attendu")
            elif not 1 <= int(token) <= slots:
                bad = (token, f"créneau hors de 1..{slots} (--slots {slots})")
            else:
                away.add(int(token))
            if bad:
                break
        if bad is not None:
            token, reason = bad
            issues.append(
                Issue(participants, row.line, "unavailable_slots", token, f"{reason} ; participant écarté")
            )
            refused[name] = row.line
            continue
        names.append(name)
        unavailable[name] = frozenset(away)
    kept = set(names)
    chosen: dict[tuple[str, str], int] = {}
    first: dict[tuple[str, str], int] = {}
    for row in read_rows(wishes, ("from", "to", "priority")):
        a, b, text = row.values["from"], row.values["to"], row.values["priority"]
        problem = None
        for column, name in (("from", a), ("to", b)):
            if name in refused:
                problem = (column, name, f"participant écarté ({participants.name}, ligne {refused[name]})")
            elif name not in kept:
                problem = (column, name, f"participant inconnu (absent de {participants.name})")
            if problem:
                break
        if problem is None and a == b:
            problem = ("to", b, "un participant ne peut pas se souhaiter lui-même")
        if problem is None and not (text.lstrip("+").isdigit() and int(text) > 0):
            problem = ("priority", text, "priorité entière positive attendue (plus haut = plus souhaité)")
        if problem is None and (a, b) in first:
            problem = ("to", b, f"souhait en double (déjà ligne {first[(a, b)]})")
        if problem is not None:
            issues.append(Issue(wishes, row.line, *problem))
            continue
        first[(a, b)] = row.line
        chosen[(a, b)] = int(text)
    event = Event(tuple(names), unavailable, chosen, slots, tables, max_meetings)
    return event, issues


def write_schedule(path: Path, meetings: Sequence[Meeting]) -> None:
    """Write the schedule as CSV (for programs) or XLSX (French headers), by the suffix."""
    export.write(
        path,
        [(m.slot, m.table, m.participant_a, m.participant_b) for m in meetings],
        columns=SCHEDULE_COLUMNS,
        labels=SCHEDULE_LABELS,
        sheet="Planning",
    )
