"""Routes of accounts: users, API tokens, the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from grappe.api.deps import ERRORS, Id, Limit, Offset, QueryId, Work, checked_text
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import AuditPage, LanguageChange, TokenOut, UserCreate, UserOut

router = APIRouter()


@router.post("/users", response_model=UserOut, status_code=201, tags=["comptes"], responses=ERRORS)
def create_user(work: Work, body: UserCreate) -> UserOut:
    """Créer un utilisateur (administrateur)."""
    with work as (db, actor):
        return accounts.create_user(db, actor, body)


@router.put("/users/{user_id}/language", response_model=UserOut, tags=["comptes"], responses=ERRORS)
def set_language(work: Work, user_id: Id, body: LanguageChange) -> UserOut:
    """Choisir la langue des courriels d'un utilisateur (lui-même, ou un administrateur)."""
    with work as (db, actor):
        return accounts.set_language(db, actor, user_id, body)


@router.post(
    "/users/{user_id}/tokens",
    response_model=TokenOut,
    status_code=201,
    tags=["comptes"],
    responses=ERRORS,
)
def issue_token(
    work: Work,
    user_id: Id,
    name: Annotated[str, Query(min_length=1, max_length=100)] = "api",
) -> TokenOut:
    """Émettre un jeton d'API (affiché une seule fois)."""
    with work as (db, actor):
        return accounts.issue_token(db, actor, user_id, checked_text(name, "name", 100) or "api")


@router.get("/audit", response_model=AuditPage, tags=["comptes"], responses=ERRORS)
def audit_log(
    work: Work,
    cluster_id: QueryId = None,
    entity: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AuditPage:
    """Journal d'audit (administrateur), les entrées les plus récentes d'abord."""
    with work as (db, actor):
        return accounts.audit_log(
            db,
            actor,
            cluster_id=cluster_id,
            entity=checked_text(entity, "entity"),
            limit=limit,
            offset=offset,
        )


# Last of the router on purpose: the property test of the API sends its requests as the
# administrator, and revoking that token first would leave the operations after it untried.
@router.delete("/tokens/{token_id}", status_code=204, tags=["comptes"], responses=ERRORS)
def revoke_token(work: Work, token_id: Id) -> Response:
    """Révoquer un jeton d'API (administrateur) ; effet immédiat sur toutes les requêtes."""
    with work as (db, actor):
        accounts.revoke_token(db, actor, token_id)
    return Response(status_code=204)
