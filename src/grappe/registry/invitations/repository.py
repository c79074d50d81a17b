"""All SQL of invitations: the pending one of a cluster, loading one to answer, the pages of a scope."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import selectinload

from grappe.kit.present import DEFAULT as DEFAULT_LANGUAGE
from grappe.kit.repository import Repository
from grappe.registry.models import Contact, Invitation, InvitationStatus, Organisation, User


class InvitationRepository(Repository[Invitation]):
    """Invitations of cluster organisations to organisations of other tenants."""

    model = Invitation
    what = "invitation"

    def pending(self, cluster_id: int, organisation_id: int) -> int | None:
        """The id of this cluster's invitation to this organisation still awaiting an answer."""
        return self.session.scalar(
            select(Invitation.id).where(
                Invitation.cluster_id == cluster_id,
                Invitation.organisation_id == organisation_id,
                Invitation.status == InvitationStatus.PENDING.value,
            )
        )

    def recipients(self, organisation_id: int) -> list[tuple[str, str]]:
        """The addresses that hear of an invitation to an organisation, with their language: its
        active member users in their own, then its contacts with an e-mail (no user: French)."""
        users = select(User.email, User.language).where(
            User.organisation_id == organisation_id, User.active.is_(True)
        )
        contacts = select(Contact.email).where(
            Contact.organisation_id == organisation_id, Contact.email.is_not(None)
        )
        found = [(e.strip().lower(), language) for e, language in self.session.execute(users)]
        found += [(e.strip().lower(), DEFAULT_LANGUAGE) for e in self.session.scalars(contacts) if e]
        return [(e, language) for e, language in found if "@" in e]

    def load(self, invitation_id: int) -> Invitation:
        """An invitation with its cluster and its organisation's establishments."""
        return self.get(
            invitation_id,
            selectinload(Invitation.cluster),
            selectinload(Invitation.organisation).selectinload(Organisation.establishments),
        )

    def listed(
        self,
        scope: ColumnElement[bool] | None,
        *,
        cluster_id: int | None,
        organisation_id: int | None,
        status: InvitationStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[int, Sequence[Invitation]]:
        """How many invitations match, and a page of them, newest first.

        ``scope``: those the actor sees (None: all); the other filters apply when given.
        """
        where: list[ColumnElement[bool]] = [] if scope is None else [scope]
        if cluster_id is not None:
            where.append(Invitation.cluster_id == cluster_id)
        if organisation_id is not None:
            where.append(Invitation.organisation_id == organisation_id)
        if status is not None:
            where.append(Invitation.status == status.value)
        return self.page(
            select(Invitation)
            .where(*where)
            .options(selectinload(Invitation.cluster), selectinload(Invitation.organisation))
            .order_by(Invitation.created_at.desc(), Invitation.id.desc()),
            limit,
            offset,
        )


def sent_or_received(clusters: Collection[int], organisations: Select[int]) -> ColumnElement[bool]:
    """Invitations sent by these clusters or addressed to these organisations (a subquery)."""
    received = Invitation.organisation_id.in_(organisations)
    return or_(Invitation.cluster_id.in_(clusters), received) if clusters else received
