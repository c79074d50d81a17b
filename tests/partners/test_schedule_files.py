"""Reading B2B files loses nothing silently: every row is kept or reported, once."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grappe.partners.schedule_files import read_event

NAMES = ["Alpha", "Bêta", "Gamma", "Delta", ""]
SLOTS = 4


@given(
    participants=st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(["", "1", "2 3", "5", "x"])),
                          max_size=8),
    wishes=st.lists(st.tuples(st.sampled_from([*NAMES, "Zed"]), st.sampled_from([*NAMES, "Zed"]),
                              st.sampled_from(["1", "3", "0", "-2", "2,5", "", "deux"])), max_size=12),
)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_row_is_kept_or_reported_once(
    participants: list[tuple[str, str]], wishes: list[tuple[str, str, str]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        p, w = Path(folder) / "p.csv", Path(folder) / "w.csv"
        for path, header, rows in ((p, ("participant", "unavailable_slots"), participants),
                                   (w, ("from", "to", "priority"), wishes)):
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                # a row of empty cells is skipped as a blank line: keep one non-empty cell
                writer.writerows(r for r in rows if any(r))
        event, issues = read_event(p, w, slots=SLOTS, tables=2, max_meetings=2)
    written_p = sum(1 for r in participants if any(r))
    written_w = sum(1 for r in wishes if any(r))
    reported_p = [i.line for i in issues if i.path.name == "p.csv"]
    reported_w = [i.line for i in issues if i.path.name == "w.csv"]
    assert len(set(reported_p)) == len(reported_p)
    assert len(set(reported_w)) == len(reported_w)
    assert len(event.participants) + len(reported_p) == written_p
    assert len(event.wishes) + len(reported_w) == written_w
    for (a, b), priority in event.wishes.items():
        assert a != b
        assert a in event.participants
        assert b in event.participants
        assert priority > 0
    for name in event.participants:
        assert all(1 <= s <= SLOTS for s in event.unavailable[name])
