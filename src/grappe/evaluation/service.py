"""What users do in evaluation: contracts, indicators, declarations, scorecards, benchmarks.

Every function takes the session and the acting user, checks the policy on the object itself
(:mod:`.policy`) and never commits: the interface's unit of work does.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from grappe.errors import InputError, NotFoundError
from grappe.evaluation import evidence as files
from grappe.evaluation import policy, scoring
from grappe.evaluation.compute import Evaluated, evaluate, member_points, territory_points
from grappe.evaluation.indicators import AREAS, BY_CODE, CATALOGUE, MARKS, indicator
from grappe.evaluation.models import (
    ContractIndicator,
    ContractTarget,
    DeclaredValue,
    ObjectivesContract,
    SelfAssessment,
)
from grappe.evaluation.repository import (
    ContractRepository,
    cluster_names,
    declared_for,
    funder_names,
    self_assessment_for,
    self_assessments,
)
from grappe.evaluation.schemas import (
    AreaOut,
    Benchmark,
    ContractIn,
    ContractIndicatorOut,
    ContractOut,
    ContractPage,
    ContractYear,
    DeclareIn,
    DistributionOut,
    IndicatorDefinition,
    IndicatorResult,
    IndicatorValue,
    IndicatorValues,
    MarkOut,
    PeerGroup,
    PeerValue,
    Reading,
    Scorecard,
    SelfAssessmentIn,
)
from grappe.registry.models import Role
from grappe.registry.policy import Access, Actor, readable_cluster_ids

Evidence = files.Evidence
PEER_CRITERIA = ("label", "sector", "size")
"""What makes two clusters peers, each criterion may be dropped (see :mod:`.scoring`)."""


def catalogue() -> list[IndicatorDefinition]:
    """The documented indicators (public: definitions only, no value)."""
    return [
        IndicatorDefinition(
            code=i.code,
            name=i.name,
            definition=i.definition,
            source=i.source,
            unit=i.unit.value,
            higher_is_better=i.higher_is_better,
            green=i.green,
            amber=i.amber,
        )
        for i in CATALOGUE
    ]


# --------------------------------------------------------------------------------------------
# indicators and declarations


def _name(ev: Evaluated, cluster_id: int) -> str:
    facts = ev.facts.get(cluster_id)
    if facts is None:
        raise NotFoundError(f"structure {cluster_id} introuvable")
    return facts.name


def cluster_indicators(session: Session, actor: Actor, cluster_id: int, year: int) -> IndicatorValues:
    """Every indicator of a cluster for a year (computed, or declared with evidence)."""
    policy.require_read(session, actor, cluster_id, "consulter les indicateurs")
    ev = evaluate(session, year, [cluster_id])
    values = ev.of(cluster_id)
    items = [
        IndicatorValue(
            indicator=i.code,
            name=i.name,
            unit=i.unit.value,
            value=values.get(i.code),
            declared=(cluster_id, i.code) in ev.declared,
            evidence_name=ev.declared.get((cluster_id, i.code)),
        )
        for i in CATALOGUE
    ]
    return IndicatorValues(
        cluster_id=cluster_id, cluster_name=_name(ev, cluster_id), year=year, total=len(items), items=items
    )


def visible_clusters(session: Session, actor: Actor) -> set[int] | None:
    """Clusters whose indicators the actor reads (None: all)."""
    if actor.role is Role.FUNDER and actor.funder_id is not None:
        return policy.funder_clusters(session, actor.funder_id)
    return readable_cluster_ids(session, actor)


def indicator_table(session: Session, actor: Actor, year: int) -> tuple[list[str], list[list[object]]]:
    """Indicators of every cluster the actor reads, one row per cluster (for files)."""
    ids = visible_clusters(session, actor)
    ev = evaluate(session, year, ids)
    columns = ["cluster_id", "cluster", "year", *(i.code for i in CATALOGUE)]
    rows: list[list[object]] = [
        [cid, ev.facts[cid].name, year, *(ev.values[cid][i.code] for i in CATALOGUE)]
        for cid in sorted(ev.values)
    ]
    return columns, rows


def declare_value(
    session: Session, actor: Actor, cluster_id: int, data: DeclareIn, proof: Evidence | None = None
) -> IndicatorValue:
    """Declare (or replace) a cluster's value for an indicator and year, with its evidence."""
    policy.require_declare(session, actor, cluster_id, "déclarer une valeur d'indicateur")
    name, digest = files.store(proof) if proof is not None else (None, None)
    row = declared_for(session, cluster_id, data.indicator, data.year)
    if row is None:
        row = DeclaredValue(cluster_id=cluster_id, indicator=data.indicator, year=data.year)
        session.add(row)
    row.value = Decimal(str(data.value))
    row.declared_by = actor.label
    if digest is not None:
        row.evidence_name, row.evidence_sha256 = name, digest
    ContractRepository(session).flush()
    definition = BY_CODE[data.indicator]
    return IndicatorValue(
        indicator=definition.code,
        name=definition.name,
        unit=definition.unit.value,
        value=float(row.value),
        declared=True,
        evidence_name=row.evidence_name,
    )


def may_declare(session: Session, actor: Actor, cluster_id: int) -> bool:
    """Whether the actor declares values and the self-assessment of a cluster (pages show the form)."""
    return policy.evaluation_access(session, actor, cluster_id) >= Access.MANAGE


def self_assess(
    session: Session, actor: Actor, cluster_id: int, data: SelfAssessmentIn, proof: Evidence | None = None
) -> AreaOut:
    """Record the management's mark of one area for a year, with evidence."""
    policy.require_declare(session, actor, cluster_id, "renseigner l'auto-évaluation")
    name, digest = files.store(proof) if proof is not None else (None, None)
    row = self_assessment_for(session, cluster_id, data.year, data.area.value)
    if row is None:
        row = SelfAssessment(cluster_id=cluster_id, year=data.year, area=data.area.value)
        session.add(row)
    row.score, row.comment, row.declared_by = data.score, data.comment, actor.label
    if digest is not None:
        row.evidence_name, row.evidence_sha256 = name, digest
    ContractRepository(session).flush()
    area_name = next(n for code, n, _ in AREAS if code == data.area.value)
    return AreaOut(
        area=data.area.value,
        name=area_name,
        score=row.score,
        comment=row.comment,
        evidence_name=row.evidence_name,
        items=[],
    )


# --------------------------------------------------------------------------------------------
# contracts


def _contract_out(
    session: Session, contract: ObjectivesContract, cluster_name: str | None = None
) -> ContractOut:
    funders = funder_names(session, [contract.funder_id])
    if cluster_name is None:
        cluster_name = cluster_names(session, [contract.cluster_id]).get(contract.cluster_id, "")
    return ContractOut(
        id=contract.id,
        cluster_id=contract.cluster_id,
        cluster_name=cluster_name,
        funder_id=contract.funder_id,
        funder_name=funders.get(contract.funder_id, ""),
        call_id=contract.call_id,
        title=contract.title,
        start_year=contract.start_year,
        end_year=contract.end_year,
        amount_eur=contract.amount_eur,
        share_at_stake=contract.share_at_stake,
        signed_on=contract.signed_on,
        version=contract.version,
        indicators=[
            ContractIndicatorOut(
                indicator=row.indicator,
                name=BY_CODE[row.indicator].name if row.indicator in BY_CODE else row.indicator,
                baseline=None if row.baseline is None else float(row.baseline),
                weight=float(row.weight),
                targets={t.year: float(t.target) for t in row.targets},
            )
            for row in contract.indicators
        ],
    )


def create_contract(session: Session, actor: Actor, data: ContractIn) -> ContractOut:
    """A funder (or the admin) signs an objectives contract with a cluster it funds."""
    funder_id = data.funder_id
    if funder_id is None:
        if actor.role is not Role.FUNDER or actor.funder_id is None:
            raise InputError("contrat d'objectifs : précisez le financeur (funder_id)")
        funder_id = actor.funder_id
    if not funder_names(session, [funder_id]):
        raise NotFoundError(f"financeur {funder_id} introuvable")
    policy.require_contract_write(session, actor, data.cluster_id, funder_id)
    contract = ObjectivesContract(
        cluster_id=data.cluster_id,
        funder_id=funder_id,
        call_id=data.call_id,
        title=data.title,
        start_year=data.start_year,
        end_year=data.end_year,
        amount_eur=data.amount_eur,
        share_at_stake=data.share_at_stake,
        signed_on=data.signed_on,
        indicators=[
            ContractIndicator(
                indicator=row.indicator,
                baseline=None if row.baseline is None else Decimal(str(row.baseline)),
                weight=Decimal(str(row.weight)),
                targets=[
                    ContractTarget(year=year, target=Decimal(str(target)))
                    for year, target in row.target_by_year().items()
                ],
            )
            for row in data.indicators
        ],
    )
    repository = ContractRepository(session)
    repository.add(contract)
    repository.flush()
    return _contract_out(session, contract)


def get_contract(session: Session, actor: Actor, contract_id: int) -> ContractOut:
    contract = ContractRepository(session).load(contract_id)
    policy.require_contract(session, actor, contract, Access.READ, "consulter le contrat")
    return _contract_out(session, contract)


def delete_contract(session: Session, actor: Actor, contract_id: int) -> None:
    """Withdraw a contract (the signing funder or the admin)."""
    repository = ContractRepository(session)
    contract = repository.load(contract_id)
    policy.require_contract(session, actor, contract, Access.MANAGE, "retirer le contrat")
    session.delete(contract)
    repository.flush()


def list_contracts(
    session: Session, actor: Actor, *, cluster_id: int | None = None, limit: int = 100, offset: int = 0
) -> ContractPage:
    """Contracts the actor reads: all (admin), its own (funder), its clusters' (manager)."""
    clusters, funder_id = policy.contract_clusters(session, actor)
    if cluster_id is not None:
        policy.require_read(session, actor, cluster_id, "consulter les contrats d'objectifs")
        clusters = {cluster_id} if clusters is None or cluster_id in clusters else set()
    repository = ContractRepository(session)
    total, rows = repository.page(repository.visible(clusters, funder_id), limit, offset)
    names = cluster_names(session, {c.cluster_id for c in rows})
    return ContractPage(total=total, items=[_contract_out(session, c, names.get(c.cluster_id)) for c in rows])


def contract_year(session: Session, actor: Actor, contract_id: int, year: int) -> ContractYear:
    """A contract's year: actual values against targets and the results-based funding."""
    contract = ContractRepository(session).load(contract_id)
    policy.require_contract(session, actor, contract, Access.READ, "consulter les résultats du contrat")
    return _contract_year(session, contract, year, evaluate(session, year, [contract.cluster_id]))


def _contract_year(session: Session, contract: ObjectivesContract, year: int, ev: Evaluated) -> ContractYear:
    if not contract.start_year <= year <= contract.end_year:
        raise InputError(
            f"contrat {contract.id} : l'année {year} est hors de la période "
            f"{contract.start_year}–{contract.end_year}"
        )
    values = ev.of(contract.cluster_id)
    items: list[IndicatorResult] = []
    for row in contract.indicators:
        target = next((t for t in row.targets if t.year == year), None)
        if target is None:
            continue
        definition = BY_CODE[row.indicator]
        actual = values.get(row.indicator)
        baseline = None if row.baseline is None else float(row.baseline)
        items.append(
            IndicatorResult(
                indicator=row.indicator,
                name=definition.name,
                baseline=baseline,
                target=float(target.target),
                actual=actual,
                declared=(contract.cluster_id, row.indicator) in ev.declared,
                achievement=scoring.achievement(
                    actual, float(target.target), baseline, definition.higher_is_better
                ),
                weight=float(row.weight),
            )
        )
    funding = scoring.results_based_funding(
        contract.amount_eur,
        contract.end_year - contract.start_year + 1,
        contract.share_at_stake,
        [(i.weight, i.achievement) for i in items],
    )
    return ContractYear(
        contract_id=contract.id,
        year=year,
        yearly_amount_eur=funding.yearly_amount,
        at_stake_eur=funding.at_stake,
        achievement=funding.achievement,
        paid_eur=funding.paid,
        indicators=items,
    )


# --------------------------------------------------------------------------------------------
# peers, scorecards, benchmarks


def _sector(facts_sectors: Sequence[str]) -> str | None:
    from grappe.refdata import naf

    for code in facts_sectors:
        try:
            return naf.ancestor(code, "section")
        except (KeyError, ValueError):
            continue
    return None


@dataclass(frozen=True)
class _Key:
    label: str | None
    sector: str | None
    size: str | None


def _key(ev: Evaluated, cluster_id: int, criteria: Collection[str]) -> _Key:
    facts = ev.facts[cluster_id]
    return _Key(
        facts.label if "label" in criteria else None,
        _sector(facts.sectors) if "sector" in criteria else None,
        scoring.size_band(ev.values[cluster_id]["members"]) if "size" in criteria else None,
    )


def _criteria(criteria: Collection[str] | None) -> tuple[str, ...]:
    chosen = tuple(PEER_CRITERIA if criteria is None else criteria)
    unknown = [c for c in chosen if c not in PEER_CRITERIA]
    if unknown:
        raise InputError(f"critère de pairs « {unknown[0]} » inconnu (attendu : {', '.join(PEER_CRITERIA)})")
    return chosen


def _peer_groups(ev: Evaluated, criteria: Collection[str]) -> dict[_Key, list[int]]:
    groups: dict[_Key, list[int]] = {}
    for cid in sorted(ev.values):
        groups.setdefault(_key(ev, cid, criteria), []).append(cid)
    return groups


def _group_out(key: _Key, count: int) -> PeerGroup:
    return PeerGroup(label=key.label, sector=key.sector, size_band=key.size, count=count)


Rankers = dict[tuple[Any, str], scoring.Ranker]


def _ranker(ev: Evaluated, peers: Sequence[int], code: str, rankers: Rankers, key: Any) -> scoring.Ranker:
    """The ranker of an indicator among a peer group, built once per group and indicator."""
    found = rankers.get((key, code))
    if found is None:
        values = [v for p in peers if (v := ev.values[p][code]) is not None]
        found = rankers[(key, code)] = scoring.Ranker(values, BY_CODE[code].higher_is_better)
    return found


def _reading(
    ev: Evaluated,
    cid: int,
    code: str,
    peers: Sequence[int],
    limits: Mapping[str, scoring.Threshold],
    rankers: Rankers,
    key: Any,
) -> Reading:
    definition = BY_CODE[code]
    value = ev.values[cid][code]
    ranker = _ranker(ev, peers, code, rankers, key)
    # Built from values already typed (thousands per scorecard batch): no validation pass.
    return Reading.model_construct(
        indicator=code,
        name=definition.name,
        unit=definition.unit.value,
        value=value,
        declared=(cid, code) in ev.declared,
        colour=limits[code].colour(value).value,
        percentile=ranker.rank(value),
        peer_median=ranker.distribution.median,
    )


def _scorecard(
    session: Session | None,
    ev: Evaluated,
    cid: int,
    peers: Sequence[int],
    key: _Key,
    limits: Mapping[str, scoring.Threshold],
    rankers: Rankers | None = None,
) -> Scorecard:
    rankers = {} if rankers is None else rankers
    marks = []
    for mark, name, seed, codes in MARKS:
        readings = [_reading(ev, cid, code, peers, limits, rankers, key) for code in codes]
        colour = scoring.mark_colour([scoring.Colour(r.colour) for r in readings])
        marks.append(MarkOut(mark=mark.value, name=name, seed=seed, colour=colour.value, items=readings))
    assessed = {row.area: row for row in self_assessments(session, cid, ev.year)} if session else {}
    areas = []
    for code, name, codes in AREAS:
        row = assessed.get(code)
        areas.append(
            AreaOut(
                area=code,
                name=name,
                score=row.score if row else None,
                comment=row.comment if row else None,
                evidence_name=row.evidence_name if row else None,
                items=[_reading(ev, cid, c, peers, limits, rankers, key) for c in codes],
            )
        )
    return Scorecard(
        cluster_id=cid,
        cluster_name=ev.facts[cid].name,
        year=ev.year,
        peers=_group_out(key, len(peers)),
        marks=marks,
        areas=areas,
    )


def scorecard(
    session: Session,
    actor: Actor,
    cluster_id: int,
    year: int,
    *,
    overrides: Mapping[str, tuple[float, float]] | None = None,
    criteria: Collection[str] | None = None,
) -> Scorecard:
    """A cluster's marks (seeds 000 and 001) and self-assessment areas, read red/amber/green
    against thresholds and ranked among its peers (all clusters of the platform, anonymised)."""
    policy.require_scorecard(session, actor, cluster_id)
    chosen = _criteria(criteria)
    limits = scoring.thresholds(overrides)
    ev = evaluate(session, year)
    if cluster_id not in ev.values:
        raise NotFoundError(f"structure {cluster_id} introuvable")
    key = _key(ev, cluster_id, chosen)
    peers = _peer_groups(ev, chosen)[key]
    return _scorecard(session, ev, cluster_id, peers, key, limits)


def scorecards(
    session: Session,
    actor: Actor,
    year: int,
    *,
    overrides: Mapping[str, tuple[float, float]] | None = None,
    criteria: Collection[str] | None = None,
) -> list[Scorecard]:
    """The scorecards of every cluster the actor reads, in one evaluation of the platform."""
    ids = visible_clusters(session, actor)
    chosen = _criteria(criteria)
    limits = scoring.thresholds(overrides)
    ev = evaluate(session, year)
    groups = _peer_groups(ev, chosen)
    rankers: Rankers = {}
    out = [
        _scorecard(None, ev, cid, members, key, limits, rankers)
        for key, members in groups.items()
        for cid in members
        if ids is None or cid in ids
    ]
    return sorted(out, key=lambda s: s.cluster_id)


def benchmark(
    session: Session,
    actor: Actor,
    cluster_id: int,
    code: str,
    year: int,
    *,
    criteria: Collection[str] | None = None,
) -> Benchmark:
    """An indicator of a cluster against its peers: percentile ranks and distribution.

    Peers are named for the admin and for a funder of both; "Pair n" otherwise.
    """
    policy.require_read(session, actor, cluster_id, "comparer la structure à ses pairs")
    indicator(code)
    chosen = _criteria(criteria)
    ev = evaluate(session, year)
    if cluster_id not in ev.values:
        raise NotFoundError(f"structure {cluster_id} introuvable")
    groups = _peer_groups(ev, chosen)
    return _benchmark(
        ev, groups, chosen, cluster_id, code, policy.named_peers(session, actor, cluster_id), {}
    )


def benchmarks(
    session: Session, actor: Actor, code: str, year: int, *, criteria: Collection[str] | None = None
) -> list[Benchmark]:
    """The benchmark of an indicator for every cluster the actor reads, from one evaluation."""
    indicator(code)
    chosen = _criteria(criteria)
    ids = visible_clusters(session, actor)
    ev = evaluate(session, year)
    groups = _peer_groups(ev, chosen)
    named = None if actor.role is Role.ADMIN else policy.named_peers_all(session, actor)
    rankers: Rankers = {}
    return [
        _benchmark(ev, groups, chosen, cid, code, named, rankers)
        for cid in sorted(ev.values)
        if ids is None or cid in ids
    ]


def _benchmark(
    ev: Evaluated,
    groups: Mapping[_Key, list[int]],
    chosen: Collection[str],
    cluster_id: int,
    code: str,
    named: set[int] | None,
    rankers: Rankers,
) -> Benchmark:
    definition = BY_CODE[code]
    key = _key(ev, cluster_id, chosen)
    peers = groups[key]
    ranker = _ranker(ev, peers, code, rankers, key)
    sign = 1 if definition.higher_is_better else -1
    ordered = sorted(peers, key=lambda p: (ev.values[p][code] is None, -sign * (ev.values[p][code] or 0), p))
    items = []
    anonymous = 0
    for cid in ordered:
        value = ev.values[cid][code]
        if cid == cluster_id or named is None or (cluster_id in named and cid in named):
            name = ev.facts[cid].name
        else:
            anonymous += 1
            name = f"Pair {anonymous}"
        items.append(
            PeerValue.model_construct(
                name=name,
                value=value,
                percentile=ranker.rank(value),
                is_self=cid == cluster_id,
            )
        )
    spread = ranker.distribution
    return Benchmark(
        cluster_id=cluster_id,
        cluster_name=ev.facts[cluster_id].name,
        indicator=code,
        name=definition.name,
        year=ev.year,
        value=ev.values[cluster_id][code],
        percentile=ranker.rank(ev.values[cluster_id][code]),
        peers=_group_out(key, len(peers)),
        distribution=DistributionOut(**spread.__dict__),
        total=len(items),
        items=items,
    )


# --------------------------------------------------------------------------------------------
# reports


@dataclass(frozen=True)
class ActivityReport:
    """What a cluster's yearly activity report shows."""

    scorecard: Scorecard
    indicators: IndicatorValues
    previous: IndicatorValues
    contracts: list[ContractYear]
    member_places: list[tuple[float, float]]  # Lambert-93 points of the members' communes
    territory_places: list[tuple[float, float]]


@dataclass(frozen=True)
class PortfolioRow:
    scorecard: Scorecard
    contract: ContractOut | None
    results: ContractYear | None
    place: tuple[float, float] | None  # the middle of the cluster's territory (Lambert-93)


@dataclass(frozen=True)
class Portfolio:
    """What a funder's portfolio evaluation shows."""

    funder_id: int
    funder_name: str
    year: int
    rows: list[PortfolioRow]


def activity_report(session: Session, actor: Actor, cluster_id: int, year: int) -> ActivityReport:
    """A cluster's yearly activity report: scorecard, indicators over two years, contracts, map."""
    policy.require_scorecard(session, actor, cluster_id)
    card = scorecard(session, actor, cluster_id, year)
    now, before = evaluate(session, year, [cluster_id]), evaluate(session, year - 1, [cluster_id])

    def values(ev: Evaluated) -> IndicatorValues:
        items = [
            IndicatorValue(
                indicator=i.code,
                name=i.name,
                unit=i.unit.value,
                value=ev.of(cluster_id).get(i.code),
                declared=(cluster_id, i.code) in ev.declared,
                evidence_name=ev.declared.get((cluster_id, i.code)),
            )
            for i in CATALOGUE
        ]
        return IndicatorValues(
            cluster_id=cluster_id, cluster_name=card.cluster_name, year=ev.year, total=len(items), items=items
        )

    contracts: list[ContractYear] = []
    if policy.evaluation_access(session, actor, cluster_id) >= Access.READ:
        contracts = [
            _contract_year(session, contract, year, now)
            for contract in ContractRepository(session).of_cluster(cluster_id)
            if policy.contract_access(session, actor, contract) is not Access.NONE
            and contract.start_year <= year <= contract.end_year
        ]
    return ActivityReport(
        card,
        values(now),
        values(before),
        contracts,
        member_points(session, year, cluster_id),
        territory_points(now.facts[cluster_id].territories),
    )


def portfolio(session: Session, actor: Actor, year: int, funder_id: int | None = None) -> Portfolio:
    """A funder's portfolio evaluation: the scorecard and contract results of each cluster it funds."""
    funder = policy.portfolio_funder(actor, funder_id)
    names = funder_names(session, [funder])
    if not names:
        raise NotFoundError(f"financeur {funder} introuvable")
    funded = policy.funder_clusters(session, funder)
    cards = {s.cluster_id: s for s in scorecards(session, actor, year) if s.cluster_id in funded}
    contracts = {c.cluster_id: c for c in ContractRepository(session).of_funder(funder)}
    ev = evaluate(session, year, sorted(cards))
    rows = []
    for cid in sorted(cards):
        contract = contracts.get(cid)
        results = None
        if contract is not None and contract.start_year <= year <= contract.end_year:
            results = _contract_year(session, contract, year, ev)
        points = territory_points(ev.facts[cid].territories)
        place = (
            (sum(x for x, _ in points) / len(points), sum(y for _, y in points) / len(points))
            if points
            else None
        )
        out = None if contract is None else _contract_out(session, contract)
        rows.append(PortfolioRow(cards[cid], out, results, place))
    return Portfolio(funder, names[funder], year, rows)
