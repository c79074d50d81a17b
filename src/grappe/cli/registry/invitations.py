"""`grappe registry` commands of invitations: invite, list, accept, decline."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from grappe.cli._console import console, err_console
from grappe.cli._operational import build, table, unit
from grappe.cli.registry._base import InvitationCreate, InvitationStatus, app, clusters, invitations
from grappe.kit import present
from grappe.kit.dates import option_date

if TYPE_CHECKING:
    from grappe.registry.invitations.schemas import InvitationOut


@app.command("invite", epilog="Exemple : grappe registry invite MECA 552100554 --joined 2025-01-01")
def invite_command(
    cluster: Annotated[
        str,
        typer.Argument(metavar="STRUCTURE", help="N°, sigle ou nom de la structure qui invite (ex. : MECA)."),
    ],
    siren: Annotated[
        str,
        typer.Argument(
            metavar="SIREN", help="SIREN de l'organisation invitée, déjà inscrite (ex. : 552100554)."
        ),
    ],
    joined: Annotated[
        str | None,
        typer.Option(
            "--joined", help="Date d'adhésion proposée, AAAA-MM-JJ ou JJ/MM/AAAA (défaut : aujourd'hui)."
        ),
    ] = None,
    left: Annotated[
        str | None,
        typer.Option("--left", help="Date de départ, AAAA-MM-JJ ou JJ/MM/AAAA (ex. : 31/12/2026)."),
    ] = None,
    membership_type: Annotated[
        str, typer.Option("--membership-type", help="Type d'adhésion (ex. : adherent).")
    ] = "adherent",
    siret: Annotated[
        str | None,
        typer.Option("--siret", help="SIRET de l'établissement adhérent (ex. : 55210055400013)."),
    ] = None,
) -> None:
    """Inviter une organisation déjà inscrite ; elle devient adhérente quand elle accepte."""
    with unit() as (session, actor):
        out = invitations.invite(
            session,
            actor,
            clusters.resolve_cluster(session, cluster),
            build(
                InvitationCreate,
                siren=siren,
                siret=siret,
                membership_type=membership_type,
                joined=option_date("--joined", joined) if joined else dt.date.today(),
                left=option_date("--left", left) if left else None,
            ),
        )
        mails = invitations.invitation_mails(session, out.id)
    console.print(f"Invitation n° {out.id} envoyée au SIREN {out.siren} : en attente de sa réponse")
    if mails:
        from grappe.errors import MailError
        from grappe.kit.mail import send_all

        try:
            send_all(mails)
        except MailError as exc:
            err_console.print(f"Invitation enregistrée, message non envoyé : {exc}", highlight=False)
        else:
            to = ", ".join(address for mail in mails for address in mail.to)
            err_console.print(f"Message envoyé à {to}.", highlight=False)


def _invitation_row(i: InvitationOut) -> list[object]:
    return [
        i.id,
        i.cluster,
        i.siren,
        i.organisation or present.MISSING,
        present.date(i.joined),
        present.label("invitation_status", i.status),
    ]


@app.command("invitations", epilog="Exemple : grappe registry invitations --cluster MECA --all")
def invitations_command(
    cluster: Annotated[
        str | None,
        typer.Option("--cluster", help="N°, sigle ou nom d'une structure (ex. : MECA)."),
    ] = None,
    organisation: Annotated[
        int | None, typer.Option("--organisation", help="N° d'une organisation (ex. : 7).")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Aussi celles déjà acceptées ou refusées.")] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Nombre d'invitations affichées au plus.")
    ] = 100,
) -> None:
    """Invitations envoyées par vos structures ou reçues par vos organisations."""
    with unit() as (session, actor):
        page = invitations.list_invitations(
            session,
            actor,
            cluster_id=clusters.resolve_cluster(session, cluster) if cluster else None,
            organisation_id=organisation,
            status=None if every else InvitationStatus.PENDING,
            limit=limit,
        )
    table(
        f"Invitations ({present.number(page.total)})",
        ["n°", "structure", "siren", "organisation", "adhésion", "statut"],
        [_invitation_row(i) for i in page.items],
    )


@app.command("accept", epilog="Exemple : grappe registry --as u@gamma.fr accept 1")
def accept_command(
    invitation: Annotated[int, typer.Argument(metavar="INVITATION", help="N° de l'invitation (ex. : 1).")],
) -> None:
    """Accepter une invitation (pour l'organisation invitée) : l'adhésion est ouverte."""
    with unit() as (session, actor):
        out = invitations.accept(session, actor, invitation)
    console.print(f"Invitation n° {out.id} acceptée : adhésion n° {out.membership_id} à {out.cluster}")


@app.command("decline", epilog="Exemple : grappe registry --as u@gamma.fr decline 1")
def decline_command(
    invitation: Annotated[int, typer.Argument(metavar="INVITATION", help="N° de l'invitation (ex. : 1).")],
) -> None:
    """Refuser une invitation (pour l'organisation invitée)."""
    with unit() as (session, actor):
        out = invitations.decline(session, actor, invitation)
    console.print(f"Invitation n° {out.id} refusée")
