"""What every router of the API shares: the request's unit of work and the common parameters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from grappe.api.cache import GenerationCache
from grappe.errors import InputError, PermissionDeniedError
from grappe.kit.repository import MAX_PAGE
from grappe.kit.unit import READ_METHODS, actor_of, unit_of_work
from grappe.registry import bounds, generation
from grappe.registry.accounts import service as accounts
from grappe.registry.policy import PUBLIC, Actor

P = TypeVar("P")
A = ParamSpec("A")

#: Methods whose unit of work only reads: they run beside the writers on SQLite.
bearer = HTTPBearer(auto_error=False, description="Jeton d'API (grp_...)")

#: Resolved API tokens (digest -> actor and expiry), valid at the generation they were read at.
TokenCache = GenerationCache[tuple[Actor, dt.datetime | None]]


class Unit:
    """The unit of work of one request: session, acting user, commit or rollback.

    Opened *inside* the endpoint's own thread and closed there: a yield dependency would
    release its connection from another pool thread, and under load the threads waiting for
    a connection can starve the ones that would give one back (the server then deadlocks).

    Its first read is the registry's generation (``self.generation``): the read caches of
    the app (tokens here, directory pages in the endpoints) are valid at that generation
    only, so a write — revoking a token included — shows in the very next request.
    """

    def __init__(self, engine: Engine, token: str | None, tokens: TokenCache, *, write: bool = True) -> None:
        self._engine = engine
        self._token = token
        self._tokens = tokens
        self._write = write
        self._scope: Any = None
        self.generation = -1

    def __enter__(self) -> tuple[Session, Actor]:
        # A writing request takes SQLite's write lock when it opens (see session_scope):
        # queued behind the other writers, it never fails on upgrading a read snapshot.
        self._scope = unit_of_work(self._engine, write=self._write, resolve=self._actor)
        session = self._scope.__enter__()
        return session, actor_of(session)

    def _actor(self, session: Session) -> Actor:
        self.generation = generation.current(session)
        return PUBLIC if self._token is None else self._authenticate(session, self._token)

    def _authenticate(self, session: Session, token: str) -> Actor:
        digest = accounts.hash_token(token.strip())
        try:
            grant = self._tokens.get(digest, self.generation)
            if grant is None:
                grant = accounts.resolve_token(session, digest)
                self._tokens.put(digest, self.generation, grant)
            accounts.check_expiry(grant[1])
        except PermissionDeniedError as exc:
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
        return grant[0]

    def __exit__(self, *exc: Any) -> None:
        self._scope.__exit__(*exc)


async def get_unit(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Unit:
    """The request's unit of work (not yet open: endpoints enter it in their thread).

    ``async`` although it awaits nothing: FastAPI would run a plain function in the thread
    pool, one more thread hop per request for building a small object.
    """
    state = request.app.state
    token = credentials.credentials if credentials else None
    return Unit(state.engine, token, state.tokens, write=request.method not in READ_METHODS)


Work = Annotated[Unit, Depends(get_unit)]
# Ids stay within a 32-bit signed integer: larger ones cannot exist and would overflow drivers.
Id = Annotated[int, PathParam(ge=1, le=2_147_483_647)]
#: The same bound for an id given as a query parameter.
QueryId = Annotated[int | None, Query(ge=1, le=2_147_483_647)]
# The year of fee calls to issue: the accounting years the schemas accept (one rule).
Year = Annotated[int, Query(), bounds.Year(bounds.ACCOUNTING)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Day = Annotated[dt.date | None, Query(description="Date de référence (défaut : aujourd'hui).")]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Jeton invalide"},
    403: {"description": "Rôle insuffisant sur un objet visible"},
    404: {"description": "Introuvable (ou objet d'une autre structure)"},
    409: {"description": "Conflit (version périmée, doublon, chevauchement)"},
    422: {"description": "Entrée invalide"},
}


def checked_text(value: str | None, name: str, size: int = 60) -> str | None:
    """A free-text query parameter, refused (422) when it holds what no column accepts."""
    problem = None if value is None else bounds.text_problem(value, size)
    if problem is not None:
        raise InputError(f"{name} invalide : {problem}")
    return value


def run(
    work: Unit, action: Callable[Concatenate[Session, Actor, A], P], *args: A.args, **kwargs: A.kwargs
) -> P:
    """One service call in the request's unit of work, the body of every endpoint that only calls its
    service: ``action(session, actor, *args, **kwargs)``, committed when it returns."""
    with work as (db, actor):
        return action(db, actor, *args, **kwargs)


def cluster_page(
    work: Unit, lister: Callable[..., P], cluster_id: int, limit: int, offset: int, **filters: Any
) -> P:
    """One page of a cluster's records (``{"total", "items"}``): the body every list endpoint of a
    cluster's books shares. ``lister`` is the service,
    ``(session, actor, cluster_id, *, limit, offset, **filters)``."""
    return run(work, lister, cluster_id, limit=limit, offset=offset, **filters)
