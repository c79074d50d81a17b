"""The indicators of every cluster for a year: the repository's grouped rows turned into values.

One call computes the whole catalogue (:data:`grappe.evaluation.indicators.CATALOGUE`) for
all the clusters asked, from a fixed number of queries (see :mod:`.repository`) and, for the
coverage of the productive fabric, one scan of the fabric store through its public look-up
(:func:`grappe.fabric.open_establishments`). Values are floats, ``None`` where the data
needed is missing (no member of known size, no funding declared, no fabric store...). A value
the cluster declared for the year replaces the computed one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from grappe.evaluation import repository as repo
from grappe.evaluation.indicators import CATALOGUE
from grappe.partners.meetings import service as meetings

Values = dict[str, float | None]

#: Size bands (trancheEffectifsEtablissement) of fewer than 250 employees.
SME_BANDS = frozenset({"NN", "00", "01", "02", "03", "11", "12", "21", "22", "31", "32"})
SME_CATEGORIES = frozenset({"TPE", "PME"})


@dataclass
class Evaluated:
    """The indicators of clusters for a year, and where each value came from."""

    year: int
    facts: dict[int, repo.ClusterFacts]
    values: dict[int, Values]
    declared: dict[tuple[int, str], str | None] = field(default_factory=dict)  # -> evidence name

    def of(self, cluster_id: int) -> Values:
        return self.values.get(cluster_id, dict.fromkeys(i.code for i in CATALOGUE))


_CACHE = "grappe.evaluation"


def _forget(session: Session, *_: object) -> None:
    session.info.pop(_CACHE, None)


def evaluate(
    session: Session, year: int, ids: Collection[int] | None = None, *, store: Path | str | None = None
) -> Evaluated:
    """Every indicator of the catalogue for the clusters ``ids`` (None: all) and a year.

    Within a unit of work, the evaluation of all clusters for a year is kept until the session
    writes anything (its next flush forgets it): a page or a report that reads scorecards,
    benchmarks and indicators evaluates the platform once.
    """
    clean = not (session.new or session.dirty or session.deleted)
    memo: dict[tuple[int, str | None], Evaluated] = session.info.get(_CACHE, {})
    every = memo.get((year, None if store is None else str(store))) if clean else None
    if every is not None:
        if ids is None:
            return every
        wanted = set(ids)
        return Evaluated(
            year,
            {cid: f for cid, f in every.facts.items() if cid in wanted},
            {cid: v for cid, v in every.values.items() if cid in wanted},
            {key: e for key, e in every.declared.items() if key[0] in wanted},
        )
    found = _evaluate(session, year, ids, store)
    if ids is None and clean:
        if _CACHE not in session.info:
            from sqlalchemy import event

            if not event.contains(session, "after_flush", _forget):
                event.listen(session, "after_flush", _forget)
        memo[(year, None if store is None else str(store))] = found
        session.info[_CACHE] = memo
    return found


def _evaluate(
    session: Session, year: int, ids: Collection[int] | None, store: Path | str | None
) -> Evaluated:
    span = repo.Year(year)
    facts = repo.cluster_facts(session, span, ids)
    values: dict[int, Values] = {cid: dict.fromkeys(i.code for i in CATALOGUE) for cid in facts}
    members = _members(repo.member_rows(session, span, ids), span, facts, values)
    _money(session, span, ids, values)
    _cooperation(session, span, ids, values, members)
    _coverage(session, span, ids, facts, values, store)
    _detection(facts, values)
    declared: dict[tuple[int, str], str | None] = {}
    for row in repo.declared_values(session, year, ids):
        if row.cluster_id in values:
            values[row.cluster_id][row.indicator] = float(row.value)
            declared[(row.cluster_id, row.indicator)] = row.evidence_name
    return Evaluated(year, facts, values, declared)


# --------------------------------------------------------------------------------------------
# members: count, size, retention, seniority, entries and exits, activity, place


def _is_sme(category: str | None, headcount: int | None, band: str | None) -> bool | None:
    if category:
        return category in SME_CATEGORIES
    if headcount is not None:
        return headcount < 250
    if band:
        return band in SME_BANDS
    return None


def _members(
    rows: Iterable[Any], span: repo.Year, facts: dict[int, repo.ClusterFacts], values: dict[int, Values]
) -> dict[int, set[int]]:
    at_end: dict[int, dict[int, Any]] = defaultdict(dict)
    at_start: dict[int, set[int]] = defaultdict(set)
    entries: dict[int, int] = defaultdict(int)
    exits: dict[int, int] = defaultdict(int)
    for row in rows:
        cid, org, joined, left_on = row[0], row[1], row[2], row[3]
        if joined <= span.first and (left_on is None or left_on > span.first):
            at_start[cid].add(org)
        if left_on is None or left_on > span.last:
            at_end[cid][org] = row
        if span.first <= joined <= span.last:
            entries[cid] += 1
        if left_on is not None and span.first < left_on <= span.last:
            exits[cid] += 1
    levels = _commune_levels()
    points = _commune_points()
    for cid, out in values.items():
        current = at_end.get(cid, {})
        out["members"] = float(len(current))
        out["entries"] = float(entries.get(cid, 0))
        out["exits"] = float(exits.get(cid, 0))
        start = at_start.get(cid, set())
        out["retention"] = len(start & current.keys()) / len(start) if start else None
        if current:
            out["seniority"] = sum((span.last - r[2]).days for r in current.values()) / 365.25 / len(current)
        sizes = [s for r in current.values() if (s := _is_sme(r[4], r[5], r[6])) is not None]
        out["sme_share"] = sum(sizes) / len(sizes) if sizes else None
        sectors = facts[cid].sectors
        nafs = [r[7] for r in current.values() if r[7]]
        if sectors and nafs:
            out["sector_share"] = sum(_in_sectors(n, sectors) for n in nafs) / len(nafs)
        communes = [r[8] for r in current.values() if r[8] and r[8] in levels]
        places = facts[cid].territories
        if places and communes:
            out["territory_share"] = sum(_in_territory(levels[c], places) for c in communes) / len(communes)
        xy = [points[c] for c in communes if c in points]
        if xy:
            cx = sum(x for x, _ in xy) / len(xy)
            cy = sum(y for _, y in xy) / len(xy)
            out["member_distance_km"] = sum(math.hypot(x - cx, y - cy) for x, y in xy) / len(xy) / 1000
    return {cid: set(current) for cid, current in at_end.items()}


@lru_cache(maxsize=1)
def _commune_levels() -> dict[str, dict[str, str]]:
    from grappe.refdata import territories

    table = territories.commune_levels().to_pylist()
    return {row["commune"]: row for row in table}


@lru_cache(maxsize=1)
def _commune_points() -> dict[str, tuple[float, float]]:
    from grappe.refdata import territories

    table = territories.communes().select(["code", "x", "y"]).to_pylist()
    return {r["code"]: (r["x"], r["y"]) for r in table if r["x"] is not None and r["y"] is not None}


@lru_cache(maxsize=1)
def _communes_of() -> dict[tuple[str, str], frozenset[str]]:
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for commune, row in _commune_levels().items():
        for level in ("epci", "ze", "departement", "region"):
            if row.get(level):
                out[(level, row[level])].add(commune)
    return {key: frozenset(v) for key, v in out.items()}


def _in_territory(levels: dict[str, str], places: Iterable[tuple[str, str]]) -> bool:
    return any(levels.get(level) == code for level, code in places)


@lru_cache(maxsize=4096)
def _ancestors(code: str) -> frozenset[str]:
    from grappe.refdata import naf

    try:
        canonical = naf.normalize(code)
    except (KeyError, ValueError):
        return frozenset()
    found = {canonical}
    parent = naf.parent(canonical)
    while parent is not None:
        found.add(parent)
        parent = naf.parent(parent)
    return frozenset(found)


def _in_sectors(code: str, sectors: Iterable[str]) -> bool:
    ancestors = _ancestors(code)
    return any(s in ancestors for s in sectors)


# --------------------------------------------------------------------------------------------
# money


def _money(session: Session, span: repo.Year, ids: Collection[int] | None, values: dict[int, Values]) -> None:
    fees = repo.fee_income(session, span, ids)
    calls = repo.fee_calls_paid(session, span, ids)
    funding = repo.fundings(session, span, ids)
    for cid, out in values.items():
        out["fee_income"] = float(fees.get(cid, 0))
        paid, called = calls.get(cid, (0, 0))
        out["fee_payment_rate"] = paid / called if called else None
        sources = funding.get(cid)
        if sources:
            out["services_revenue"] = float(sources.get("services", 0))
            total = sum(sources.values())
            own = sum(v for k, v in sources.items() if k in repo.SELF_FUNDED)
            out["self_financing"] = float(own / total) if total else None


# --------------------------------------------------------------------------------------------
# cooperation


def _cooperation(
    session: Session,
    span: repo.Year,
    ids: Collection[int] | None,
    values: dict[int, Values],
    members: dict[int, set[int]],
) -> None:
    projects = repo.projects_reaching(session, span, ids)
    spanning = repo.inter_cluster_projects(session, span, ids)
    deals = repo.business(session, span, ids)
    kinds = repo.orientations(session, span, ids)
    attended = repo.attendance(session, span, ids)
    pairs: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for cid, a, b in repo.confirmed_links(session, span, ids):
        inside = members.get(cid, set())
        if a != b and a in inside and b in inside:
            pairs[cid].add((min(a, b), max(a, b)))
    # B2B meetings between organisations of no common cluster, counted by the meetings domain
    # for the few clusters that published an event this year
    intercluster = {
        cid: meetings.meeting_figures(session, cid, span.year).inter_cluster_meetings
        for cid in repo.b2b_organisers(session, span, ids)
    }
    for cid, out in values.items():
        submitted, funded = projects.get(cid, (0, 0))
        out["inter_cluster_meetings"] = float(intercluster.get(cid, 0))
        out["projects_submitted"] = float(submitted)
        out["projects_funded"] = float(funded)
        out["inter_cluster_projects"] = float(spanning.get(cid, 0))
        out["business_between_members"] = float(deals.get(cid, 0))
        out["orientations"] = float(kinds.get(cid, 0))
        n = len(members.get(cid, ()))
        out["network_density"] = len(pairs.get(cid, ())) / (n * (n - 1) / 2) if n >= 2 else None
        out["event_attendance"] = attended.get(cid, 0) / n if n else None


# --------------------------------------------------------------------------------------------
# the productive fabric


def _coverage(
    session: Session,
    span: repo.Year,
    ids: Collection[int] | None,
    facts: dict[int, repo.ClusterFacts],
    values: dict[int, Values],
    store: Path | str | None,
) -> None:
    """Share of the establishments open in each cluster's territory × sectors that are members'.

    One scan of the fabric for the union of every cluster's scope, then each cluster's part
    of it: the fabric is read through its public look-up only.
    """
    from grappe.fabric import Scope, holds_establishments, open_establishments

    scoped = {cid: f for cid, f in facts.items() if f.sectors and f.territories}
    if not scoped or not holds_establishments(store):
        return
    territory = [Scope(level, [code]) for f in scoped.values() for level, code in set(f.territories)]
    sectors = [Scope(_naf_level(code), [code]) for f in scoped.values() for code in set(f.sectors)]
    table = open_establishments(span.last, territory=territory, sectors=sectors, store=store)
    by_commune: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    where: dict[str, tuple[str, str]] = {}
    for siret, commune, code in zip(
        table["siret"].to_pylist(), table["commune"].to_pylist(), table["naf"].to_pylist(), strict=True
    ):
        by_commune[commune][code] += 1
        where[siret] = (commune, code)
    owned: dict[int, set[str]] = defaultdict(set)
    for cid, siret in repo.member_establishments(session, span, list(scoped)):
        owned[cid].add(siret)
    for cid, f in scoped.items():
        communes = _scope_communes(f.territories)
        total = sum(
            n
            for commune in communes
            for code, n in by_commune.get(commune, {}).items()
            if _in_sectors(code, f.sectors)
        )
        if not total:
            continue
        mine = sum(
            1
            for siret in owned.get(cid, ())
            if siret in where and where[siret][0] in communes and _in_sectors(where[siret][1], f.sectors)
        )
        values[cid]["territory_coverage"] = mine / total


def _detection(facts: dict[int, repo.ClusterFacts], values: dict[int, Values]) -> None:
    """The best score of the latest saved detection run's candidates in each cluster's scope.

    A candidate counts when its territory holds one of the cluster's communes (read at the
    run's territory level) and its sector and one of the cluster's are the same or one holds
    the other. Read through detection's public saved runs; none saved: no value.
    """
    from grappe.detection import runs

    saved = runs.list_runs()
    if not saved:
        return
    run, frame = runs.load(saved[0].name)
    levels = _commune_levels()
    cells: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for territory, sector, score in zip(
        frame["territory_code"].astype(str), frame["sector"].astype(str), frame["score"], strict=True
    ):
        cells[territory].append((sector, float(score)))
    for cid, f in facts.items():
        if not f.sectors or not f.territories:
            continue
        codes = {
            c if run.level == "commune" else levels[c].get(run.level)
            for c in _scope_communes(f.territories)
            if c in levels
        }
        scores = [
            score
            for code in codes
            if code
            for sector, score in cells.get(code, ())
            if any(s in _ancestors(sector) or sector in _ancestors(s) for s in f.sectors)
        ]
        if scores:
            values[cid]["detection_evidence"] = max(scores)


def _naf_level(code: str) -> str:
    from grappe.refdata import naf

    return naf.level(code)


def _scope_communes(places: Iterable[tuple[str, str]]) -> set[str]:
    communes: set[str] = set()
    index = _communes_of()
    for level, code in places:
        if level == "commune":
            communes.add(code)
        else:
            communes |= index.get((level, code), frozenset())
    return communes


def today_year() -> int:
    """The last complete year: the default year of scorecards and reports."""
    return dt.date.today().year - 1


def member_points(session: Session, year: int, cluster_id: int) -> list[tuple[float, float]]:
    """Lambert-93 centroids of the communes of a cluster's members at the year's end (for maps)."""
    span = repo.Year(year)
    points = _commune_points()
    rows = repo.member_rows(session, span, [cluster_id])
    return [points[r[8]] for r in rows if r[8] in points and (r[3] is None or r[3] > span.last)]


def territory_points(places: Iterable[tuple[str, str]]) -> list[tuple[float, float]]:
    """Lambert-93 centroids of the communes of a cluster's territory (for maps)."""
    points = _commune_points()
    return [points[c] for c in sorted(_scope_communes(places)) if c in points]
