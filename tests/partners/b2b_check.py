"""An independent check of a B2B schedule: the contract's rules re-read from plain rows.

It shares nothing with grappe.partners: it takes the inputs as plain Python values and the
schedule as the rows of the output file, and recomputes the objective itself.
"""

from __future__ import annotations

from collections import Counter


def check_schedule(
    unavailable: dict[str, set[int]],
    wishes: dict[tuple[str, str], int],
    slots: int,
    tables: int,
    max_meetings: int,
    rows: list[dict[str, str]],
) -> int:
    """Assert every rule of the contract on ``rows``; return the sum of satisfied priorities."""
    seen_pairs: set[frozenset[str]] = set()
    busy: set[tuple[str, int]] = set()
    used_tables: set[tuple[int, int]] = set()
    meetings: Counter[str] = Counter()
    total = 0
    for row in rows:
        slot, table = int(row["slot"]), int(row["table"])
        a, b = row["participant_a"], row["participant_b"]
        assert 1 <= slot <= slots, f"slot {slot} out of 1..{slots}"
        assert 1 <= table <= tables, f"table {table} out of 1..{tables}"
        assert (slot, table) not in used_tables, f"table {table} used twice in slot {slot}"
        used_tables.add((slot, table))
        assert a != b, f"{a} meets themself"
        assert a in unavailable, f"unknown participant {a}"
        assert b in unavailable, f"unknown participant {b}"
        pair = frozenset((a, b))
        assert pair not in seen_pairs, f"{a} and {b} meet twice"
        seen_pairs.add(pair)
        weight = wishes.get((a, b), 0) + wishes.get((b, a), 0)
        assert weight > 0, f"{a} and {b} meet without a wish"
        total += weight
        for person in (a, b):
            assert slot not in unavailable[person], f"{person} unavailable in slot {slot}"
            assert (person, slot) not in busy, f"{person} twice in slot {slot}"
            busy.add((person, slot))
            meetings[person] += 1
            assert meetings[person] <= max_meetings, f"{person} has more than {max_meetings} meetings"
    return total
