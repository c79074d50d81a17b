"""All SQL of calls for partners: the calls a reader sees, their interests, whom to notify."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, and_, func, or_, select

from grappe.kit.repository import Repository, check_page
from grappe.partners.models import Posting, PostingInterest, PostingStatus
from grappe.registry.models import Cluster, ClusterManager, Organisation, Role, User


def open_on(day: dt.date) -> Any:
    """Calls that take interest on ``day``: open, and their deadline not passed."""
    return and_(Posting.status == PostingStatus.OPEN.value, Posting.deadline >= day)


class PostingRepository(Repository[Posting]):
    """Calls for partners and their interests."""

    model = Posting
    what = "recherche de partenaires"
    refusals = {  # noqa: RUF012
        "uq_posting_interests": "intérêt déjà manifesté par cette organisation pour cette recherche",
        "posting_interests.posting_id": (
            "intérêt déjà manifesté par cette organisation pour cette recherche"
        ),
    }

    def listed(
        self,
        clusters: Collection[int] | None,
        *,
        open_day: dt.date | None,
        organisation_id: int | None = None,
    ) -> Select[Any]:
        """Calls of ``clusters`` (None: all), the open ones on ``open_day`` when given, the
        latest deadline last; with ``organisation_id``, that organisation's calls only."""
        query = select(Posting)
        if clusters is not None:
            query = query.where(Posting.cluster_id.in_(sorted(clusters)))
        if open_day is not None:
            query = query.where(open_on(open_day))
        if organisation_id is not None:
            query = query.where(Posting.organisation_id == organisation_id)
        return query.order_by(Posting.deadline, Posting.id)

    def names(self, posting: Posting) -> tuple[str, str]:
        """(cluster's name or acronym, organisation's name) of a call."""
        cluster = self.session.get(Cluster, posting.cluster_id)
        org = self.session.get(Organisation, posting.organisation_id)
        return (cluster.acronym or cluster.name) if cluster else "", org.name if org else ""

    def interest_counts(self, posting_ids: Collection[int], organisation_id: int | None) -> dict[int, int]:
        """Interests per call (one organisation's only, when given)."""
        if not posting_ids:
            return {}
        query = (
            select(PostingInterest.posting_id, func.count())
            .where(PostingInterest.posting_id.in_(sorted(posting_ids)))
            .group_by(PostingInterest.posting_id)
        )
        if organisation_id is not None:
            query = query.where(PostingInterest.organisation_id == organisation_id)
        return {pid: int(n) for pid, n in self.session.execute(query)}

    def interest(self, posting_id: int, organisation_id: int) -> PostingInterest | None:
        """An organisation's interest in a call."""
        return self.session.scalar(
            select(PostingInterest).where(
                PostingInterest.posting_id == posting_id, PostingInterest.organisation_id == organisation_id
            )
        )

    def interests(
        self, posting_id: int, organisation_id: int | None, limit: int, offset: int
    ) -> tuple[int, list[tuple[PostingInterest, str]]]:
        """A call's interests (one organisation's when given) with the organisation's name, a page."""
        check_page(limit, offset)
        query = (
            select(PostingInterest, Organisation.name)
            .join(Organisation, Organisation.id == PostingInterest.organisation_id)
            .where(PostingInterest.posting_id == posting_id)
        )
        if organisation_id is not None:
            query = query.where(PostingInterest.organisation_id == organisation_id)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.execute(query.order_by(PostingInterest.id).limit(limit).offset(offset))
        return total, [(interest, name) for interest, name in rows]

    def recipients(self, posting: Posting) -> list[tuple[str, str]]:
        """E-mails to notify of a call's news, each with its user's language: the active users of
        its organisation, its author and the active managers of its cluster, each once, sorted."""
        managers = select(ClusterManager.user_id).where(ClusterManager.cluster_id == posting.cluster_id)
        query = select(User.email, User.language).where(
            User.active.is_(True),
            or_(
                and_(User.role == Role.MEMBER.value, User.organisation_id == posting.organisation_id),
                and_(User.role == Role.MANAGER.value, User.id.in_(managers)),
                User.id == posting.author_user_id,
            ),
        )
        return sorted({(email, language) for email, language in self.session.execute(query)})
