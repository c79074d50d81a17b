"""All the SQL of calls for projects: calls, applications, reviewers, assignments, and what they read
of the registry (members, territories, sizes, users) and of cooperation (recent project partners)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select
from sqlalchemy.orm import aliased

from grappe.calls.models import (
    Application,
    ApplicationStatus,
    Call,
    DeclaredConflict,
    ReviewAssignment,
    ReviewerProfile,
)
from grappe.cooperation.models import Project, ProjectPartner
from grappe.kit.repository import Repository
from grappe.registry.models import (
    Cluster,
    ClusterManager,
    ClusterTerritory,
    Establishment,
    Funder,
    Membership,
    Organisation,
    User,
)


class CallRepository(Repository[Call]):
    model = Call
    what = "appel à projets"
    refusals: ClassVar = {"ck_calls_budget": "le budget de l'appel doit être positif"}

    def listing(
        self, funder_id: int | None, published_only: bool, limit: int, offset: int
    ) -> tuple[int, Sequence[Call]]:
        """Calls of a funder and/or published ones (``funder_id`` None and not ``published_only``: all)."""
        query = select(Call).order_by(Call.closes_at.desc(), Call.id.desc())
        if funder_id is not None and published_only:
            query = query.where(or_(Call.funder_id == funder_id, Call.published.is_(True)))
        elif funder_id is not None:
            query = query.where(Call.funder_id == funder_id)
        elif published_only:
            query = query.where(Call.published.is_(True))
        return self.page(query, limit, offset)

    def funder_name(self, funder_id: int) -> str:
        return self.session.scalar(select(Funder.name).where(Funder.id == funder_id)) or ""


class ApplicationRepository(Repository[Application]):
    model = Application
    what = "candidature"
    refusals: ClassVar = {
        "uq_call_budget_lines": "cette organisation a déjà une ligne au budget de la candidature",
        "uq_call_documents": "un document de ce type est déjà joint : retirez-le d'abord",
    }

    def listing(
        self, call_id: int, seen: ColumnElement[bool] | None, limit: int, offset: int
    ) -> tuple[int, Sequence[Application]]:
        """A call's applications the predicate ``seen`` keeps (None: all), by id."""
        query = select(Application).where(Application.call_id == call_id).order_by(Application.id)
        if seen is not None:
            query = query.where(seen)
        return self.page(query, limit, offset)

    def of_call(self, call_id: int, statuses: Iterable[ApplicationStatus]) -> list[Application]:
        query = (
            select(Application)
            .where(Application.call_id == call_id, Application.status.in_([s.value for s in statuses]))
            .order_by(Application.id)
        )
        return list(self.session.scalars(query))


def applicant_filter(cluster_ids: Iterable[int], organisation_id: int | None) -> ColumnElement[bool]:
    """Applications made by one of these clusters or by this organisation."""
    made_by_cluster = Application.cluster_id.in_(sorted(cluster_ids))
    if organisation_id is None:
        return made_by_cluster
    return or_(made_by_cluster, Application.organisation_id == organisation_id)


def submitted() -> ColumnElement[bool]:
    """Applications that left the draft state."""
    return Application.status != ApplicationStatus.DRAFT.value


def assigned_to(reviewer_id: int) -> ColumnElement[bool]:
    """Applications a reviewer is assigned to."""
    return Application.id.in_(
        select(ReviewAssignment.application_id).where(ReviewAssignment.reviewer_id == reviewer_id)
    )


class ReviewerRepository(Repository[ReviewerProfile]):
    model = ReviewerProfile
    what = "évaluateur"
    refusals: ClassVar = {"uq_reviewers_user_id": "cet utilisateur est déjà dans le vivier d'évaluateurs"}

    def of_user(self, user_id: int | None) -> ReviewerProfile | None:
        if user_id is None:
            return None
        return self.session.scalar(select(ReviewerProfile).where(ReviewerProfile.user_id == user_id))

    def pool(self) -> list[tuple[ReviewerProfile, str, int | None]]:
        """Every reviewer with its user's e-mail and organisation, by id."""
        query = (
            select(ReviewerProfile, User.email, User.organisation_id)
            .join(User, User.id == ReviewerProfile.user_id)
            .where(User.active.is_(True))
            .order_by(ReviewerProfile.id)
        )
        return [(p, e, o) for p, e, o in self.session.execute(query)]

    def user(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def declared(self, application_ids: Iterable[int]) -> list[DeclaredConflict]:
        ids = sorted(application_ids)
        return list(
            self.session.scalars(select(DeclaredConflict).where(DeclaredConflict.application_id.in_(ids)))
        )

    def declared_on(self, reviewer_id: int, application_id: int) -> DeclaredConflict | None:
        return self.session.get(DeclaredConflict, (reviewer_id, application_id))


class AssignmentRepository(Repository[ReviewAssignment]):
    model = ReviewAssignment
    what = "affectation"

    def of_pair(self, application_id: int, reviewer_id: int) -> ReviewAssignment | None:
        return self.session.scalar(
            select(ReviewAssignment).where(
                ReviewAssignment.application_id == application_id, ReviewAssignment.reviewer_id == reviewer_id
            )
        )

    def of_call(self, call_id: int) -> list[ReviewAssignment]:
        query = (
            select(ReviewAssignment)
            .join(Application, Application.id == ReviewAssignment.application_id)
            .where(Application.call_id == call_id)
            .order_by(ReviewAssignment.application_id, ReviewAssignment.reviewer_id)
        )
        return list(self.session.scalars(query))

    def of_reviewer(self, reviewer_id: int) -> list[tuple[ReviewAssignment, Application]]:
        query = (
            select(ReviewAssignment, Application)
            .join(Application, Application.id == ReviewAssignment.application_id)
            .where(ReviewAssignment.reviewer_id == reviewer_id)
            .order_by(Application.call_id, Application.id)
        )
        return [(a, b) for a, b in self.session.execute(query)]

    def outstanding_elsewhere(self, call_id: int) -> dict[int, int]:
        """Per reviewer, the reviews assigned on the other calls still open (not decided) and not
        yet submitted: what a reviewer's load cap already holds."""
        query = (
            select(ReviewAssignment.reviewer_id, func.count())
            .join(Application, Application.id == ReviewAssignment.application_id)
            .join(Call, Call.id == Application.call_id)
            .where(
                Application.call_id != call_id,
                Call.decided_at.is_(None),
                ReviewAssignment.submitted_at.is_(None),
            )
            .group_by(ReviewAssignment.reviewer_id)
        )
        return {int(reviewer): int(count) for reviewer, count in self.session.execute(query)}

    def clear_call(self, call_id: int) -> None:
        ids = select(Application.id).where(Application.call_id == call_id)
        self.session.execute(delete(ReviewAssignment).where(ReviewAssignment.application_id.in_(ids)))


# --- what the calls read of the registry and of cooperation ------------------------------------


@dataclass(frozen=True)
class OrganisationRow:
    """The registry facts eligibility and conflicts read of an organisation."""

    id: int
    name: str
    kind: str
    siren: str | None
    size_category: str | None
    declared_headcount: int | None
    size_band: str | None
    commune: str | None
    establishment_sirens: frozenset[str]


def organisations(session: Any, ids: Iterable[int]) -> dict[int, OrganisationRow]:
    """Organisations by id, with the SIRENs of their establishments."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    sirens: dict[int, set[str]] = defaultdict(set)
    for org_id, siret in session.execute(
        select(Establishment.organisation_id, Establishment.siret).where(
            Establishment.organisation_id.in_(wanted)
        )
    ):
        sirens[org_id].add(siret[:9])
    rows = session.execute(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.kind,
            Organisation.siren,
            Organisation.size_category,
            Organisation.declared_headcount,
            Organisation.size_band,
            Organisation.commune,
        ).where(Organisation.id.in_(wanted))
    )
    return {
        r.id: OrganisationRow(
            r.id, r.name, r.kind, r.siren, r.size_category, r.declared_headcount, r.size_band, r.commune,
            frozenset(sirens[r.id]),
        )
        for r in rows
    }


def current_members(session: Any, cluster_ids: Iterable[int], on: dt.date) -> dict[int, set[int]]:
    """Current member organisations of each cluster."""
    wanted = sorted(set(cluster_ids))
    found: dict[int, set[int]] = {c: set() for c in wanted}
    if wanted:
        query = select(Membership.cluster_id, Membership.organisation_id).where(
            Membership.cluster_id.in_(wanted), Membership.open_on(on)
        )
        for cluster_id, org_id in session.execute(query):
            found[cluster_id].add(org_id)
    return found


def shared_clusters(session: Any, organisation_id: int, others: Iterable[int], on: dt.date) -> set[int]:
    """Which of ``others`` are current members of a cluster ``organisation_id`` currently belongs to."""
    mine = select(Membership.cluster_id).where(
        Membership.organisation_id == organisation_id, Membership.open_on(on)
    )
    query = select(Membership.organisation_id).where(
        Membership.cluster_id.in_(mine),
        Membership.open_on(on),
        Membership.organisation_id.in_(sorted(set(others))),
    )
    return set(session.scalars(query))


def cluster_regions(session: Any, cluster_id: int) -> set[str]:
    query = select(ClusterTerritory.region).where(
        ClusterTerritory.cluster_id == cluster_id, ClusterTerritory.region.is_not(None)
    )
    return {r for r in session.scalars(query) if r}


def cluster_name(session: Any, cluster_id: int) -> str | None:
    return session.scalar(select(Cluster.name).where(Cluster.id == cluster_id))


def recent_co_partners(session: Any, organisation_ids: Iterable[int], since: dt.date) -> dict[int, set[int]]:
    """For each organisation, those it was a partner with in a project not ended before ``since``."""
    wanted = sorted(set(organisation_ids))
    found: dict[int, set[int]] = {o: set() for o in wanted}
    if not wanted:
        return found
    mine, theirs = aliased(ProjectPartner), aliased(ProjectPartner)
    query = (
        select(mine.organisation_id, theirs.organisation_id)
        .join(
            theirs, and_(theirs.project_id == mine.project_id, theirs.organisation_id != mine.organisation_id)
        )
        .join(Project, Project.id == mine.project_id)
        .where(
            mine.organisation_id.in_(wanted),
            theirs.organisation_id.is_not(None),
            or_(Project.end_date.is_(None), Project.end_date >= since),
        )
        .distinct()
    )
    for org, other in session.execute(query):
        found[org].add(other)
    return found


def applicant_emails(session: Any, application: Application) -> list[tuple[str, str]]:
    """The e-mails of the users who answer for an applicant, each with its user's language: its
    cluster's managers or its firm's members."""
    if application.cluster_id is not None:
        query: Select[str, str] = (
            select(User.email, User.language)
            .join(ClusterManager, ClusterManager.user_id == User.id)
            .where(ClusterManager.cluster_id == application.cluster_id, User.active.is_(True))
        )
    else:
        query = select(User.email, User.language).where(
            User.organisation_id == application.organisation_id, User.role == "member", User.active.is_(True)
        )
    return sorted((email, language) for email, language in session.execute(query))
