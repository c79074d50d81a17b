"""Reading a call's applications loses nothing silently: every row is kept or reported, once."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grappe.calls.files import parse_euros, read_candidates


@given(st.lists(
    st.tuples(st.sampled_from(["A1", "A2", "A3", ""]), st.sampled_from(["12", "9,5", "", "x", "-1"]),
              st.sampled_from(["1000", "12 500,50", "0", "1,234", "-5", "", "abc"])),
    max_size=10,
))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_application_row_is_kept_or_reported_once(rows: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(("application", "score", "amount"))
            writer.writerows(r for r in rows if any(r))
        candidates, issues = read_candidates(path)
    written = sum(1 for r in rows if any(r))
    assert len({i.line for i in issues}) == len(issues)
    assert len(candidates) + len(issues) == written
    assert len({c.application for c in candidates}) == len(candidates)
    assert all(c.amount > 0 for c in candidates)


def test_euros_become_exact_cents() -> None:
    assert parse_euros("12 500,50") == 1_250_050
    assert parse_euros("0.1") == 10
    assert parse_euros("2000000") == 200_000_000
