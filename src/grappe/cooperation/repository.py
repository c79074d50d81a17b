"""All SQL of the cooperation domain: lookups, bulk inserts of imports, lists, figures, network ties."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, NamedTuple, TypeVar

from sqlalchemy import Select, bindparam, delete, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, selectinload

from grappe.cooperation.actions.models import Event, EventRegistration
from grappe.cooperation.models import (
    BusinessDeal,
    CooperationLink,
    LinkState,
    Project,
    ProjectFunding,
    ProjectLabel,
    ProjectPartner,
    ProjectTransition,
)
from grappe.kit.repository import Repository
from grappe.registry.models import Membership, Organisation, utcnow
from grappe.storage.sql import Base

T = TypeVar("T")

CHUNK: Final = 5_000
"""Values per ``IN (...)`` list: far below SQLite's 32,766 bound parameters and PostgreSQL's 65,535."""


def _chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- organisations known by name ---------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationRef:
    """An organisation as an import matches it: id, stored name and SIREN."""

    id: int
    name: str
    siren: str | None


def same_organisation(ref: OrganisationRef | None, siren: str | None) -> bool:
    """Whether the organisation found by a partner's name key and kind is the partner's.

    It is unless both have a SIREN and they differ: two legal units may share a name. (A
    partner whose SIREN is stored is that SIREN's organisation, looked up first.)
    """
    return ref is not None and (siren is None or ref.siren in (None, siren))


def organisations_by_siren(session: Session, sirens: Iterable[str]) -> dict[str, int]:
    """Ids of the stored organisations of these SIRENs."""
    found: dict[str, int] = {}
    for chunk in _chunks(sirens):
        rows = session.execute(
            select(Organisation.siren, Organisation.id).where(Organisation.siren.in_(chunk))
        )
        found.update({siren: oid for siren, oid in rows if siren is not None})
    return found


def organisations_by_name_key(
    session: Session, keys: Iterable[str]
) -> dict[tuple[str, str], OrganisationRef]:
    """Stored organisations by (name key, kind); of several, the oldest (the first created)."""
    found: dict[tuple[str, str], OrganisationRef] = {}
    for chunk in _chunks(keys):
        rows = session.execute(
            select(
                Organisation.name_key,
                Organisation.kind,
                Organisation.id,
                Organisation.name,
                Organisation.siren,
            )
            .where(Organisation.name_key.in_(chunk))
            .order_by(Organisation.id.desc())
        )
        for key, kind, oid, name, siren in rows:
            if key is not None:
                found[(key, kind)] = OrganisationRef(oid, name, siren)
    return found


def insert_organisations(session: Session, rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert organisations (``name, name_key, kind, siren, town, country``); ids by (key, kind)."""
    now = utcnow()
    statement = insert(Organisation).returning(
        Organisation.id, Organisation.name_key, Organisation.kind, sort_by_parameter_order=True
    )
    result = session.execute(
        statement, [row | {"version": 1, "in_fabric": False, "created_at": now} for row in rows]
    )
    return {(key or "", kind): oid for oid, key, kind in result}


def set_sirens(session: Session, sirens: dict[int, str]) -> None:
    """Give organisations known by name only the SIREN now known (``{id: siren}``)."""
    if not sirens:
        return
    session.connection().execute(
        update(Organisation.__table__)  # type: ignore[arg-type]
        .where(Organisation.__table__.c.id == bindparam("oid"))
        .values(siren=bindparam("new_siren"), version=Organisation.__table__.c.version + 1),
        [{"oid": oid, "new_siren": siren} for oid, siren in sirens.items()],
    )


# --- imported projects -------------------------------------------------------------------------


def project_ids_by_code(session: Session, codes: Iterable[str]) -> dict[str, int]:
    """Ids of the stored projects of these codes."""
    found: dict[str, int] = {}
    for chunk in _chunks(codes):
        rows = session.execute(select(Project.code, Project.id).where(Project.code.in_(chunk)))
        found.update({code: pid for code, pid in rows if code is not None})
    return found


def stored_partner_codes(session: Session, codes: Iterable[str]) -> set[str]:
    """The partner codes among ``codes`` already stored."""
    found: set[str] = set()
    for chunk in _chunks(codes):
        found.update(
            code
            for code in session.scalars(select(ProjectPartner.code).where(ProjectPartner.code.in_(chunk)))
            if code is not None
        )
    return found


def insert_projects(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert projects (column values, ``code`` included); their ids by code."""
    if not rows:
        return {}
    now = utcnow()
    defaults = {"confidential": False, "version": 1, "created_at": now}
    result = session.execute(
        insert(Project).returning(Project.code, Project.id, sort_by_parameter_order=True),
        [defaults | row for row in rows],
    )
    return {code or "": pid for code, pid in result}


def insert_project_details(
    session: Session, *, fundings: Sequence[dict[str, Any]], transitions: Sequence[dict[str, Any]]
) -> None:
    """Insert fundings and status transitions of new projects."""
    if fundings:
        session.execute(insert(ProjectFunding), list(fundings))
    if transitions:
        now = utcnow()
        session.execute(insert(ProjectTransition), [row | {"recorded_at": now} for row in transitions])


def insert_partners(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert project partners (column values)."""
    if rows:
        session.execute(insert(ProjectPartner), list(rows))


# --- the network's ties --------------------------------------------------------------------------


class Layer(StrEnum):
    """Layers of the cooperation network stored so far."""

    PROJECTS = "projects"  # partners of the same project
    LINKS = "links"  # confirmed cooperation links
    EVENTS = "events"  # both attended the same event
    BUSINESS = "business"  # deals between the two


class Tie(NamedTuple):
    """One tie of a layer; ``organisation_a < organisation_b``; ``date`` None when undated."""

    organisation_a: int
    organisation_b: int
    weight: float
    layer: str
    date: dt.date | None


class Node(NamedTuple):
    """An organisation of the network's scope."""

    id: int
    name: str
    kind: str
    size_category: str | None
    member: bool  # of the cluster in scope (with --all: of any cluster, over the period)


@dataclass(frozen=True)
class Scope:
    """What a network covers: one cluster organisation (None: every stored organisation) and a period.

    A record counts when its period meets ``[start, end]``; without any bound, undated records
    count too (CONTRACTS: all periods, undated projects included).
    """

    cluster_id: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None

    @property
    def dated(self) -> bool:
        return self.start is not None or self.end is not None


def _meets(scope: Scope, first: Any, last: Any) -> list[Any]:
    """Conditions of a record whose period [first, last] meets the scope's (NULL: open end)."""
    if not scope.dated:
        return []
    conditions = [or_(first.is_not(None), last.is_not(None))]
    if scope.end is not None:
        conditions.append(or_(first.is_(None), first <= scope.end))
    if scope.start is not None:
        conditions.append(or_(last.is_(None), last >= scope.start))
    return conditions


def _members(scope: Scope) -> Select[int]:
    """Organisations that were members of the scope's cluster (any cluster) during its period."""
    query = select(Membership.organisation_id).distinct()
    if scope.cluster_id is not None:
        query = query.where(Membership.cluster_id == scope.cluster_id)
    if scope.end is not None:
        query = query.where(Membership.joined <= scope.end)
    # without a period: today's members and those to come
    after = scope.start if scope.dated else dt.date.today()
    if after is not None:
        query = query.where(Membership.runs_after(after))
    return query


def _scope_projects(scope: Scope) -> Select[int]:
    """Projects of the scope: the cluster's own, labelled by it, or with one of its members."""
    query = select(Project.id)
    if scope.cluster_id is not None:
        labelled = select(ProjectLabel.project_id).where(ProjectLabel.cluster_id == scope.cluster_id)
        with_member = select(ProjectPartner.project_id).where(
            ProjectPartner.organisation_id.in_(_members(scope))
        )
        query = query.where(
            or_(Project.cluster_id == scope.cluster_id, Project.id.in_(labelled), Project.id.in_(with_member))
        )
    # A project without an end date is taken as lasting its start day only: the ANR gives
    # start dates alone, and an open end would put every old project in every later year.
    return query.where(*_meets(scope, Project.start, func.coalesce(Project.end_date, Project.start)))


def _project_ties(session: Session, scope: Scope) -> list[Tie]:
    mine = _scope_projects(scope).subquery()
    pairs = (
        select(ProjectPartner.project_id, ProjectPartner.organisation_id)
        .where(ProjectPartner.project_id.in_(select(mine.c.id)), ProjectPartner.organisation_id.is_not(None))
        .distinct()
        .subquery()
    )
    a, b = pairs.alias("a"), pairs.alias("b")
    rows = session.execute(
        select(a.c.organisation_id, b.c.organisation_id, Project.start)
        .join(b, (a.c.project_id == b.c.project_id) & (a.c.organisation_id < b.c.organisation_id))
        .join(Project, Project.id == a.c.project_id)
    )
    return [Tie(x, y, 1.0, Layer.PROJECTS.value, day) for x, y, day in rows]


def _link_ties(session: Session, scope: Scope) -> list[Tie]:
    query = select(
        CooperationLink.organisation_a_id,
        CooperationLink.organisation_b_id,
        CooperationLink.intensity,
        CooperationLink.start,
    ).where(
        CooperationLink.state == LinkState.CONFIRMED.value,
        *_meets(scope, CooperationLink.start, CooperationLink.end_date),
    )
    if scope.cluster_id is not None:
        query = query.where(CooperationLink.cluster_id == scope.cluster_id)
    return [
        Tie(min(x, y), max(x, y), float(intensity or 1), Layer.LINKS.value, day)
        for x, y, intensity, day in session.execute(query)
    ]


def _business_ties(session: Session, scope: Scope) -> list[Tie]:
    query = select(BusinessDeal.buyer_id, BusinessDeal.seller_id, BusinessDeal.year)
    if scope.cluster_id is not None:
        query = query.where(BusinessDeal.cluster_id == scope.cluster_id)
    if scope.start is not None:
        query = query.where(BusinessDeal.year >= scope.start.year)
    if scope.end is not None:
        query = query.where(BusinessDeal.year <= scope.end.year)
    return [
        Tie(min(x, y), max(x, y), 1.0, Layer.BUSINESS.value, dt.date(year, 1, 1))
        for x, y, year in session.execute(query)
    ]


def _event_ties(session: Session, scope: Scope) -> list[Tie]:
    """Co-attendance: two organisations recorded as present at the same event of the scope."""
    day = func.date(Event.starts_at)  # an event counts on the day it starts
    query = select(Event.id, Event.starts_at).where(*_meets(scope, day, day))
    if scope.cluster_id is not None:
        query = query.where(Event.cluster_id == scope.cluster_id)
    events = query.subquery()
    present = select(EventRegistration.event_id, EventRegistration.organisation_id).where(
        EventRegistration.attended.is_(True), EventRegistration.event_id.in_(select(events.c.id))
    )
    a, b = present.subquery("a"), present.subquery("b")
    rows = session.execute(
        select(a.c.organisation_id, b.c.organisation_id, events.c.starts_at)
        .join(b, (a.c.event_id == b.c.event_id) & (a.c.organisation_id < b.c.organisation_id))
        .join(events, events.c.id == a.c.event_id)
    )
    return [Tie(x, y, 1.0, Layer.EVENTS.value, moment.date()) for x, y, moment in rows]


_TIES = {
    Layer.PROJECTS: _project_ties,
    Layer.LINKS: _link_ties,
    Layer.EVENTS: _event_ties,
    Layer.BUSINESS: _business_ties,
}


def network_ties(session: Session, scope: Scope, layers: Iterable[Layer] = tuple(Layer)) -> list[Tie]:
    """The ties of the asked layers in a scope, one row per shared project, link or deal.

    Projects: two named partners of the same project (an organisation listed twice in a
    project counts once); links: confirmed links, weighted by their intensity (1 when not
    given); events: two organisations present at the same event (attendance recorded), dated
    the day it starts; business: one tie per deal, dated 1 January of its year.
    """
    return [tie for layer in dict.fromkeys(layers) for tie in _TIES[Layer(layer)](session, scope)]


def network_nodes(session: Session, scope: Scope, ties: Iterable[Tie] = ()) -> list[Node]:
    """Organisations of a scope: every stored one (no cluster), or the cluster's members and
    the organisations its ``ties`` reach; ``member`` says who belongs to the cluster."""
    members = set(session.scalars(_members(scope)))
    query = select(Organisation.id, Organisation.name, Organisation.kind, Organisation.size_category)
    if scope.cluster_id is not None:
        wanted = members | {t.organisation_a for t in ties} | {t.organisation_b for t in ties}
        rows: list[Any] = []
        for chunk in _chunks(sorted(wanted)):
            rows.extend(session.execute(query.where(Organisation.id.in_(chunk))))
        rows.sort()
    else:
        rows = list(session.execute(query.order_by(Organisation.id)))
    return [Node(oid, name, kind, size, oid in members) for oid, name, kind, size in rows]


# --- records ---------------------------------------------------------------------------------------


def labelling_clusters(session: Session, project_id: int) -> set[int]:
    """Cluster organisations that labelled a project."""
    return set(session.scalars(select(ProjectLabel.cluster_id).where(ProjectLabel.project_id == project_id)))


def is_partner(session: Session, project_id: int, organisation_id: int) -> bool:
    """Whether an organisation is a partner of a project."""
    return (
        session.scalar(
            select(ProjectPartner.id)
            .where(ProjectPartner.project_id == project_id, ProjectPartner.organisation_id == organisation_id)
            .limit(1)
        )
        is not None
    )


def partner_clusters(session: Session, project_id: int, on: dt.date | None = None) -> set[int]:
    """Cluster organisations the project's named partners are members of on a day (default today)."""
    day = on or dt.date.today()
    return set(
        session.scalars(
            select(Membership.cluster_id)
            .distinct()
            .where(
                Membership.organisation_id.in_(
                    select(ProjectPartner.organisation_id).where(ProjectPartner.project_id == project_id)
                ),
                Membership.open_on(day),
            )
        )
    )


def organisation_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Names of organisations by id."""
    names: dict[int, str] = {}
    for chunk in _chunks(set(ids)):
        rows = session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(chunk)))
        # a Result has keys(): dict() would take it for a mapping
        names.update((oid, name) for oid, name in rows)
    return names


def business_by_year(session: Session, cluster_id: int) -> list[tuple[int, str, bool, int, Any]]:
    """(year, kind, brokered, deals, amount) of a cluster's books, by year."""
    rows = session.execute(
        select(
            BusinessDeal.year,
            BusinessDeal.kind,
            BusinessDeal.brokered,
            func.count(),
            func.sum(BusinessDeal.amount_eur),
        )
        .where(BusinessDeal.cluster_id == cluster_id)
        .group_by(BusinessDeal.year, BusinessDeal.kind, BusinessDeal.brokered)
        .order_by(BusinessDeal.year)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def merge_organisation(session: Session, source_id: int, target_id: int) -> int:
    """Point every cooperation record of ``source_id`` to ``target_id``, then delete the source.

    Returns the number of records moved. The caller checks first that nothing else points to
    the source (:func:`other_references`).
    """
    moved = 0
    for column in (
        ProjectPartner.organisation_id,
        CooperationLink.organisation_a_id,
        CooperationLink.organisation_b_id,
        CooperationLink.declared_by_id,
        BusinessDeal.buyer_id,
        BusinessDeal.seller_id,
        BusinessDeal.declared_by_id,
    ):
        result = session.execute(
            update(column.class_)
            .where(column == source_id)
            .values({column.key: target_id})
            .execution_options(synchronize_session="fetch")
        )
        moved += result.rowcount  # type: ignore[attr-defined]
    session.execute(
        delete(Organisation)
        .where(Organisation.id == source_id)
        .execution_options(synchronize_session="fetch")
    )
    return moved


def other_references(session: Session, organisation_id: int) -> list[str]:
    """Tables outside cooperation whose rows point to an organisation (a merge would lose them).

    Found from the metadata, so a table a later domain adds is counted without a change here;
    ownership (``organisation_owners``) is not counted: it goes with the merged record.
    """
    moved = {ProjectPartner.__table__, CooperationLink.__table__, BusinessDeal.__table__}
    target = Organisation.__table__.c.id
    pointers = [
        (table, key.parent)
        for table in Base.metadata.sorted_tables
        if table not in moved and table.name != "organisation_owners"
        for key in table.foreign_keys
        if key.column is target
    ]
    return list(
        dict.fromkeys(
            table.name
            for table, column in pointers
            if session.scalar(select(literal(1)).select_from(table).where(column == organisation_id).limit(1))
        )
    )


def _cluster_projects(cluster_id: int) -> Select[int]:
    """Projects in a cluster's books: its own and those it labelled."""
    labelled = select(ProjectLabel.project_id).where(ProjectLabel.cluster_id == cluster_id)
    return select(Project.id).where(or_(Project.cluster_id == cluster_id, Project.id.in_(labelled)))


def projects_by_status(session: Session, cluster_id: int) -> dict[str, int]:
    """Projects in a cluster's books by status."""
    rows = session.execute(
        select(Project.status, func.count())
        .where(Project.id.in_(_cluster_projects(cluster_id)))
        .group_by(Project.status)
    )
    return dict(rows.all())  # a Result has keys(): dict() of it would take it for a mapping


def funding_by_programme(session: Session, cluster_id: int) -> dict[str, Decimal]:
    """Funding of the projects in a cluster's books, summed by programme."""
    rows = session.execute(
        select(ProjectFunding.programme, func.sum(ProjectFunding.amount_eur))
        .where(ProjectFunding.project_id.in_(_cluster_projects(cluster_id)))
        .group_by(ProjectFunding.programme)
        .order_by(ProjectFunding.programme)
    )
    return {programme: Decimal(total or 0) for programme, total in rows}


def inter_cluster_projects(session: Session, cluster_id: int, on: dt.date) -> int:
    """Projects in a cluster's books whose partners are members of two clusters or more on a day."""
    spanning = (
        select(ProjectPartner.project_id)
        .join(Membership, Membership.organisation_id == ProjectPartner.organisation_id)
        .where(
            ProjectPartner.project_id.in_(_cluster_projects(cluster_id)),
            Membership.open_on(on),
        )
        .group_by(ProjectPartner.project_id)
        .having(func.count(Membership.cluster_id.distinct()) > 1)
    )
    return session.scalar(select(func.count()).select_from(spanning.subquery())) or 0


def links_by_state(session: Session, cluster_id: int) -> dict[str, int]:
    """Links of a cluster's books by state."""
    rows = session.execute(
        select(CooperationLink.state, func.count())
        .where(CooperationLink.cluster_id == cluster_id)
        .group_by(CooperationLink.state)
    )
    return dict(rows.all())


# --- links, projects and deals as records ----------------------------------------------------------


class LinkRepository(Repository[CooperationLink]):
    """Cooperation links of the clusters' books."""

    model = CooperationLink
    what = "lien"

    def of_cluster(
        self, cluster_id: int, *, organisation_id: int | None, limit: int, offset: int
    ) -> tuple[int, Sequence[CooperationLink]]:
        """Links of a cluster's books (only those of ``organisation_id`` when given), newest first."""
        query = select(CooperationLink).where(CooperationLink.cluster_id == cluster_id)
        if organisation_id is not None:
            query = query.where(
                or_(
                    CooperationLink.organisation_a_id == organisation_id,
                    CooperationLink.organisation_b_id == organisation_id,
                )
            )
        return self.page(query.order_by(CooperationLink.id.desc()), limit, offset)


class DealRepository(Repository[BusinessDeal]):
    """Business deals of the clusters' books."""

    model = BusinessDeal
    what = "affaire"

    def of_cluster(
        self,
        cluster_id: int,
        *,
        organisation_id: int | None,
        year: int | None,
        limit: int,
        offset: int,
    ) -> tuple[int, Sequence[BusinessDeal]]:
        """Deals of a cluster's books (only those of ``organisation_id`` when given), newest first."""
        query = select(BusinessDeal).where(BusinessDeal.cluster_id == cluster_id)
        if organisation_id is not None:
            query = query.where(
                or_(BusinessDeal.buyer_id == organisation_id, BusinessDeal.seller_id == organisation_id)
            )
        if year is not None:
            query = query.where(BusinessDeal.year == year)
        return self.page(query.order_by(BusinessDeal.year.desc(), BusinessDeal.id.desc()), limit, offset)


@dataclass(frozen=True)
class ProjectVisibility:
    """Which projects a reader sees besides open data (see :mod:`grappe.cooperation.policy`)."""

    everything: bool = False
    managed: frozenset[int] = frozenset()
    organisation_id: int | None = None
    member_of: frozenset[int] = frozenset()


class ProjectRepository(Repository[Project]):
    """Collaborative projects with their partners, fundings, pipeline and labels."""

    model = Project
    what = "projet"

    def load(self, project_id: int) -> Project:
        """A project with its partners (and their organisations), fundings, pipeline and labels."""
        return self.get(
            project_id,
            selectinload(Project.partners).joinedload(ProjectPartner.organisation),
            selectinload(Project.fundings),
            selectinload(Project.transitions),
            selectinload(Project.labels),
        )

    def visible(
        self,
        visibility: ProjectVisibility,
        *,
        cluster_id: int | None,
        status: str | None,
        limit: int,
        offset: int,
    ) -> tuple[int, Sequence[Project]]:
        """Projects a reader sees, optionally of one cluster's books (own or labelled) and status."""
        query = select(Project)
        if not visibility.everything:
            seen: list[Any] = [Project.cluster_id.is_(None)]
            if visibility.managed:
                seen += [Project.cluster_id.in_(visibility.managed), _labelled_by(visibility.managed)]
            if visibility.organisation_id is not None:
                seen.append(
                    Project.id.in_(
                        select(ProjectPartner.project_id).where(
                            ProjectPartner.organisation_id == visibility.organisation_id
                        )
                    )
                )
            if visibility.member_of:
                seen.append(
                    Project.confidential.is_(False)
                    & or_(Project.cluster_id.in_(visibility.member_of), _labelled_by(visibility.member_of))
                )
            query = query.where(or_(*seen))
        if cluster_id is not None:
            query = query.where(Project.id.in_(_cluster_projects(cluster_id)))
        if status is not None:
            query = query.where(Project.status == status)
        return self.page(query.order_by(Project.id.desc()), limit, offset)


def _labelled_by(clusters: frozenset[int]) -> Any:
    """Projects labelled by one of these cluster organisations."""
    return Project.id.in_(select(ProjectLabel.project_id).where(ProjectLabel.cluster_id.in_(clusters)))
