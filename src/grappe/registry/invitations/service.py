"""Invitations: how a cluster organisation reaches an organisation of another tenant.

A manager attaches directly only the organisations it already reads (see
:mod:`grappe.registry.policy`). Any other organisation on the platform is *invited*, by its
SIREN: the invitation shows the inviting cluster nothing of the organisation (not even its
name) until the organisation's side — one of its member users, a manager of a cluster it
currently belongs to or of the cluster that owns it, or the platform administrator —
accepts. Accepting opens the membership period the invitation describes, with the checks of
any membership (:func:`grappe.registry.memberships.service.open_membership`); declining closes it.
Both are recorded in the audit log like every write.
"""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError
from sqlalchemy.orm import Session

from grappe.config import get_settings
from grappe.errors import ConflictError, InputError, NotFoundError
from grappe.kit.mail import Mail, Wording, by_language
from grappe.kit.present import Formatter
from grappe.registry import policy
from grappe.registry.identifiers import normalize_siren, normalize_siret
from grappe.registry.invitations.repository import InvitationRepository
from grappe.registry.invitations.schemas import InvitationCreate, InvitationOut, InvitationPage
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.registry.models import Invitation, InvitationStatus
from grappe.registry.organisations import service as organisations
from grappe.registry.policy import Access, Actor


def _out(session: Session, actor: Actor, invitation: Invitation) -> InvitationOut:
    org = invitation.organisation
    readable = policy.organisation_access(session, actor, org.id) >= Access.READ
    return InvitationOut(
        id=invitation.id,
        cluster_id=invitation.cluster_id,
        cluster=invitation.cluster.name,
        organisation_id=org.id,
        siren=org.siren,
        organisation=org.name if readable else None,
        siret=invitation.siret,
        membership_type=invitation.membership_type,
        joined=invitation.joined,
        left=invitation.left_on,
        status=InvitationStatus(invitation.status),
        created_at=invitation.created_at,
        decided_at=invitation.decided_at,
        membership_id=invitation.membership_id,
        version=invitation.version,
    )


def invite(session: Session, actor: Actor, cluster_id: int, data: InvitationCreate) -> InvitationOut:
    """Invite the organisation of a SIREN to join a cluster (administrators, its managers).

    Raises
    ------
    NotFoundError
        No organisation of that SIREN on the platform (create it instead).
    ConflictError
        An invitation of this cluster to this organisation is already pending.
    InputError
        Invalid SIREN or SIRET, an empty period, or a period overlapping one the organisation
        already has in this cluster.
    """
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "inviter une organisation")
    siren = normalize_siren(data.siren)
    siret = normalize_siret(data.siret) if data.siret else None
    if siret is not None and siret[:9] != siren:
        raise InputError(f"SIRET {siret} n'appartient pas au SIREN {siren}")
    memberships.check_period(data.joined, data.left)
    org = organisations.of_siren(session, siren)
    if org is None:
        raise NotFoundError(f"aucune organisation de SIREN {siren} sur la plateforme : créez-la plutôt")
    repository = InvitationRepository(session)
    pending = repository.pending(cluster_id, org.id)
    if pending is not None:
        raise ConflictError(f"SIREN {siren} : l'invitation {pending} attend déjà une réponse")
    # Periods of this organisation in the inviting cluster are that cluster's own data.
    if memberships.overlapping(
        session, cluster_id=cluster_id, organisation_id=org.id, joined=data.joined, left=data.left
    ):
        raise InputError(f"SIREN {siren} : déjà adhérent de la structure sur cette période")
    invitation = Invitation(
        cluster_id=cluster_id,
        organisation=org,
        siret=siret,
        membership_type=data.membership_type.strip(),
        joined=data.joined,
        left_on=data.left,
        status=InvitationStatus.PENDING.value,
    )
    repository.add(invitation)
    repository.flush()
    return _out(session, actor, invitation)


_INVITATION_SUBJECT = Wording(fr="grappe : invitation de {cluster}", en="grappe: invitation from {cluster}")
_INVITATION_BODY = Wording(
    fr=(
        "Bonjour,\n\n"
        "La structure « {cluster} » invite votre organisation « {organisation} » (SIREN {siren}) "
        "à adhérer, à partir du {joined} (type d'adhésion : {membership_type}).\n\n"
        "Rien de votre organisation ne lui est visible avant votre réponse. Un adhérent de votre "
        "organisation ou un gestionnaire d'une structure dont elle est membre répond en se "
        "connectant à grappe : {site}/connexion (invitation n° {number}).\n\n"
        "— grappe\n"
    ),
    en=(
        "Hello,\n\n"
        "The cluster “{cluster}” invites your organisation “{organisation}” (SIREN {siren}) "
        "to become a member from {joined} (membership type: {membership_type}).\n\n"
        "Nothing of your organisation is visible to it before your answer. A member of your "
        "organisation or a manager of a cluster it belongs to answers by signing in to "
        "grappe: {site}/connexion (invitation no. {number}).\n\n"
        "— grappe\n"
    ),
)


def invitation_mails(session: Session, invitation_id: int) -> list[Mail]:
    """The mails telling an invited organisation's people of the invitation (its active member
    users in their language, its contacts with an e-mail in French), one per language; none
    when no address is known.

    Sent by the caller once the invitation is committed; they name the inviting cluster and the
    proposed membership, nothing the organisation does not already know.
    """
    invitation = InvitationRepository(session).load(invitation_id)
    recipients = InvitationRepository(session).recipients(invitation.organisation_id)
    site = get_settings().base_url.rstrip("/")
    mails = []
    for language, to in by_language(recipients).items():
        body = _INVITATION_BODY(
            language,
            cluster=invitation.cluster.name,
            organisation=invitation.organisation.name,
            siren=invitation.organisation.siren,
            joined=Formatter(language).date(invitation.joined),
            membership_type=invitation.membership_type,
            site=site,
            number=invitation.id,
        )
        subject = _INVITATION_SUBJECT(language, cluster=invitation.cluster.name)
        mails.append(Mail(to=to, subject=subject, body=body))
    return mails


def _load(session: Session, actor: Actor, invitation_id: int, action: str) -> Invitation:
    """A pending invitation the actor answers (else "introuvable", "refusé" or a conflict)."""
    invitation = InvitationRepository(session).load(invitation_id)
    policy.require_answer(session, actor, invitation, action)
    if invitation.status != InvitationStatus.PENDING.value:
        raise ConflictError(
            f"invitation {invitation_id} déjà {'acceptée' if invitation.status == 'accepted' else 'refusée'}"
        )
    return invitation


def accept(session: Session, actor: Actor, invitation_id: int) -> InvitationOut:
    """Accept an invitation: the membership period it describes is opened.

    Raises
    ------
    InputError
        The period now overlaps one of the organisation in the cluster, or the SIRET is not
        one of its establishments (the invitation stays pending).
    """
    invitation = _load(session, actor, invitation_id, "accepter")
    try:
        period = MembershipCreate(
            organisation_id=invitation.organisation_id,
            siret=invitation.siret,
            membership_type=invitation.membership_type,
            joined=invitation.joined,
            left=invitation.left_on,
        )
    except ValidationError as exc:  # bounds of a membership may have tightened since
        raise InputError(f"invitation {invitation_id} : période refusée ({exc.errors()[0]['msg']})") from exc
    membership = memberships.open_membership(session, invitation.cluster_id, invitation.organisation, period)
    invitation.status = InvitationStatus.ACCEPTED.value
    invitation.decided_at = dt.datetime.now(dt.UTC)
    invitation.membership_id = membership.id
    InvitationRepository(session).flush()
    return _out(session, actor, invitation)


def decline(session: Session, actor: Actor, invitation_id: int) -> InvitationOut:
    """Decline an invitation; nothing of the organisation is shown to the inviting cluster."""
    invitation = _load(session, actor, invitation_id, "refuser")
    invitation.status = InvitationStatus.DECLINED.value
    invitation.decided_at = dt.datetime.now(dt.UTC)
    InvitationRepository(session).flush()
    return _out(session, actor, invitation)


def list_invitations(
    session: Session,
    actor: Actor,
    *,
    cluster_id: int | None = None,
    organisation_id: int | None = None,
    status: InvitationStatus | None = InvitationStatus.PENDING,
    limit: int = 100,
    offset: int = 0,
) -> InvitationPage:
    """Invitations the actor sees, newest first, optionally of one cluster or organisation.

    A manager sees those its clusters sent and those addressed to the organisations it
    answers for; a member user those addressed to its organisation; the administrator all.
    ``status=None`` lists answered ones too.
    """
    total, rows = InvitationRepository(session).listed(
        policy.invitations_seen(actor),
        cluster_id=cluster_id,
        organisation_id=organisation_id,
        status=status,
        limit=limit,
        offset=offset,
    )
    return InvitationPage(total=total, items=[_out(session, actor, i) for i in rows])
