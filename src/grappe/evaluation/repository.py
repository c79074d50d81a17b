"""All the SQL of evaluation: the indicators of every cluster for a year in a few set-based
queries, and the contracts, declared values and self-assessments.

The indicator queries read the registry's and cooperation's tables (through their models and
the named predicates ``Membership.open_on`` / ``meets``) grouped by cluster organisation: the
cost of a scorecard for 500 clusters is the cost of one per query, never one query per
cluster. What is not SQL (shares, distances, the fabric's coverage) is computed in
:mod:`grappe.evaluation.compute` from the rows these functions answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select, union
from sqlalchemy.orm import Session, selectinload

from grappe.cooperation.actions.models import Event, EventRegistration
from grappe.cooperation.models import (
    BusinessDeal,
    CooperationLink,
    LinkOrientation,
    LinkState,
    Project,
    ProjectLabel,
    ProjectPartner,
    ProjectStatus,
    ProjectTransition,
)
from grappe.evaluation.models import (
    ContractIndicator,
    DeclaredValue,
    ObjectivesContract,
    SelfAssessment,
)
from grappe.kit.repository import Repository
from grappe.partners.meetings.models import B2BEvent
from grappe.registry.models import (
    Cluster,
    ClusterFunding,
    ClusterLabel,
    ClusterSector,
    ClusterTerritory,
    Establishment,
    FeeCall,
    FeeStatus,
    Funder,
    FundingSource,
    LabelKind,
    Membership,
    Organisation,
    Payment,
)

#: Statuses a project reaches only after being submitted, and after being funded.
AFTER_SUBMITTED = (
    ProjectStatus.SUBMITTED,
    ProjectStatus.FUNDED,
    ProjectStatus.REJECTED,
    ProjectStatus.RUNNING,
    ProjectStatus.COMPLETED,
)
AFTER_FUNDED = (ProjectStatus.FUNDED, ProjectStatus.RUNNING, ProjectStatus.COMPLETED)


@dataclass(frozen=True)
class Year:
    """A calendar year's first and last days, the bounds every indicator query uses."""

    year: int

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, 1, 1)

    @property
    def last(self) -> dt.date:
        return dt.date(self.year, 12, 31)


def _among(column: Any, cluster_ids: Collection[int] | None) -> Any:
    return literal(True) if cluster_ids is None else column.in_(sorted(cluster_ids))


def cluster_names(session: Session, ids: Collection[int]) -> dict[int, str]:
    """Names of cluster organisations by id."""
    rows = session.execute(select(Cluster.id, Cluster.name).where(Cluster.id.in_(sorted(ids))))
    return dict(rows.all())


def cluster_ids(session: Session) -> list[int]:
    """Every cluster organisation's id."""
    return list(session.scalars(select(Cluster.id).order_by(Cluster.id)))


@dataclass(frozen=True)
class ClusterFacts:
    """What peers are chosen by and reports name: the cluster, its label, sectors, territories."""

    cluster_id: int
    name: str
    acronym: str | None
    label: str  # the label kind held at the end of the year ("none" without one)
    sectors: tuple[str, ...]
    territories: tuple[tuple[str, str], ...]


def cluster_facts(session: Session, year: Year, ids: Collection[int] | None) -> dict[int, ClusterFacts]:
    """Name, label held on the year's last day, sectors and territories of clusters (3 queries)."""
    names = session.execute(
        select(Cluster.id, Cluster.name, Cluster.acronym).where(_among(Cluster.id, ids))
    ).all()
    labels: dict[int, str] = {}
    held = session.execute(
        select(ClusterLabel.cluster_id, ClusterLabel.kind)
        .where(_among(ClusterLabel.cluster_id, ids), ClusterLabel.held_on(year.last))
        .order_by(ClusterLabel.cluster_id, ClusterLabel.start)
    )
    rank = {LabelKind.POLE.value: 0, LabelKind.GRAPPE.value: 1, LabelKind.REGIONAL.value: 2}
    for cluster_id, kind in held:
        if rank.get(kind, 9) < rank.get(labels.get(cluster_id, LabelKind.NONE.value), 9):
            labels[cluster_id] = kind
    sectors: dict[int, list[str]] = {}
    for cluster_id, naf in session.execute(
        select(ClusterSector.cluster_id, ClusterSector.naf)
        .where(_among(ClusterSector.cluster_id, ids))
        .order_by(ClusterSector.id)
    ):
        sectors.setdefault(cluster_id, []).append(naf)
    places: dict[int, list[tuple[str, str]]] = {}
    for cluster_id, level, code in session.execute(
        select(ClusterTerritory.cluster_id, ClusterTerritory.level, ClusterTerritory.code)
        .where(_among(ClusterTerritory.cluster_id, ids))
        .order_by(ClusterTerritory.id)
    ):
        places.setdefault(cluster_id, []).append((level, code))
    return {
        cid: ClusterFacts(
            cid,
            name,
            acronym,
            labels.get(cid, LabelKind.NONE.value),
            tuple(sectors.get(cid, ())),
            tuple(places.get(cid, ())),
        )
        for cid, name, acronym in names
    }


def member_rows(session: Session, year: Year, ids: Collection[int] | None) -> Sequence[Any]:
    """Membership periods meeting the year, with what the indicators read of their organisation.

    The commune and SIRET are the membership's establishment's when it names one, else the
    organisation's commune (and no SIRET).
    """
    query = (
        select(
            Membership.cluster_id,
            Membership.organisation_id,
            Membership.joined,
            Membership.left_on,
            Organisation.size_category,
            Organisation.declared_headcount,
            func.coalesce(Establishment.size_band, Organisation.size_band),
            func.coalesce(Establishment.naf, Organisation.naf),
            func.coalesce(Establishment.commune, Organisation.commune),
            Establishment.siret,
        )
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .outerjoin(Establishment, Establishment.id == Membership.establishment_id)
        .where(_among(Membership.cluster_id, ids), Membership.meets(year.first, year.last))
    )
    return session.execute(query).all()


def member_establishments(session: Session, year: Year, ids: Collection[int] | None) -> Sequence[Any]:
    """(cluster_id, siret) of every establishment of the organisations members at the year's end."""
    query = (
        select(Membership.cluster_id, Establishment.siret)
        .join(Establishment, Establishment.organisation_id == Membership.organisation_id)
        .where(_among(Membership.cluster_id, ids), Membership.open_on(year.last))
        .distinct()
    )
    return session.execute(query).all()


def fee_income(session: Session, year: Year, ids: Collection[int] | None) -> dict[int, Decimal]:
    """Fee payments received in the year, per cluster."""
    rows = session.execute(
        select(Payment.cluster_id, func.sum(Payment.amount_eur))
        .where(_among(Payment.cluster_id, ids), Payment.paid_on.between(year.first, year.last))
        .group_by(Payment.cluster_id)
    )
    return {cid: Decimal(total or 0) for cid, total in rows}


def fee_calls_paid(session: Session, year: Year, ids: Collection[int] | None) -> dict[int, tuple[int, int]]:
    """(paid, called) fee calls of the year per cluster, waived calls left out."""
    rows = session.execute(
        select(
            FeeCall.cluster_id,
            func.sum(case((FeeCall.status == FeeStatus.PAID.value, 1), else_=0)),
            func.count(),
        )
        .where(
            _among(FeeCall.cluster_id, ids),
            FeeCall.year == year.year,
            FeeCall.status != FeeStatus.WAIVED.value,
        )
        .group_by(FeeCall.cluster_id)
    )
    return {cid: (int(paid or 0), int(called)) for cid, paid, called in rows}


def fundings(session: Session, year: Year, ids: Collection[int] | None) -> dict[int, dict[str, Decimal]]:
    """Declared funding of the year per cluster and source."""
    rows = session.execute(
        select(ClusterFunding.cluster_id, ClusterFunding.source, func.sum(ClusterFunding.amount_eur))
        .where(_among(ClusterFunding.cluster_id, ids), ClusterFunding.year == year.year)
        .group_by(ClusterFunding.cluster_id, ClusterFunding.source)
    )
    out: dict[int, dict[str, Decimal]] = {}
    for cid, source, total in rows:
        out.setdefault(cid, {})[source] = Decimal(total or 0)
    return out


SELF_FUNDED = (FundingSource.MEMBERSHIP_FEES.value, FundingSource.SERVICES.value)


def _books(ids: Collection[int] | None) -> Any:
    """(cluster_id, project_id): projects in a cluster's books, its own and those it labelled."""
    return union(
        select(Project.cluster_id.label("cluster_id"), Project.id.label("project_id")).where(
            Project.cluster_id.is_not(None), _among(Project.cluster_id, ids)
        ),
        select(ProjectLabel.cluster_id, ProjectLabel.project_id).where(_among(ProjectLabel.cluster_id, ids)),
    ).subquery()


def _reached(status: ProjectStatus, after: tuple[ProjectStatus, ...], year: Year) -> Any:
    """Projects that reached ``status`` in the year: a dated transition, or the call's edition."""
    moved = select(ProjectTransition.project_id).where(
        ProjectTransition.status == status.value, ProjectTransition.on.between(year.first, year.last)
    )
    edition = select(Project.id).where(
        Project.edition == year.year, Project.status.in_([s.value for s in after])
    )
    return or_(Project.id.in_(moved), Project.id.in_(edition))


def projects_reaching(
    session: Session, year: Year, ids: Collection[int] | None
) -> dict[int, tuple[int, int]]:
    """(submitted, funded) projects of the year per cluster's books."""
    books = _books(ids)
    submitted = _reached(ProjectStatus.SUBMITTED, AFTER_SUBMITTED, year)
    funded = _reached(ProjectStatus.FUNDED, AFTER_FUNDED, year)
    rows = session.execute(
        select(
            books.c.cluster_id,
            func.sum(case((submitted, 1), else_=0)),
            func.sum(case((funded, 1), else_=0)),
        )
        .join(Project, Project.id == books.c.project_id)
        .group_by(books.c.cluster_id)
    )
    return {cid: (int(s or 0), int(f or 0)) for cid, s, f in rows}


def inter_cluster_projects(session: Session, year: Year, ids: Collection[int] | None) -> dict[int, int]:
    """Projects per cluster's books whose partners belong to two clusters or more at the year's end."""
    books = _books(ids)
    spanning = (
        select(books.c.cluster_id, books.c.project_id)
        .join(ProjectPartner, ProjectPartner.project_id == books.c.project_id)
        .join(Membership, Membership.organisation_id == ProjectPartner.organisation_id)
        .where(Membership.open_on(year.last))
        .group_by(books.c.cluster_id, books.c.project_id)
        .having(func.count(Membership.cluster_id.distinct()) > 1)
        .subquery()
    )
    rows = session.execute(select(spanning.c.cluster_id, func.count()).group_by(spanning.c.cluster_id))
    return {cid: int(n) for cid, n in rows}


def business(session: Session, year: Year, ids: Collection[int] | None) -> dict[int, Decimal]:
    """Business declared between members for the year, per cluster."""
    rows = session.execute(
        select(BusinessDeal.cluster_id, func.sum(BusinessDeal.amount_eur))
        .where(_among(BusinessDeal.cluster_id, ids), BusinessDeal.year == year.year)
        .group_by(BusinessDeal.cluster_id)
    )
    return {cid: Decimal(total or 0) for cid, total in rows}


def _confirmed_in(year: Year) -> Any:
    return and_(
        CooperationLink.state == LinkState.CONFIRMED.value,
        or_(CooperationLink.start.is_(None), CooperationLink.start <= year.last),
        or_(CooperationLink.end_date.is_(None), CooperationLink.end_date >= year.first),
    )


def confirmed_links(session: Session, year: Year, ids: Collection[int] | None) -> Sequence[Any]:
    """(cluster_id, organisation_a_id, organisation_b_id) of links confirmed and running in the year."""
    return session.execute(
        select(
            CooperationLink.cluster_id, CooperationLink.organisation_a_id, CooperationLink.organisation_b_id
        ).where(_among(CooperationLink.cluster_id, ids), _confirmed_in(year))
    ).all()


def orientations(session: Session, year: Year, ids: Collection[int] | None) -> dict[int, int]:
    """Distinct orientations of the confirmed links running in the year, per cluster."""
    rows = session.execute(
        select(CooperationLink.cluster_id, func.count(LinkOrientation.orientation.distinct()))
        .join(LinkOrientation, LinkOrientation.link_id == CooperationLink.id)
        .where(_among(CooperationLink.cluster_id, ids), _confirmed_in(year))
        .group_by(CooperationLink.cluster_id)
    )
    return {cid: int(n) for cid, n in rows}


def attendance(session: Session, year: Year, ids: Collection[int] | None) -> dict[int, int]:
    """Registrations recorded as attended at the year's events, per cluster."""
    start = dt.datetime(year.year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year.year + 1, 1, 1, tzinfo=dt.UTC)
    rows = session.execute(
        select(Event.cluster_id, func.count())
        .join(EventRegistration, EventRegistration.event_id == Event.id)
        .where(
            _among(Event.cluster_id, ids),
            Event.starts_at >= start,
            Event.starts_at < end,
            EventRegistration.attended.is_(True),
        )
        .group_by(Event.cluster_id)
    )
    return {cid: int(n) for cid, n in rows}


def declared_values(session: Session, year: int, ids: Collection[int] | None) -> Sequence[DeclaredValue]:
    """Values declared for the year by the clusters."""
    return session.scalars(
        select(DeclaredValue).where(_among(DeclaredValue.cluster_id, ids), DeclaredValue.year == year)
    ).all()


def declared_for(session: Session, cluster_id: int, indicator: str, year: int) -> DeclaredValue | None:
    """The value a cluster declared for an indicator and year, if any."""
    return session.scalar(
        select(DeclaredValue).where(
            DeclaredValue.cluster_id == cluster_id,
            DeclaredValue.indicator == indicator,
            DeclaredValue.year == year,
        )
    )


def self_assessments(session: Session, cluster_id: int, year: int) -> Sequence[SelfAssessment]:
    """A cluster's self-assessment rows for a year."""
    return session.scalars(
        select(SelfAssessment)
        .where(SelfAssessment.cluster_id == cluster_id, SelfAssessment.year == year)
        .order_by(SelfAssessment.id)
    ).all()


def self_assessment_for(session: Session, cluster_id: int, year: int, area: str) -> SelfAssessment | None:
    return session.scalar(
        select(SelfAssessment).where(
            SelfAssessment.cluster_id == cluster_id, SelfAssessment.year == year, SelfAssessment.area == area
        )
    )


def funder_by_name(session: Session, name: str) -> Funder | None:
    return session.scalar(select(Funder).where(Funder.name == name))


def funder_names(session: Session, ids: Collection[int]) -> dict[int, str]:
    """Names of funders by id."""
    rows = session.execute(select(Funder.id, Funder.name).where(Funder.id.in_(sorted(ids))))
    return dict(rows.all())


class ContractRepository(Repository[ObjectivesContract]):
    """Objectives contracts with their indicators and targets."""

    model = ObjectivesContract
    what = "contrat d'objectifs"
    refusals = {  # noqa: RUF012
        "uq_contract_indicators": "un indicateur figure deux fois dans le contrat",
        "uq_contract_targets": "une année a deux cibles pour le même indicateur",
    }

    def load(self, contract_id: int) -> ObjectivesContract:
        return self.get(
            contract_id,
            selectinload(ObjectivesContract.indicators).selectinload(ContractIndicator.targets),
        )

    def visible(self, clusters: Collection[int] | None, funder_id: int | None = None) -> Select[Any]:
        """Contracts of the given clusters (None: all), of one funder if given, newest first."""
        query = (
            select(ObjectivesContract)
            .where(_among(ObjectivesContract.cluster_id, clusters))
            .options(selectinload(ObjectivesContract.indicators).selectinload(ContractIndicator.targets))
            .order_by(ObjectivesContract.id.desc())
        )
        if funder_id is not None:
            query = query.where(ObjectivesContract.funder_id == funder_id)
        return query

    def of_cluster(self, cluster_id: int) -> Sequence[ObjectivesContract]:
        return self.session.scalars(self.visible({cluster_id})).all()

    def of_funder(self, funder_id: int) -> Sequence[ObjectivesContract]:
        return self.session.scalars(self.visible(None).where(ObjectivesContract.funder_id == funder_id)).all()

    def clusters_contracted_by(self, funder_id: int) -> set[int]:
        return set(
            self.session.scalars(
                select(ObjectivesContract.cluster_id).where(ObjectivesContract.funder_id == funder_id)
            )
        )


def b2b_organisers(session: Session, year: Year, ids: Collection[int] | None) -> list[int]:
    """The clusters that published a B2B meetings event starting in the year."""
    start = dt.datetime(year.year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year.year + 1, 1, 1, tzinfo=dt.UTC)
    return list(
        session.scalars(
            select(B2BEvent.cluster_id)
            .where(
                _among(B2BEvent.cluster_id, ids),
                B2BEvent.published.is_(True),
                B2BEvent.starts_at >= start,
                B2BEvent.starts_at < end,
            )
            .distinct()
        )
    )
