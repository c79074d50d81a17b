"""Who may do what: the acting user (Actor) and the role checks every service operation runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from grappe.errors import PermissionDeniedError
from grappe.registry.models import ClusterFunding, ClusterLabel, Membership, Role

ROLE_NAMES = {
    Role.ADMIN: "administrateur",
    Role.FUNDER: "financeur",
    Role.MANAGER: "gestionnaire de structure",
    Role.MEMBER: "adhérent",
    Role.PUBLIC: "public",
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


def can_manage(actor: Actor, cluster_id: int) -> bool:
    """True for an administrator or a manager of this cluster organisation."""
    return actor.role is Role.ADMIN or (actor.role is Role.MANAGER and cluster_id in actor.managed)


def funded_cluster_ids(session: Session, funder_id: int) -> set[int]:
    """Cluster organisations a funder funds: a label it grants or a funding line from it."""
    query = union(
        select(ClusterLabel.cluster_id).where(ClusterLabel.funder_id == funder_id),
        select(ClusterFunding.cluster_id).where(ClusterFunding.funder_id == funder_id),
    )
    return set(session.scalars(select(query.subquery().c[0])))


def member_cluster_ids(
    session: Session, organisation_id: int, on: dt.date | None = None
) -> set[int]:
    """Cluster organisations an organisation is a member of on a date (default today)."""
    day = on or dt.date.today()
    rows = session.scalars(
        select(Membership.cluster_id).where(
            Membership.organisation_id == organisation_id,
            Membership.joined <= day,
            (Membership.left_on.is_(None)) | (Membership.left_on > day),
        )
    )
    return set(rows)


def can_read(session: Session, actor: Actor, cluster_id: int) -> bool:
    """True when the actor may read a cluster organisation's private data (members, fees)."""
    if can_manage(actor, cluster_id):
        return True
    if actor.role is Role.FUNDER and actor.funder_id is not None:
        return cluster_id in funded_cluster_ids(session, actor.funder_id)
    return False


def require_manage(actor: Actor, cluster_id: int, action: str) -> None:
    """Raise unless the actor manages this cluster organisation."""
    if not can_manage(actor, cluster_id):
        raise deny(actor, f"{action} (structure {cluster_id})")


def require_read(session: Session, actor: Actor, cluster_id: int, action: str) -> None:
    """Raise unless the actor may read this cluster organisation's private data."""
    if not can_read(session, actor, cluster_id):
        raise deny(actor, f"{action} (structure {cluster_id})")


def require_directory(session: Session, actor: Actor, cluster_id: int) -> None:
    """Raise unless the actor may read this cluster's member directory (its members may)."""
    if can_read(session, actor, cluster_id):
        return
    if (
        actor.role is Role.MEMBER
        and actor.organisation_id is not None
        and cluster_id in member_cluster_ids(session, actor.organisation_id)
    ):
        return
    raise deny(actor, f"consulter l'annuaire des adhérents (structure {cluster_id})")


def readable_cluster_ids(session: Session, actor: Actor) -> set[int] | None:
    """Cluster organisations whose private data the actor may read (None = all of them)."""
    if actor.role is Role.ADMIN:
        return None
    if actor.role is Role.MANAGER:
        return set(actor.managed)
    if actor.role is Role.FUNDER and actor.funder_id is not None:
        return funded_cluster_ids(session, actor.funder_id)
    raise deny(actor, "lister les structures (utilisez l'annuaire public)")
