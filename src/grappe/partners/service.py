"""Partner search on the registry: the index of every stored organisation, and batch suggestions."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Final

import numpy as np
from sqlalchemy.orm import Session

from grappe.cooperation.repository import Layer, Scope, network_ties
from grappe.errors import InputError
from grappe.kit.tables import Issue, Row
from grappe.partners import repository
from grappe.partners.search import (
    Need,
    Organisation,
    PartnerIndex,
    SectorRelatedness,
    Suggestion,
    Tie,
)
from grappe.registry.identifiers import name_key
from grappe.registry.policy import Actor, require_admin


class SearchScope(StrEnum):
    """Whom a batch suggests: the query's cluster(s) members, any cluster's members, or everyone."""

    CLUSTER = "cluster"
    CLUSTERS = "clusters"
    ALL = "all"


QUERY_COLUMN: Final = "organisation"
"""The query column of a batch (CONTRACTS: partner queries)."""
SUGGESTION_COLUMNS: Final = ("query", "suggestion", "rank", "score", "reasons")
SUGGESTION_LABELS: Final = {
    "query": "Demande",
    "suggestion": "Partenaire suggéré",
    "rank": "Rang",
    "score": "Score",
    "reasons": "Raisons",
}
"""French headers of an XLSX output."""

# "Gif Sur Yvette Cedex", "Paris 5", "Lyon 07": the delivery suffix and district are not the town.
_POSTAL_TAIL = re.compile(r"(\s+cedex)?(\s+\d{1,2})?(\s+cedex)?$")


@dataclass(frozen=True)
class _Place:
    departement: str
    position: tuple[float, float]


@cache
def _places() -> tuple[dict[str, _Place], dict[str, _Place]]:
    """Communes by code and by name key (of homonyms, the most populous: the likelier meant)."""
    from grappe.refdata.territories import communes

    table = communes().to_pylist()
    by_code: dict[str, _Place] = {}
    by_name: dict[str, tuple[int, _Place]] = {}
    for commune in table:
        place = _Place(commune["departement"], (commune["x"], commune["y"]))
        by_code[commune["code"]] = place
        key = name_key(commune["name"])
        if key not in by_name or by_name[key][0] < commune["population"]:
            by_name[key] = (commune["population"], place)
    return by_code, {key: place for key, (_, place) in by_name.items()}


def _place(commune: str | None, town: str | None) -> _Place | None:
    by_code, by_name = _places()
    if commune and commune in by_code:
        return by_code[commune]
    if town:
        return by_name.get(_POSTAL_TAIL.sub("", name_key(town)))
    return None


def _naf_label(code: str | None) -> str | None:
    from grappe.refdata import naf

    if not code:
        return None
    try:
        return naf.label(code)
    except InputError:  # a code the registry kept from an older nomenclature
        return None


@dataclass(frozen=True)
class StoredIndex:
    """The partner index of the registry and what a batch needs to read queries against it."""

    index: PartnerIndex
    by_key: dict[str, list[int]]
    clusters: dict[int, frozenset[int]]

    def members(self, clusters: Iterable[int] | None = None) -> frozenset[int]:
        """Organisations member of one of ``clusters`` (None: of any cluster)."""
        wanted = None if clusters is None else set(clusters)
        return frozenset(
            oid for oid, mine in self.clusters.items() if mine and (wanted is None or mine & wanted)
        )


def sector_relatedness(store: Path, territory_level: str = "ze") -> SectorRelatedness:
    """Co-location relatedness of the NAF divisions across a fabric store's territories.

    The proximity of Hidalgo et al. (2007) from :func:`grappe.detection.relatedness.relatedness`
    (presence where the location quotient is at least 1): two divisions are related when they
    are over-represented in the same territories.
    """
    from grappe.detection.aggregate import aggregate
    from grappe.detection.relatedness import relatedness

    related = relatedness(aggregate(store, territory_level, "division", dynamics=False))
    return SectorRelatedness([str(code) for code in related.sectors], np.asarray(related.matrix))


def build_index(
    session: Session,
    *,
    until_edition: int | None = None,
    on: dt.date | None = None,
    relatedness: SectorRelatedness | None = None,
    profile_texts: Mapping[int, str] | None = None,
    projects: Callable[[repository.Participation], bool] | None = None,
    link_clusters: Collection[int] | None = None,
) -> StoredIndex:
    """The partner index of every stored organisation.

    Documents hold the name, the NAF label and the acronyms, titles and summaries of the
    organisation's projects; ties are shared projects, confirmed links and deals. With
    ``until_edition``, only projects of calls up to that year count (texts and ties), only
    their partners are searched, and links and deals are left out: what a search knew at the
    end of that year. ``relatedness`` (from :func:`sector_relatedness`) replaces the NAF
    division rule of the sector component.

    What a searcher may see narrows the index: ``profile_texts`` adds each organisation's
    profile words it may read, ``projects`` keeps the projects it may know (texts and ties),
    ``link_clusters`` keeps the links and deals of those clusters only (None: all of them).
    """
    day = on or dt.date.today()
    texts: dict[int, list[str]] = defaultdict(list)
    partners: dict[int, list[int]] = defaultdict(list)
    for part in repository.participations(session, until_edition):
        if projects is not None and not projects(part):
            continue
        texts[part.organisation_id].append(" ".join(filter(None, (part.acronym, part.title, part.summary))))
        partners[part.project_id].append(part.organisation_id)
    ties = [
        Tie(a, b)
        for members in partners.values()
        for i, a in enumerate(members)
        for b in members[i + 1 :]
    ]
    if until_edition is None:
        scopes = [Scope()] if link_clusters is None else [Scope(cluster_id=c) for c in sorted(link_clusters)]
        ties += [Tie(t.organisation_a, t.organisation_b, t.weight)
                 for scope in scopes
                 for t in network_ties(session, scope, (Layer.LINKS, Layer.BUSINESS))]
    clusters: dict[int, set[int]] = defaultdict(set)
    for organisation_id, cluster_id in repository.memberships_on(session, day):
        clusters[organisation_id].add(cluster_id)
    organisations = []
    by_key: dict[str, list[int]] = defaultdict(list)
    for row in repository.organisations(session):
        if until_edition is not None and row.id not in texts:
            continue  # first seen after that year: unknown then
        place = _place(row.commune, row.town)
        organisations.append(
            Organisation(
                id=row.id,
                name=row.name,
                kind=row.kind,
                text=" ".join((*texts.get(row.id, ()), (profile_texts or {}).get(row.id, ""))).strip(),
                naf=row.naf,
                naf_label=_naf_label(row.naf),
                departement=place.departement if place else None,
                position=place.position if place else None,
                size=row.size_category,
                clusters=frozenset(clusters.get(row.id, ())),
            )
        )
        by_key[row.name_key or name_key(row.name)].append(row.id)
    index = PartnerIndex(
        organisations,
        ties,
        relatedness=relatedness,
        value_chain=[(a[:2], b[:2]) for a, b in repository.supplier_customer_sectors(session)],
    )
    return StoredIndex(index, dict(by_key), {o.id: o.clusters for o in organisations})


@dataclass(frozen=True)
class BatchRow:
    """One line of a batch's output."""

    query: str
    suggestion: str
    rank: int
    score: float
    reasons: str


def _resolve(stored: StoredIndex, row: Row) -> int | str:
    """The organisation a query names (an id, or a stored name), or the French reason it names none."""
    text = row.values[QUERY_COLUMN].strip()
    if text.isdigit() and int(text) in stored.clusters:
        return int(text)
    found = stored.by_key.get(name_key(text), [])
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        ids = ", ".join(str(i) for i in found[:5])
        return f"nom porté par {len(found)} organisations ({ids}) : donner le n° de l'une d'elles"
    return "aucune organisation enregistrée de ce nom ou de ce n°"


def suggest_batch(
    session: Session,
    actor: Actor,
    path: Path,
    queries: Sequence[Row],
    *,
    top: int,
    scope: SearchScope = SearchScope.ALL,
    relatedness: SectorRelatedness | None = None,
) -> tuple[list[BatchRow], list[Issue]]:
    """Suggestions for each query row of file ``path``; the rows answered nothing, as issues."""
    require_admin(actor, "suggérer des partenaires parmi toutes les organisations enregistrées")
    from grappe.partners import policy, sharing
    from grappe.partners.models import Visibility

    # What any other cluster may read of a profile: its public fields, with its consent.
    consented = {oid: p for oid, p in sharing.profiles(session, None).items() if p.consent}
    texts = {oid: policy.profile_words(p, Visibility.PUBLIC) for oid, p in consented.items()}
    stored = build_index(session, relatedness=relatedness, profile_texts=texts)
    rows: list[BatchRow] = []
    skipped: list[Issue] = []
    for query in queries:
        found = _resolve(stored, query)
        if isinstance(found, str):
            skipped.append(Issue(path, query.line, QUERY_COLUMN, query.values[QUERY_COLUMN], found))
            continue
        among: frozenset[int] | None = None
        if scope is SearchScope.CLUSTERS:
            # its clusters' members, and the consenting members of the clusters sharing with them
            mine = stored.clusters.get(found, frozenset())
            reached = sharing.sharing_with(session, mine) if mine else set()
            among = stored.members(mine) | (stored.members(reached) & consented.keys())
        elif scope is SearchScope.CLUSTER:
            mine = stored.clusters.get(found, frozenset())
            if not mine:
                skipped.append(Issue(path, query.line, QUERY_COLUMN, query.values[QUERY_COLUMN],
                                     "membre d'aucune grappe : --scope cluster sans objet"))
                continue
            among = stored.members(mine)
        suggestions: list[Suggestion] = stored.index.search(Need(organisation=found, among=among), top)
        if not suggestions:
            skipped.append(Issue(path, query.line, QUERY_COLUMN, query.values[QUERY_COLUMN],
                                 "aucun candidat dans ce périmètre"))
        text = query.values[QUERY_COLUMN]
        rows += [
            BatchRow(text, s.name, rank, s.score, " ; ".join(s.reasons))
            for rank, s in enumerate(suggestions, start=1)
        ]
    return rows, skipped


def write_suggestions(path: Path, rows: Sequence[BatchRow]) -> None:
    """Write the suggestions as CSV (for programs) or XLSX (French headers), by the suffix."""
    from grappe.kit import export

    export.write(
        path,
        [(r.query, r.suggestion, r.rank, r.score, r.reasons) for r in rows],
        columns=SUGGESTION_COLUMNS,
        labels=SUGGESTION_LABELS,
        sheet="Suggestions",
    )
