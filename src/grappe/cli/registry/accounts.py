"""`grappe registry` commands of accounts: users, passwords, API tokens, the audit log."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from grappe.cli._analysis import choice
from grappe.cli._console import console
from grappe.cli._operational import build, table, unit
from grappe.cli.registry._base import ROLES, UserCreate, accounts, app, signin
from grappe.errors import InputError
from grappe.kit import present

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from grappe.registry.accounts.schemas import TokenInfo


@app.command(
    "user-add",
    epilog="Exemple : grappe registry user-add chargee@meca.fr --role manager --cluster 1 --token",
)
def user_add(
    email: Annotated[
        str,
        typer.Argument(metavar="E-MAIL", help="Adresse de l'utilisateur (ex. : chargee@meca.fr)."),
    ],
    # The choices go in the help, not in the type column, where Rich would cut them mid-word.
    role: Annotated[str, typer.Option("--role", metavar="RÔLE", help=f"Rôle : {', '.join(ROLES)}.")],
    funder: Annotated[
        str | None,
        typer.Option(
            "--funder", help="Financeur représenté, pour le rôle funder (ex. : Région Auvergne-Rhône-Alpes)."
        ),
    ] = None,
    organisation: Annotated[
        int | None,
        typer.Option(
            "--organisation", help="N° de l'organisation, pour les rôles member et reviewer (ex. : 7)."
        ),
    ] = None,
    clusters: Annotated[
        list[int] | None,
        typer.Option(
            "--cluster", help="N° d'une structure animée, pour le rôle manager (ex. : 1) ; répétable."
        ),
    ] = None,
    token: Annotated[
        bool,
        typer.Option(
            "--token", help="Émettre aussi un jeton d'API, affiché une seule fois sur la dernière ligne."
        ),
    ] = False,
    language: Annotated[
        str,
        typer.Option(
            "--language",
            metavar="LANGUE",
            help=f"Langue de ses courriels : {', '.join(present.LANGUAGES)} (défaut : {present.DEFAULT}).",
        ),
    ] = present.DEFAULT,
) -> None:
    """Créer un utilisateur (administrateur), avec un jeton d'API si demandé."""
    choice("--role", role, ROLES)
    choice("--language", language, present.LANGUAGES)
    with unit() as (session, actor):
        user = accounts.create_user(
            session,
            actor,
            build(
                UserCreate,
                email=email,
                role=role,
                funder=funder,
                organisation_id=organisation,
                clusters=clusters or [],
                language=language,
            ),
        )
        secret = accounts.issue_token(session, actor, user.id).token if token else None
    console.print(f"Utilisateur n° {user.id} {user.email} ({present.label('role', user.role)})")
    if secret:
        # Alone on the last line, so that a script takes it with `tail -n 1` (CONTRACTS).
        console.print("Jeton d'API, affiché une seule fois :")
        typer.echo(secret)


@app.command("set-password", epilog="Exemple : grappe registry set-password gestion@meca.fr")
def set_password(
    email: Annotated[
        str, typer.Argument(metavar="E-MAIL", help="E-mail de l'utilisateur (ex. : gestion@meca.fr).")
    ],
) -> None:
    """Définir le mot de passe de connexion à l'application web (demandé deux fois, masqué)."""
    password = typer.prompt("Mot de passe", hide_input=True, confirmation_prompt="Confirmez le mot de passe")
    with unit() as (session, actor):
        signin.set_password(session, actor, _user_id(session, email), password)
    console.print(f"Mot de passe enregistré pour {email.strip().lower()}", highlight=False)


@app.command("audit", epilog="Exemple : grappe registry audit --cluster 1 --limit 20")
def audit(
    cluster: Annotated[
        int | None,
        typer.Option("--cluster", help="N° de la structure (ex. : 1 ; défaut : toutes)."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Nombre d'entrées affichées, les plus récentes.")
    ] = 50,
) -> None:
    """Journal d'audit (administrateur)."""
    with unit(write=False) as (session, actor):
        rows = accounts.audit_log(session, actor, cluster_id=cluster, limit=limit).items
    table(
        "Journal",
        ["n°", "quand", "qui", "action", "objet", "après"],
        [
            [
                e.id,
                e.at.isoformat(timespec="seconds"),
                e.actor,
                e.action,
                f"{e.entity} {e.entity_id}",
                json.dumps(e.after, ensure_ascii=False)[:80],
            ]
            for e in rows
        ],
    )


def _user_id(session: Session, email: str) -> int:
    """The user of an e-mail (a token or "public" names no user: refused)."""
    user_id = accounts.actor_for(session, email).user_id
    if user_id is None:
        raise InputError(f"{email!r} : indiquez l'e-mail d'un utilisateur")
    return int(user_id)


EmailArgument = Annotated[
    str, typer.Argument(metavar="E-MAIL", help="E-mail de l'utilisateur (ex. : chargee@meca.fr).")
]


@app.command("token-issue", epilog="Exemple : grappe registry token-issue chargee@meca.fr --name tableur")
def token_issue(
    email: EmailArgument,
    name: Annotated[
        str, typer.Option("--name", help="Nom du jeton, pour le reconnaître (ex. : tableur).")
    ] = "api",
) -> None:
    """Émettre un jeton d'API pour un utilisateur (administrateur), affiché une seule fois."""
    with unit() as (session, actor):
        out = accounts.issue_token(session, actor, _user_id(session, email), name)
    console.print(f"Jeton n° {out.id} « {out.name} » émis ; affiché une seule fois :")
    # Alone on the last line, as `user-add --token` prints it (CONTRACTS).
    typer.echo(out.token)


@app.command("tokens", epilog="Exemple : grappe registry tokens --user chargee@meca.fr")
def tokens(
    email: Annotated[
        str | None,
        typer.Option("--user", help="E-mail d'un utilisateur (ex. : chargee@meca.fr ; défaut : tous)."),
    ] = None,
) -> None:
    """Lister les jetons d'API et leur état, sans leur secret (administrateur)."""
    with unit(write=False) as (session, actor):
        rows = accounts.list_tokens(session, actor, _user_id(session, email) if email else None)

    def state(t: TokenInfo) -> str:
        if t.revoked_at is not None:
            return f"révoqué le {t.revoked_at:%d/%m/%Y}"
        if t.expires_at is not None:
            return f"expire le {t.expires_at:%d/%m/%Y}"
        return "actif"

    table(
        "Jetons d'API",
        ["n°", "utilisateur", "nom", "émis le", "état"],
        [[t.id, t.email, t.name, present.date(t.created_at.date()), state(t)] for t in rows],
    )


@app.command("token-revoke", epilog="Exemple : grappe registry token-revoke 3")
def token_revoke(
    token_id: Annotated[int, typer.Argument(metavar="JETON", help="N° du jeton (ex. : 3).")],
) -> None:
    """Révoquer un jeton d'API (administrateur) : il ne donne plus accès."""
    with unit() as (session, actor):
        accounts.revoke_token(session, actor, token_id)
    console.print(f"Jeton n° {token_id} révoqué")
