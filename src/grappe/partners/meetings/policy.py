"""Who may do what on B2B events, per object.

The organising cluster's managers (and the platform administrator) manage its B2B events
entirely. A member user whose organisation is a participant reads the event, its participants
(names), the wishes from or to its organisation, and, once published, its own agenda. A
member user of the organising cluster or of a guest cluster sees the event and registers its
organisation. Anybody else finds nothing: "introuvable" (404).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from grappe.errors import NotFoundError
from grappe.partners.meetings.models import B2BEvent
from grappe.partners.meetings.repository import B2BEventRepository
from grappe.registry.models import Role
from grappe.registry.policy import (
    Access,
    Actor,
    cluster_access,
    deny,
    member_cluster_ids,
    require_organisation,
)


def event_access(session: Session, actor: Actor, event: B2BEvent) -> Access:
    """MANAGE for the organisers, READ for a participant's users, SEE for the users of the
    organising or guest clusters' members (who may register), NONE for the others."""
    if cluster_access(session, actor, event.cluster_id, exists=True) is Access.MANAGE:
        return Access.MANAGE
    if actor.role is not Role.MEMBER or actor.organisation_id is None:
        return Access.NONE
    events = B2BEventRepository(session)
    if events.participant(event.id, actor.organisation_id) is not None:
        return Access.READ
    clusters = member_cluster_ids(session, actor.organisation_id)
    if event.cluster_id in clusters or clusters & events.guests(event.id):
        return Access.SEE
    return Access.NONE


def require_event(session: Session, actor: Actor, event: B2BEvent, need: Access, action: str) -> Access:
    """Raise unless the actor has ``need`` on the event; return its access."""
    access = event_access(session, actor, event)
    if access is Access.NONE:
        raise NotFoundError(f"rendez-vous d'affaires {event.id} introuvable")
    if access < need:
        raise deny(actor, f"{action} (rendez-vous d'affaires {event.id})")
    return access


def acting_for(
    session: Session,
    actor: Actor,
    access: Access,
    organisation_id: int | None,
    action: str,
    *,
    registered: bool = False,
) -> int:
    """The organisation an operation is for: a member's own (the only one it may name); for
    the organiser (who must name it), any organisation it reads, or with ``registered`` any
    participant of its event (the caller then checks it is one: a participant of a guest
    cluster registered itself to the organiser's event)."""
    if access is Access.MANAGE:
        if organisation_id is None:
            raise deny(actor, f"{action} sans organisation (précisez organisation_id)")
        if not registered:
            require_organisation(session, actor, organisation_id, Access.READ, action)
        return organisation_id
    own = actor.organisation_id
    if own is None or organisation_id not in (None, own):
        raise deny(actor, f"{action} pour une autre organisation que la sienne")
    return own
