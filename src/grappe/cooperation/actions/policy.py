"""Who may do what on collective actions, per object.

A cluster's managers (and the platform administrator) manage its events, equipment and the
services it sells (offers and sales). Its current members' users see its public events and
register their own organisation, see its equipment and book it for their organisation, see the
services on sale, and read their own registrations, bookings, bills and purchases of services.
Anybody else (other tenants, funders, the public) finds nothing: "introuvable" (404). Funders
read the figures (events and services revenue per year) through the cooperation policy.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from grappe.cooperation.actions.models import Event, ServiceOffer
from grappe.errors import NotFoundError
from grappe.registry.models import Role
from grappe.registry.policy import Access, Actor, cluster_access, deny, require_organisation


def _member_of(session: Session, actor: Actor, cluster_id: int) -> Access:
    """MANAGE for the cluster's managers, READ for its members' users, NONE for the others."""
    access = cluster_access(session, actor, cluster_id)
    if access is Access.MANAGE:
        return Access.MANAGE
    if actor.role is Role.MEMBER and access >= Access.DIRECTORY:
        return Access.READ
    return Access.NONE


def require_actions(session: Session, actor: Actor, cluster_id: int, need: Access, action: str) -> bool:
    """Raise unless the actor has ``need`` on a cluster's actions; True when it manages them."""
    access = _member_of(session, actor, cluster_id)
    if access is Access.NONE:
        raise NotFoundError(f"structure {cluster_id} introuvable")
    if access < need:
        raise deny(actor, f"{action} (structure {cluster_id})")
    return access is Access.MANAGE


def require_event(session: Session, actor: Actor, event: Event, need: Access, action: str) -> bool:
    """Raise unless the actor has ``need`` on an event (members read the public ones only);
    True when it manages it."""
    access = _member_of(session, actor, event.cluster_id)
    if access is Access.READ and not event.public:
        access = Access.NONE
    if access is Access.NONE:
        raise NotFoundError(f"événement {event.id} introuvable")
    if access < need:
        raise deny(actor, f"{action} (événement {event.id})")
    return access is Access.MANAGE


def acting_for(
    session: Session, actor: Actor, manages: bool, organisation_id: int | None, action: str
) -> int:
    """The organisation a registration or booking is for: a member's own (the only one it may
    name), any organisation the manager reads."""
    if manages:
        if organisation_id is None:
            raise deny(actor, f"{action} sans organisation (précisez organisation_id)")
        require_organisation(session, actor, organisation_id, Access.READ, action)
        return organisation_id
    own = actor.organisation_id
    if own is None or organisation_id not in (None, own):
        raise deny(actor, f"{action} pour une autre organisation que la sienne")
    return own


def require_offer(session: Session, actor: Actor, offer: ServiceOffer, need: Access, action: str) -> bool:
    """Raise unless the actor has ``need`` on a service offer (members read those on sale);
    True when it manages it."""
    access = _member_of(session, actor, offer.cluster_id)
    if access is Access.READ and not offer.active:
        access = Access.NONE
    if access is Access.NONE:
        raise NotFoundError(f"offre de service {offer.id} introuvable")
    if access < need:
        raise deny(actor, f"{action} (offre de service {offer.id})")
    return access is Access.MANAGE
