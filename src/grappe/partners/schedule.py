"""B2B meetings (rendez-vous d'affaires): schedule the wished meetings into slots and tables.

The rules (CONTRACTS.md, "Batch layouts", B2B): a meeting satisfies the wishes of both
directions between its two people; a pair meets at most once; a person meets at most once a
slot, never in a slot they marked unavailable, at most ``max_meetings`` times; a slot holds at
most ``tables`` meetings; only pairs with a wish meet. The objective is the sum of the satisfied
priorities.

Three schedulers share these rules:

* :func:`optimal_schedule`: the integer programme (one 0/1 column per pair and slot where both
  people are free) solved by HiGHS's branch and bound. CP-SAT was measured on the benchmark's
  event and left behind: with two workers its presolve alone took 20 s and after a minute it had
  not improved the greedy schedule, where HiGHS proves the optimum in well under a minute;
* :func:`lp_bound`: the same programme with the booleans relaxed to ``[0, 1]``, solved by
  HiGHS; no schedule can beat it, so it measures how far from optimal the solver may be;
* :func:`greedy_schedule`: pairs by decreasing weight, each in the first slot that fits.

Slots and tables are numbered from 1; tables are interchangeable, so a slot's meetings take
tables 1, 2, … in the order of their participants.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_TIME_LIMIT = 60.0
"""Seconds the solver may search (the contract's target: within 1 % of the LP bound in a minute)."""


@dataclass(frozen=True)
class Event:
    """A B2B event: who comes, when they cannot, who wishes to meet whom, and its capacity.

    Attributes
    ----------
    participants
        Names, in file order.
    unavailable
        Slot numbers (from 1) each participant cannot attend.
    wishes
        Priority (a positive integer) by ``(from, to)``.
    slots, tables, max_meetings
        Number of slots, tables per slot, and meetings per participant at most.
    """

    participants: tuple[str, ...]
    unavailable: Mapping[str, frozenset[int]]
    wishes: Mapping[tuple[str, str], int]
    slots: int
    tables: int
    max_meetings: int

    def pair_weights(self) -> dict[tuple[str, str], int]:
        """The weight of each unordered pair with a wish: the priorities of both directions.

        A pair is keyed in participant order (the first listed first).
        """
        order = {name: i for i, name in enumerate(self.participants)}
        weights: dict[tuple[str, str], int] = defaultdict(int)
        for (a, b), priority in self.wishes.items():
            weights[(a, b) if order[a] < order[b] else (b, a)] += priority
        return dict(weights)

    def free_slots(self, a: str, b: str) -> list[int]:
        """The slots both ``a`` and ``b`` can attend."""
        busy = self.unavailable.get(a, frozenset()) | self.unavailable.get(b, frozenset())
        return [s for s in range(1, self.slots + 1) if s not in busy]


@dataclass(frozen=True)
class Meeting:
    """One meeting of the schedule: a slot, a table and its two participants."""

    slot: int
    table: int
    participant_a: str
    participant_b: str


@dataclass(frozen=True)
class Schedule:
    """A schedule and what is known of its quality.

    Attributes
    ----------
    meetings
        The meetings, by slot then table.
    satisfied
        The objective: the sum of the priorities the meetings satisfy.
    bound
        The upper bound of the objective the solver proved (``None`` for greedy, which
        proves nothing).
    optimal
        The solver proved the schedule optimal.
    seconds
        Wall time spent.
    """

    meetings: tuple[Meeting, ...]
    satisfied: int
    bound: float | None
    optimal: bool
    seconds: float


@dataclass(frozen=True)
class Programme:
    """The integer programme of an event: one 0/1 column per wished pair × slot free for both.

    Every row reads "the sum of these columns is at most this"; the solver, the LP relaxation
    (and the benchmark's CP-SAT run) share it.
    """

    pairs: list[tuple[str, str]]
    weights: np.ndarray  # objective coefficient of each column
    pair_of: np.ndarray  # pair index of each column
    slot_of: np.ndarray  # slot of each column
    rows: list[tuple[np.ndarray, int]]  # (column indices, right-hand side) of each "sum <= rhs"


def programme_of(event: Event) -> Programme:
    """The programme of ``event``: columns, objective weights and the rows that can bind."""
    weights = event.pair_weights()
    order = {name: i for i, name in enumerate(event.participants)}
    pairs = sorted(weights, key=lambda p: (order[p[0]], order[p[1]]))
    pair_of: list[int] = []
    slot_of: list[int] = []
    for p, (a, b) in enumerate(pairs):
        for s in event.free_slots(a, b):
            pair_of.append(p)
            slot_of.append(s)
    pair_idx = np.array(pair_of, dtype=np.int64)
    slot_idx = np.array(slot_of, dtype=np.int64)
    rows: list[tuple[np.ndarray, int]] = []
    by_pair: dict[int, list[int]] = defaultdict(list)
    by_person_slot: dict[tuple[str, int], list[int]] = defaultdict(list)
    by_person: dict[str, list[int]] = defaultdict(list)
    by_slot: dict[int, list[int]] = defaultdict(list)
    for c, (p, s) in enumerate(zip(pair_of, slot_of, strict=True)):
        by_pair[p].append(c)
        by_slot[s].append(c)
        for person in pairs[p]:
            by_person_slot[(person, s)].append(c)
            by_person[person].append(c)
    # A pair meets once; a person once a slot; then the caps. Only the rows that can bind are
    # written: a person with at most max_meetings wished partners, or a slot with at most
    # `tables` candidate meetings, never reaches the limit.
    rows.extend((np.array(cs), 1) for cs in by_pair.values() if len(cs) > 1)
    rows.extend((np.array(cs), 1) for cs in by_person_slot.values() if len(cs) > 1)
    rows.extend(
        (np.array(cs), event.max_meetings)
        for person, cs in by_person.items()
        if len({pair_of[c] for c in cs}) > event.max_meetings
    )
    rows.extend((np.array(cs), event.tables) for cs in by_slot.values() if len(cs) > event.tables)
    return Programme(
        pairs=pairs,
        weights=np.array([weights[pairs[p]] for p in pair_of], dtype=np.int64),
        pair_of=pair_idx,
        slot_of=slot_idx,
        rows=rows,
    )


def _meetings(chosen: Sequence[tuple[str, str, int]]) -> tuple[Meeting, ...]:
    """Meetings with their tables: 1, 2, … within each slot, in the order of the pairs."""
    by_slot: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for a, b, s in chosen:
        by_slot[s].append((a, b))
    return tuple(
        Meeting(slot, table, a, b)
        for slot in sorted(by_slot)
        for table, (a, b) in enumerate(by_slot[slot], start=1)
    )


def satisfied(event: Event, meetings: Sequence[Meeting]) -> int:
    """The sum of the priorities that ``meetings`` satisfy (both directions of each pair)."""
    return sum(
        event.wishes.get((m.participant_a, m.participant_b), 0)
        + event.wishes.get((m.participant_b, m.participant_a), 0)
        for m in meetings
    )


def greedy_schedule(event: Event) -> Schedule:
    """The baseline: pairs by decreasing weight, each in the first slot free for both and a table.

    Ties keep the participants' order, so the result is reproducible.
    """
    started = time.perf_counter()
    weights = event.pair_weights()
    order = {name: i for i, name in enumerate(event.participants)}
    busy: set[tuple[str, int]] = set()
    count: dict[str, int] = defaultdict(int)
    used_tables: dict[int, int] = defaultdict(int)
    chosen: list[tuple[str, str, int]] = []
    for a, b in sorted(weights, key=lambda p: (-weights[p], order[p[0]], order[p[1]])):
        if count[a] >= event.max_meetings or count[b] >= event.max_meetings:
            continue
        for s in event.free_slots(a, b):
            if (a, s) not in busy and (b, s) not in busy and used_tables[s] < event.tables:
                chosen.append((a, b, s))
                busy.update({(a, s), (b, s)})
                count[a] += 1
                count[b] += 1
                used_tables[s] += 1
                break
    meetings = _meetings(chosen)
    value = satisfied(event, meetings)
    return Schedule(meetings, value, None, optimal=False, seconds=time.perf_counter() - started)


def constraints_of(programme: Programme) -> tuple[Any, np.ndarray]:
    """The programme's rows as a sparse matrix and their right-hand sides (``A x <= b``)."""
    from scipy.sparse import csr_array

    lengths = [len(columns) for columns, _ in programme.rows]
    indptr = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    indices = np.concatenate([c for c, _ in programme.rows]) if programme.rows else np.zeros(0, np.int64)
    matrix = csr_array(
        (np.ones(len(indices)), indices, indptr), shape=(len(programme.rows), len(programme.pair_of))
    )
    return matrix, np.array([rhs for _, rhs in programme.rows], dtype=float)


def optimal_schedule(event: Event, *, time_limit: float = DEFAULT_TIME_LIMIT) -> Schedule:
    """The schedule of HiGHS: the sum of satisfied priorities maximised under every rule.

    Branch and bound runs until the schedule is proven optimal or ``time_limit`` seconds
    have passed; then the best schedule found comes with the bound HiGHS proved.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    started = time.perf_counter()
    programme = programme_of(event)
    if len(programme.pair_of) == 0:
        return Schedule((), 0, 0.0, optimal=True, seconds=time.perf_counter() - started)
    matrix, upper = constraints_of(programme)
    result = milp(
        -programme.weights.astype(float),
        constraints=LinearConstraint(matrix, -np.inf, upper) if programme.rows else None,
        integrality=np.ones(len(programme.pair_of)),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit},
    )
    bound = None if result.mip_dual_bound is None else float(-result.mip_dual_bound)
    if result.x is None:
        # An empty schedule is always feasible: nothing found means no time to find anything.
        return Schedule((), 0, bound, optimal=False, seconds=time.perf_counter() - started)
    taken = result.x > 0.5
    chosen = [
        (*programme.pairs[p], s)
        for p, s in zip(programme.pair_of[taken].tolist(), programme.slot_of[taken].tolist(), strict=True)
    ]
    meetings = _meetings(chosen)
    return Schedule(
        meetings,
        satisfied(event, meetings),
        bound,
        optimal=result.status == 0,
        seconds=time.perf_counter() - started,
    )


def lp_bound(event: Event) -> float:
    """The optimum of the LP relaxation (HiGHS): no schedule satisfies more than this."""
    from scipy.optimize import linprog

    programme = programme_of(event)
    if len(programme.pair_of) == 0:
        return 0.0
    matrix, upper = constraints_of(programme)
    result = linprog(
        -programme.weights.astype(float),
        A_ub=matrix if programme.rows else None,
        b_ub=upper if programme.rows else None,
        bounds=(0, 1),
        method="highs",
    )
    return float(-result.fun)


def gap(value: float, bound: float) -> float:
    """How far ``value`` may be from the optimum, as a share of ``bound`` (0 when both are 0)."""
    return 0.0 if bound <= 0 else max(0.0, (bound - value) / bound)
