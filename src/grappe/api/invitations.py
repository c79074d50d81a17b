"""Routes of invitations: a cluster invites an organisation of another tenant, which answers."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter

from grappe.api.deps import ERRORS, Id, Limit, Offset, QueryId, Work
from grappe.errors import MailError
from grappe.kit.mail import send_all
from grappe.registry.invitations import service as invitations
from grappe.registry.invitations.schemas import InvitationCreate, InvitationOut, InvitationPage
from grappe.registry.models import InvitationStatus

router = APIRouter()
logger = logging.getLogger("grappe.api")


@router.post(
    "/clusters/{cluster_id}/invitations",
    response_model=InvitationOut,
    status_code=201,
    tags=["invitations"],
    responses=ERRORS,
)
def invite(work: Work, cluster_id: Id, body: InvitationCreate) -> InvitationOut:
    """Inviter une organisation déjà inscrite (par son SIREN) ; rien d'elle n'est lisible
    avant qu'elle accepte."""
    with work as (db, actor):
        out = invitations.invite(db, actor, cluster_id, body)
        mails = invitations.invitation_mails(db, out.id)
    if mails:  # once committed; the invitation stands even when the mail fails
        try:
            send_all(mails)
        except MailError as exc:
            logger.warning("invitation %s : message non envoyé (%s)", out.id, exc)
    return out


@router.get("/invitations", response_model=InvitationPage, tags=["invitations"], responses=ERRORS)
def list_invitations(
    *,
    work: Work,
    cluster_id: QueryId = None,
    organisation_id: QueryId = None,
    status: InvitationStatus | Literal["all"] = InvitationStatus.PENDING,
    limit: Limit = 100,
    offset: Offset = 0,
) -> InvitationPage:
    """Invitations envoyées par vos structures ou reçues par les organisations dont vous
    répondez (en attente par défaut ; `status=all` : toutes)."""
    with work as (db, actor):
        return invitations.list_invitations(
            db,
            actor,
            cluster_id=cluster_id,
            organisation_id=organisation_id,
            status=None if status == "all" else InvitationStatus(status),
            limit=limit,
            offset=offset,
        )


@router.post(
    "/invitations/{invitation_id}/accept",
    response_model=InvitationOut,
    tags=["invitations"],
    responses=ERRORS,
)
def accept_invitation(work: Work, invitation_id: Id) -> InvitationOut:
    """Accepter une invitation (l'organisation invitée) : l'adhésion est ouverte."""
    with work as (db, actor):
        return invitations.accept(db, actor, invitation_id)


@router.post(
    "/invitations/{invitation_id}/decline",
    response_model=InvitationOut,
    tags=["invitations"],
    responses=ERRORS,
)
def decline_invitation(work: Work, invitation_id: Id) -> InvitationOut:
    """Refuser une invitation (l'organisation invitée)."""
    with work as (db, actor):
        return invitations.decline(db, actor, invitation_id)
