"""B2B scheduling: every schedule passes the independent check; the solver is optimal on tiny events."""

from __future__ import annotations

import itertools
import random

import pytest
from b2b_check import check_schedule
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grappe.partners.schedule import Event, Schedule, gap, greedy_schedule, lp_bound, optimal_schedule

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _rows(schedule: Schedule) -> list[dict[str, str]]:
    return [
        {"slot": str(m.slot), "table": str(m.table), "participant_a": m.participant_a,
         "participant_b": m.participant_b}
        for m in schedule.meetings
    ]


def _check(event: Event, schedule: Schedule) -> int:
    value = check_schedule(
        {p: set(event.unavailable.get(p, ())) for p in event.participants},
        dict(event.wishes), event.slots, event.tables, event.max_meetings, _rows(schedule),
    )
    assert value == schedule.satisfied
    return value


def _brute_force(event: Event) -> int:
    """The best objective over every choice of a slot (or none) for every wished pair."""
    weights: dict[frozenset[str], int] = {}
    for (a, b), priority in event.wishes.items():
        weights[frozenset((a, b))] = weights.get(frozenset((a, b)), 0) + priority
    pairs = sorted(weights, key=sorted)
    best = 0
    for choice in itertools.product(range(event.slots + 1), repeat=len(pairs)):
        busy: set[tuple[str, int]] = set()
        count: dict[str, int] = {}
        per_slot: dict[int, int] = {}
        value, ok = 0, True
        for pair, slot in zip(pairs, choice, strict=True):
            if slot == 0:
                continue
            per_slot[slot] = per_slot.get(slot, 0) + 1
            for person in pair:
                count[person] = count.get(person, 0) + 1
                if (person, slot) in busy or slot in event.unavailable.get(person, ()) \
                        or count[person] > event.max_meetings:
                    ok = False
                busy.add((person, slot))
            value += weights[pair]
        if ok and all(n <= event.tables for n in per_slot.values()):
            best = max(best, value)
    return best


@st.composite
def tiny_events(draw: st.DrawFn) -> Event:
    people = tuple(f"p{i}" for i in range(draw(st.integers(2, 4))))
    slots = draw(st.integers(1, 3))
    ordered = [(a, b) for a in people for b in people if a != b]
    wished = draw(st.lists(st.sampled_from(ordered), unique=True, max_size=6))
    wishes = {w: draw(st.integers(1, 5)) for w in wished}
    unavailable = {
        p: frozenset(draw(st.sets(st.integers(1, slots), max_size=slots))) for p in people
    }
    return Event(people, unavailable, wishes, slots, draw(st.integers(1, 2)), draw(st.integers(1, 2)))


@given(tiny_events())
@SETTINGS
def test_the_solver_finds_the_brute_force_optimum(event: Event) -> None:
    solved = optimal_schedule(event)
    greedy = greedy_schedule(event)
    best = _brute_force(event)
    assert solved.optimal
    assert _check(event, solved) == best
    assert _check(event, greedy) <= best
    assert lp_bound(event) >= best - 1e-6


def _random_event(seed: int, people: int, wishes: int) -> Event:
    rng = random.Random(seed)
    names = tuple(f"P{i:03d}" for i in range(people))
    chosen: dict[tuple[str, str], int] = {}
    while len(chosen) < wishes:
        a, b = rng.sample(names, 2)
        chosen.setdefault((a, b), rng.randint(1, 5))
    unavailable = {n: frozenset(rng.sample(range(1, 7), rng.randint(0, 2))) for n in names}
    return Event(names, unavailable, chosen, slots=6, tables=8, max_meetings=4)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_mid_sized_event_is_scheduled_within_the_rules_and_beats_greedy(seed: int) -> None:
    event = _random_event(seed, people=60, wishes=300)
    solved, greedy = optimal_schedule(event, time_limit=30), greedy_schedule(event)
    bound = lp_bound(event)
    assert _check(event, solved) >= _check(event, greedy)
    assert solved.satisfied <= bound + 1e-6
    assert gap(solved.satisfied, min(bound, solved.bound)) < 0.01
    # the tables bind: 6 slots x 8 tables
    assert len(solved.meetings) <= 48


def test_an_event_without_a_possible_meeting_gives_an_empty_schedule() -> None:
    event = Event(("a", "b"), {"a": frozenset({1}), "b": frozenset()}, {("a", "b"): 3}, 1, 1, 1)
    assert optimal_schedule(event).meetings == ()
    assert greedy_schedule(event).meetings == ()
    assert lp_bound(event) == 0.0


def test_a_time_limit_still_gives_a_valid_schedule_and_a_true_bound() -> None:
    event = _random_event(3, people=60, wishes=300)
    hurried = optimal_schedule(event, time_limit=0.01)
    _check(event, hurried)
    if hurried.bound is not None:
        assert hurried.bound >= optimal_schedule(event).satisfied - 1e-6
