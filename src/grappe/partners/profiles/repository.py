"""All SQL of profiles and interclustering: profiles, an organisation's history, inter-cluster projects."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, NamedTuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from grappe.cooperation.actions.models import EventRegistration
from grappe.cooperation.models import CooperationLink, LinkState, Project, ProjectPartner
from grappe.kit.repository import Repository
from grappe.partners.models import ClusterSharing, PartnerProfile
from grappe.registry.models import Membership, Organisation


class History(NamedTuple):
    """An organisation's cooperation history, as its profile shows it."""

    projects: int
    project_partners: int
    links: int
    events: int
    recent_projects: list[str]


def public_project() -> Any:
    """Projects anybody may know: imported from open data (no cluster's books) and not confidential."""
    return and_(Project.cluster_id.is_(None), Project.confidential.is_(False))


class ProfileRepository(Repository[PartnerProfile]):
    """Profiles of the organisations."""

    model = PartnerProfile
    what = "profil de l'organisation"

    def find(self, organisation_id: int, *, lock: bool = False) -> PartnerProfile | None:
        """An organisation's profile, None when nobody filled it in yet."""
        query = select(PartnerProfile).where(PartnerProfile.organisation_id == organisation_id)
        if lock:
            query = query.with_for_update()
        return self.session.scalar(query)

    def organisation(self, organisation_id: int) -> Organisation | None:
        """The organisation of a profile."""
        return self.session.get(Organisation, organisation_id)

    def history(self, organisation_id: int, *, every_project: bool, shown: int = 5) -> History:
        """Projects, co-partners, confirmed links and events attended of an organisation.

        ``every_project``: count the confidential projects and those of clusters' books too,
        the links and the events (for the readers of the whole profile); else only the public
        projects.
        """
        mine = select(ProjectPartner.project_id).where(ProjectPartner.organisation_id == organisation_id)
        projects = select(Project.id, Project.acronym, Project.title, Project.edition, Project.start).where(
            Project.id.in_(mine)
        )
        if not every_project:
            projects = projects.where(public_project())
        rows = list(self.session.execute(projects))
        ids = [row.id for row in rows]
        partners = 0
        if ids:
            partners = (
                self.session.scalar(
                    select(func.count(func.distinct(ProjectPartner.organisation_id))).where(
                        ProjectPartner.project_id.in_(ids),
                        ProjectPartner.organisation_id.is_not(None),
                        ProjectPartner.organisation_id != organisation_id,
                    )
                )
                or 0
            )
        links = (
            self.session.scalar(
                select(func.count()).where(
                    CooperationLink.state == LinkState.CONFIRMED.value,
                    or_(
                        CooperationLink.organisation_a_id == organisation_id,
                        CooperationLink.organisation_b_id == organisation_id,
                    ),
                )
            )
            or 0
        )

        def recent(row: Any) -> tuple[int, int]:
            return (row.edition or (row.start.year if row.start else 0), row.id)

        latest = sorted(rows, key=recent, reverse=True)[:shown]
        names = [f"{r.acronym} — {r.title}" if r.acronym else r.title for r in latest]
        events = (
            self.session.scalar(
                select(func.count()).where(
                    EventRegistration.organisation_id == organisation_id, EventRegistration.attended.is_(True)
                )
            )
            or 0
        )
        if not every_project:
            links = events = 0
        return History(len(rows), partners, links, events, names)

    def any_organisation(self) -> bool:
        """Whether the registry holds an organisation at all."""
        return self.session.scalar(select(Organisation.id).limit(1)) is not None

    def public_partners(self) -> set[int]:
        """Organisations named in a public project (imported from open data)."""
        query = (
            select(ProjectPartner.organisation_id)
            .join(Project, Project.id == ProjectPartner.project_id)
            .where(public_project(), ProjectPartner.organisation_id.is_not(None))
            .distinct()
        )
        return {oid for oid in self.session.scalars(query) if oid is not None}

    def sharing_rows(self) -> list[ClusterSharing]:
        """Every interclustering opt-in."""
        return list(self.session.scalars(select(ClusterSharing)))

    def intercluster_projects(self, cluster_id: int, year: int) -> dict[int, set[int]]:
        """Projects of ``year`` with a partner member of ``cluster_id`` and one member of another
        cluster (a membership running some day of that year): project -> those other clusters.

        A project counts in a year its period meets; an undated one in its call's edition.
        """
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        in_year = or_(
            and_(
                or_(Project.start.is_not(None), Project.end_date.is_not(None)),
                or_(Project.start.is_(None), Project.start <= last),
                or_(Project.end_date.is_(None), Project.end_date >= first),
            ),
            and_(Project.start.is_(None), Project.end_date.is_(None), Project.edition == year),
        )
        running = or_(Membership.left_on.is_(None), Membership.left_on >= first)
        during = and_(Membership.joined <= last, running)
        other = aliased(Membership)
        other_during = and_(other.joined <= last, or_(other.left_on.is_(None), other.left_on >= first))
        mine = aliased(ProjectPartner)
        theirs = aliased(ProjectPartner)
        query = (
            select(Project.id, other.cluster_id)
            .select_from(Project)
            .join(mine, mine.project_id == Project.id)
            .join(Membership, and_(Membership.organisation_id == mine.organisation_id, during))
            .join(
                theirs,
                and_(
                    theirs.project_id == Project.id,
                    theirs.organisation_id.is_not(None),
                    theirs.organisation_id != mine.organisation_id,
                ),
            )
            .join(other, and_(other.organisation_id == theirs.organisation_id, other_during))
            .where(in_year, Membership.cluster_id == cluster_id, other.cluster_id != cluster_id)
            .distinct()
        )
        found: dict[int, set[int]] = defaultdict(set)
        for project_id, other_cluster in self.session.execute(query):
            found[project_id].add(other_cluster)
        return dict(found)
