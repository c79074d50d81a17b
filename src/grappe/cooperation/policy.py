"""Who may do what on cooperation records: links, projects and deals, per object.

The rules build on the registry's (:mod:`grappe.registry.policy`):

* **Links and deals** are recorded in one cluster organisation's books. Its managers (and the
  platform administrator) read and record them, between organisations they may read (the
  registry's rule: no right is obtained by recording); a member user reads those where its
  organisation is a side, and declares them for its organisation with another current
  member of the same cluster. A link declared by a member counts once the *other* side's
  member user (or the administrator) confirms it.
* **Projects** belong to a cluster's books (``cluster_id``) or are open data (imported,
  ``cluster_id`` NULL, readable by everybody). A project of a cluster is managed by the
  managers of that cluster and of the clusters that labelled it; its partners' member users
  read it; the cluster's other members read it unless it is confidential: confidential
  details stay with the partners and the managers.
* **Funders** read aggregated figures (yearly business, projects by status) of the clusters
  they fund, never a record.

Objects of another tenant answer "introuvable" (404), as in the registry.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from grappe.cooperation import repository
from grappe.cooperation.models import BusinessDeal, CooperationLink, Project
from grappe.errors import NotFoundError
from grappe.registry.models import Role
from grappe.registry.policy import (
    Access,
    Actor,
    cluster_access,
    deny,
    member_cluster_ids,
    require_organisation,
)


def record_access(session: Session, actor: Actor, cluster_id: int, sides: tuple[int, ...]) -> Access:
    """The actor's access to a link or deal of a cluster's books between ``sides``."""
    if cluster_access(session, actor, cluster_id) is Access.MANAGE:
        return Access.MANAGE
    if actor.role is Role.MEMBER and actor.organisation_id in sides:
        return Access.READ
    return Access.NONE


def require_record(
    session: Session, actor: Actor, record: CooperationLink | BusinessDeal, need: Access, action: str
) -> None:
    """Raise unless the actor has ``need`` on a link or a deal (404 when it may not read it)."""
    if isinstance(record, CooperationLink):
        what = f"lien {record.id}"
        sides = (record.organisation_a_id, record.organisation_b_id)
    else:
        what = f"affaire {record.id}"
        sides = (record.buyer_id, record.seller_id)
    access = record_access(session, actor, record.cluster_id, sides)
    if access is Access.NONE:
        raise NotFoundError(f"{what} introuvable")
    if access < need:
        raise deny(actor, f"{action} ({what})")


def require_existing(session: Session, organisation_ids: tuple[int, ...]) -> None:
    """Raise NotFoundError for an organisation id that does not exist (the registry's access
    rules take an existing organisation: an administrator may do anything with any id)."""
    known = repository.organisation_names(session, organisation_ids)
    for organisation_id in organisation_ids:
        if organisation_id not in known:
            raise NotFoundError(f"organisation {organisation_id} introuvable")


def require_declare(
    session: Session, actor: Actor, cluster_id: int, sides: tuple[int, int], action: str
) -> bool:
    """Raise unless the actor may record a link or deal between ``sides`` in a cluster's books.

    Returns True when the actor records it as the cluster's manager (or administrator),
    False when a member declares it for its own organisation.
    """
    access = cluster_access(session, actor, cluster_id)
    if access is Access.NONE:
        raise NotFoundError(f"structure {cluster_id} introuvable")
    require_existing(session, sides)
    if access is Access.MANAGE:
        for organisation_id in sides:
            require_organisation(session, actor, organisation_id, Access.READ, action)
        return True
    if actor.role is Role.MEMBER and access >= Access.DIRECTORY and actor.organisation_id in sides:
        other = sides[1] if sides[0] == actor.organisation_id else sides[0]
        if cluster_id not in member_cluster_ids(session, other):
            raise NotFoundError(f"organisation {other} introuvable")
        return False
    raise deny(actor, f"{action} (structure {cluster_id})")


def require_answer(session: Session, actor: Actor, link: CooperationLink) -> None:
    """Raise unless the actor answers a pending link: the side that did not declare it."""
    require_record(session, actor, link, Access.READ, "répondre à un lien")
    if actor.role is Role.ADMIN:
        return
    other = (
        link.organisation_b_id if link.declared_by_id == link.organisation_a_id else link.organisation_a_id
    )
    if actor.role is not Role.MEMBER or actor.organisation_id != other:
        raise deny(actor, f"confirmer le lien {link.id} (c'est à l'autre partie de répondre)")


def project_access(session: Session, actor: Actor, project: Project) -> Access:
    """MANAGE for its clusters' managers, READ for who may read it, else NONE."""
    if actor.role is Role.ADMIN:
        return Access.MANAGE
    if project.cluster_id is None:
        return Access.READ  # open data
    clusters = {project.cluster_id} | repository.labelling_clusters(session, project.id)
    if actor.role is Role.MANAGER and clusters & actor.managed:
        return Access.MANAGE
    if actor.role is Role.MEMBER and actor.organisation_id is not None:
        if repository.is_partner(session, project.id, actor.organisation_id):
            return Access.READ
        if not project.confidential and clusters & member_cluster_ids(session, actor.organisation_id):
            return Access.READ
    return Access.NONE


def require_project(session: Session, actor: Actor, project: Project, need: Access, action: str) -> None:
    """Raise unless the actor has ``need`` on a project (404 when it may not read it)."""
    access = project_access(session, actor, project)
    if access is Access.NONE:
        raise NotFoundError(f"projet {project.id} introuvable")
    if access < need:
        raise deny(actor, f"{action} (projet {project.id})")


def require_figures(session: Session, actor: Actor, cluster_id: int) -> None:
    """Raise unless the actor reads a cluster's aggregated cooperation figures (manager, funder)."""
    access = cluster_access(session, actor, cluster_id)
    if access is Access.NONE:
        raise NotFoundError(f"structure {cluster_id} introuvable")
    if access < Access.READ:
        raise deny(actor, f"lire les chiffres de coopération (structure {cluster_id})")


def records_filter(session: Session, actor: Actor, cluster_id: int, action: str) -> int | None:
    """Whose links or deals of a cluster's books the actor lists: all (None) or its organisation's.

    Raises
    ------
    NotFoundError
        The cluster does not exist for the actor.
    PermissionDeniedError
        The actor is neither a manager of the cluster nor one of its member users.
    """
    access = cluster_access(session, actor, cluster_id)
    if access is Access.MANAGE:
        return None
    if actor.role is Role.MEMBER and access >= Access.DIRECTORY:
        return actor.organisation_id
    if access is Access.NONE:
        raise NotFoundError(f"structure {cluster_id} introuvable")
    raise deny(actor, f"{action} (structure {cluster_id})")
