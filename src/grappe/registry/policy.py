"""Who may do what on which object: the acting user (Actor) and the checks every service runs.

Tenancy is decided here, once, per object (not per URL):

* **Cluster organisations.** Administrators and a cluster's managers manage it; its funders
  read its private data (members, fees, figures); its current members read its member
  directory; everybody knows a public cluster (the public directory lists it). A cluster the
  actor does not know at all answers "introuvable", as if it did not exist.
* **Objects of a cluster** (memberships, fee calls and their payments and waivers,
  invitations it sent) are private data of their cluster: they exist for those who read
  that cluster's private data, and only its managers change them.
* **Organisations** are shared by the clusters they belong to. A manager *reads* an
  organisation that is or was a member of a cluster it manages, or that a cluster it manages
  owns (created it, :class:`~grappe.registry.models.OrganisationOwner`); it *manages* it
  (edits it, adds contacts) when the organisation is a current or future member of one of
  its clusters, or is owned by one. A funder reads the organisations that are or were
  members of a cluster it funds; a member user reads its own organisation. Attaching an
  organisation to a cluster (a membership) needs the right to read it first, so no right
  is ever obtained by attaching: an organisation of another tenant is reached only by an
  invitation that the organisation's side accepts (:func:`may_answer`).
* Objects of another tenant answer :class:`~grappe.errors.NotFoundError` (HTTP 404), never
  "refusé": ids are sequential, and a 403 would tell which exist. An actor who may see an
  object but not do the action gets :class:`~grappe.errors.PermissionDeniedError` (403).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import IntEnum

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session

from grappe.errors import InputError, NotFoundError, PermissionDeniedError
from grappe.registry.clusters.repository import ClusterRepository
from grappe.registry.invitations.repository import sent_or_received
from grappe.registry.memberships.repository import MembershipRepository
from grappe.registry.models import Invitation, Role
from grappe.registry.organisations.repository import (
    OrganisationRepository,
    owned_or_running,
    the_organisation,
)

ROLE_NAMES = {
    Role.ADMIN: "administrateur",
    Role.FUNDER: "financeur",
    Role.MANAGER: "gestionnaire de structure",
    Role.MEMBER: "adhérent",
    Role.PUBLIC: "public",
    Role.REVIEWER: "évaluateur",
}


@dataclass(frozen=True)
class Actor:
    """The user an operation runs for, with the scope of its role.

    Attributes
    ----------
    role
        The role; ``public`` for anonymous requests.
    user_id
        The user's id (None for the local CLI administrator and for the public).
    label
        How the audit log names the actor (``user:12``, ``cli:local-admin``, ``public``).
    funder_id
        For a funder: the funder whose clusters it may read.
    organisation_id
        For a member: its organisation.
    managed
        For a manager: ids of the cluster organisations it manages.
    """

    role: Role
    user_id: int | None = None
    label: str = "public"
    funder_id: int | None = None
    organisation_id: int | None = None
    managed: frozenset[int] = field(default_factory=frozenset)


LOCAL_ADMIN = Actor(Role.ADMIN, label="cli:local-admin")
"""The default actor of the CLI: whoever can open the database file administers it."""

PUBLIC = Actor(Role.PUBLIC, label="public")
"""The anonymous actor (API requests without a token)."""


def deny(actor: Actor, action: str) -> PermissionDeniedError:
    return PermissionDeniedError(
        f"accès refusé : le rôle « {ROLE_NAMES[actor.role]} » ne permet pas de {action}"
    )


def require_admin(actor: Actor, action: str) -> None:
    """Only a platform administrator may run ``action``."""
    if actor.role is not Role.ADMIN:
        raise deny(actor, action)


def require_manager(actor: Actor, action: str) -> None:
    """Only administrators and cluster managers may run ``action``."""
    if actor.role not in {Role.ADMIN, Role.MANAGER}:
        raise deny(actor, action)


def require_self_or_admin(actor: Actor, user_id: int, action: str) -> None:
    """Only an administrator, or the user itself, may run ``action`` on a user's account."""
    if actor.role is not Role.ADMIN and actor.user_id != user_id:
        raise deny(actor, action)


def require_inviter(
    session: Session, actor: Actor, role: Role, clusters: set[int], organisation_id: int | None
) -> None:
    """Raise unless the actor may invite a person with this role and scope.

    Administrators invite anybody. A cluster manager invites, for the clusters it manages,
    co-managers of those clusters, and member users of an organisation it manages; another
    tenant's cluster or organisation is "introuvable", as everywhere.
    """
    if actor.role is Role.ADMIN:
        return
    if actor.role is not Role.MANAGER or role not in {Role.MANAGER, Role.MEMBER}:
        raise deny(actor, f"inviter un utilisateur de rôle « {ROLE_NAMES.get(role, role)} »")
    for cluster_id in sorted(clusters):
        require_cluster(session, actor, cluster_id, Access.MANAGE, "inviter un gestionnaire")
    if role is Role.MEMBER and organisation_id is not None:
        require_organisation(session, actor, organisation_id, Access.MANAGE, "inviter un adhérent")


def funded_cluster_ids(session: Session, funder_id: int) -> set[int]:
    """Cluster organisations a funder funds: a label it grants or a funding line from it."""
    return ClusterRepository(session).funded_by(funder_id)


def member_cluster_ids(session: Session, organisation_id: int, on: dt.date | None = None) -> set[int]:
    """Cluster organisations an organisation is a member of on a date (default today)."""
    return MembershipRepository(session).clusters_open_on(organisation_id, on or dt.date.today())


def readable_cluster_ids(session: Session, actor: Actor) -> set[int] | None:
    """Cluster organisations whose private data the actor may read (None = all of them)."""
    if actor.role is Role.ADMIN:
        return None
    if actor.role is Role.MANAGER:
        return set(actor.managed)
    if actor.role is Role.FUNDER and actor.funder_id is not None:
        return funded_cluster_ids(session, actor.funder_id)
    raise deny(actor, "lister les structures (utilisez l'annuaire public)")


# --- object-level rights (tenancy) -----------------------------------------------------------


class Access(IntEnum):
    """What an actor may do with one object, each level including the ones below."""

    NONE = 0  # the object does not exist for this actor: "introuvable" (404)
    SEE = 1  # knows it exists (a public cluster, its organisation's cluster): "refusé" beyond
    DIRECTORY = 2  # reads a cluster's member directory (its current members)
    READ = 3  # reads the private data
    MANAGE = 4  # changes it


def cluster_access(session: Session, actor: Actor, cluster_id: int, *, exists: bool = False) -> Access:
    """The actor's access to a cluster organisation (NONE when it does not exist).

    ``exists=True`` when the caller already holds a row proving the cluster exists: an
    administrator then needs no query (the busiest reads check it per request).
    """
    if actor.role is Role.MANAGER and cluster_id in actor.managed:
        return Access.MANAGE  # a managed cluster exists (cascade on delete): no query
    if actor.role is Role.ADMIN and exists:
        return Access.MANAGE
    public = ClusterRepository(session).is_public(cluster_id)
    if public is None:
        return Access.NONE
    if actor.role is Role.ADMIN:
        return Access.MANAGE
    if (
        actor.role is Role.FUNDER
        and actor.funder_id is not None
        and cluster_id in funded_cluster_ids(session, actor.funder_id)
    ):
        return Access.READ
    if (
        actor.role is Role.MEMBER
        and actor.organisation_id is not None
        and cluster_id in member_cluster_ids(session, actor.organisation_id)
    ):
        return Access.DIRECTORY
    return Access.SEE if public else Access.NONE


def _check(access: Access, need: Access, missing: str, actor: Actor, action: str) -> None:
    if access is Access.NONE:
        raise NotFoundError(f"{missing} introuvable")
    if access < need:
        raise deny(actor, action)


def require_cluster(
    session: Session, actor: Actor, cluster_id: int, need: Access, action: str, *, exists: bool = False
) -> None:
    """Raise unless the actor has ``need`` on this cluster organisation.

    Raises
    ------
    NotFoundError
        The cluster does not exist, or not for this actor (another tenant's private cluster).
    PermissionDeniedError
        The actor knows the cluster but its role does not allow ``action``.
    """
    access = cluster_access(session, actor, cluster_id, exists=exists)
    _check(access, need, f"structure {cluster_id}", actor, f"{action} (structure {cluster_id})")


def require_cluster_object(
    session: Session, actor: Actor, cluster_id: int, need: Access, what: str, action: str
) -> None:
    """Raise unless the actor has ``need`` on a private object of a cluster (``what``: its name).

    Such an object (membership, fee call, invitation sent) exists only for the actors who
    read its cluster's private data; only the cluster's managers change it.
    """
    access = cluster_access(session, actor, cluster_id)
    if access < Access.READ:
        access = Access.NONE
    _check(access, need, what, actor, f"{action} ({what})")


def owner_cluster_id(session: Session, organisation_id: int) -> int | None:
    """The cluster organisation that owns an organisation (created it), if any."""
    return OrganisationRepository(session).owner(organisation_id)


def organisation_access(
    session: Session, actor: Actor, organisation_id: int, *, on: dt.date | None = None
) -> Access:
    """The actor's access to an existing organisation (rules in the module docstring)."""
    if actor.role is Role.ADMIN:
        return Access.MANAGE
    if actor.role is Role.MEMBER:
        return Access.READ if actor.organisation_id == organisation_id else Access.NONE
    if actor.role is Role.MANAGER:
        if owner_cluster_id(session, organisation_id) in actor.managed:
            return Access.MANAGE
        day = on or dt.date.today()
        running = [
            still
            for cluster_id, still in MembershipRepository(session).periods_of(organisation_id, day)
            if cluster_id in actor.managed
        ]
        if any(running):
            return Access.MANAGE
        return Access.READ if running else Access.NONE
    if actor.role is Role.FUNDER and actor.funder_id is not None:
        funded = funded_cluster_ids(session, actor.funder_id)
        periods = MembershipRepository(session).periods_of(organisation_id, on or dt.date.today())
        if any(cluster_id in funded for cluster_id, _ in periods):
            return Access.READ
    return Access.NONE


def require_organisation(
    session: Session, actor: Actor, organisation_id: int, need: Access, action: str
) -> None:
    """Raise unless the actor has ``need`` on an existing organisation.

    Raises
    ------
    NotFoundError
        The actor may not read the organisation (the same answer as for a missing one).
    PermissionDeniedError
        The actor reads it but may not do ``action``.
    """
    access = organisation_access(session, actor, organisation_id)
    _check(
        access,
        need,
        f"organisation {organisation_id}",
        actor,
        f"{action} (organisation {organisation_id})",
    )


#: The access to an organisation that attaching it to a cluster the actor manages needs: the
#: right to read it, so attaching never gives a right the actor did not have (another
#: tenant's organisation is "introuvable" there too: invite it).
ATTACH = Access.READ


def may_answer(session: Session, actor: Actor, organisation_id: int) -> bool:
    """True when the actor answers invitations for this organisation.

    Its member users, the managers who manage it (a cluster it currently belongs to, or its
    owner) and the platform administrator: the organisation's own side, never the inviter.
    """
    if actor.role is Role.MEMBER:
        return actor.organisation_id == organisation_id
    return actor.role in {Role.ADMIN, Role.MANAGER} and (
        organisation_access(session, actor, organisation_id) is Access.MANAGE
    )


def answered_organisations(actor: Actor, on: dt.date | None = None) -> Select[int]:
    """Ids of the organisations whose invitations the actor answers (administrators: use None)."""
    if actor.role is Role.MEMBER:
        return the_organisation(actor.organisation_id)
    managed = actor.managed if actor.role is Role.MANAGER else frozenset()
    return owned_or_running(managed, on or dt.date.today())


def invitations_seen(actor: Actor) -> ColumnElement[bool] | None:
    """Invitations the actor sees: sent by a cluster it manages, or addressed to an
    organisation it answers for (None: all of them, for administrators)."""
    if actor.role is Role.ADMIN:
        return None
    if actor.role not in {Role.MANAGER, Role.MEMBER}:
        raise deny(actor, "consulter les invitations")
    return sent_or_received(actor.managed, answered_organisations(actor))


def owner_of_new_organisation(session: Session, actor: Actor, cluster_id: int | None) -> int | None:
    """The cluster that will own an organisation the actor creates (None: no owner).

    A manager's organisations belong to one of its clusters: the one named, or its only one.
    An administrator's have an owner only when it names one.
    """
    if cluster_id is None and actor.role is Role.MANAGER:
        if len(actor.managed) != 1:
            raise InputError(
                "vous gérez plusieurs structures : précisez celle qui crée l'organisation "
                "(POST /clusters/{id}/organisations)"
            )
        (cluster_id,) = actor.managed
    if cluster_id is not None:
        require_cluster(session, actor, cluster_id, Access.MANAGE, "créer une organisation")
    return cluster_id


def invitation_access(session: Session, actor: Actor, invitation: Invitation) -> Access:
    """MANAGE for who answers it, READ for the inviting cluster's readers, else NONE."""
    if may_answer(session, actor, invitation.organisation_id):
        return Access.MANAGE
    if cluster_access(session, actor, invitation.cluster_id) >= Access.READ:
        return Access.READ
    return Access.NONE


def require_answer(session: Session, actor: Actor, invitation: Invitation, action: str) -> None:
    """Raise unless the actor answers this invitation (404 when it may not even see it)."""
    access = invitation_access(session, actor, invitation)
    _check(
        access,
        Access.MANAGE,
        f"invitation {invitation.id}",
        actor,
        f"{action} (invitation {invitation.id} : c'est à l'organisation invitée de répondre)",
    )
