"""Who may do what on calls for projects, per object, on top of the registry's roles.

* **Calls** belong to their funder: its funder users (and the platform administrator) manage
  them. Once published, a call is read by everybody (applicants must find it); a draft call
  exists only for its funder.
* **Applications** are the applicant's: the managers of the applicant cluster, or the member
  users of a consortium's coordinator firm, write them while they are drafts and read them
  always. The call's funder reads them once submitted (a draft is not sent yet: it does not
  exist for the funder). A reviewer reads only the applications assigned to it, and none on
  which it has a conflict of interest (an assignment never holds one: declaring a conflict
  removes it). Anybody else: "introuvable" (404), as for any object of another tenant.
* **Reviews**: a reviewer scores the applications assigned to it; the call's funder reads the
  reviews of its calls, runs the assignment, the selection, and records the decision.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from grappe.calls.models import Application, ApplicationStatus, Call, ReviewerProfile
from grappe.calls.repository import AssignmentRepository, ReviewerRepository
from grappe.kit.repository import not_found
from grappe.registry.models import Role
from grappe.registry.policy import Access, Actor, deny


def owns_call(actor: Actor, call: Call) -> bool:
    """The actor manages the call: the administrator, or a user of its funder."""
    return actor.role is Role.ADMIN or (actor.role is Role.FUNDER and actor.funder_id == call.funder_id)


def call_access(actor: Actor, call: Call) -> Access:
    if owns_call(actor, call):
        return Access.MANAGE
    return Access.READ if call.published else Access.NONE


def require_call(actor: Actor, call: Call, need: Access, action: str) -> None:
    """Raise unless the actor has ``need`` on a call (404 when it may not read it)."""
    access = call_access(actor, call)
    if access is Access.NONE:
        raise not_found("appel à projets", call.id)
    if access < need:
        raise deny(actor, f"{action} (appel à projets {call.id})")


def require_funder(actor: Actor, action: str) -> None:
    """Only the administrator and funders create calls and keep the reviewer pool."""
    if actor.role not in {Role.ADMIN, Role.FUNDER}:
        raise deny(actor, action)


def is_applicant(actor: Actor, application: Application) -> bool:
    """The actor answers for the application's applicant."""
    if actor.role is Role.MANAGER:
        return application.cluster_id is not None and application.cluster_id in actor.managed
    if actor.role is Role.MEMBER:
        return (
            application.organisation_id is not None and application.organisation_id == actor.organisation_id
        )
    return False


def reviewer_of(session: Session, actor: Actor) -> ReviewerProfile | None:
    """The reviewer profile of a reviewer user (None for other roles or without profile)."""
    if actor.role is not Role.REVIEWER:
        return None
    return ReviewerRepository(session).of_user(actor.user_id)


def application_access(session: Session, actor: Actor, application: Application, call: Call) -> Access:
    """MANAGE for the administrator and the applicant, READ for the funder (once submitted) and
    its assigned reviewers, else NONE."""
    if actor.role is Role.ADMIN or is_applicant(actor, application):
        return Access.MANAGE
    if owns_call(actor, call):
        return Access.READ if application.status != ApplicationStatus.DRAFT.value else Access.NONE
    profile = reviewer_of(session, actor)
    if profile is not None and AssignmentRepository(session).of_pair(application.id, profile.id) is not None:
        return Access.READ
    return Access.NONE


def require_application(
    session: Session, actor: Actor, application: Application, call: Call, need: Access, action: str
) -> None:
    """Raise unless the actor has ``need`` on an application (404 when it may not read it)."""
    access = application_access(session, actor, application, call)
    if access is Access.NONE:
        raise not_found("candidature", application.id)
    if access < need:
        raise deny(actor, f"{action} (candidature {application.id})")


def require_reviewer(session: Session, actor: Actor) -> ReviewerProfile:
    """The acting reviewer's profile; refused for other roles or a reviewer outside the pool."""
    profile = reviewer_of(session, actor)
    if profile is None:
        if actor.role is Role.REVIEWER:
            raise deny(actor, "évaluer (vous n'êtes pas encore dans le vivier d'évaluateurs)")
        raise deny(actor, "évaluer des candidatures")
    return profile
