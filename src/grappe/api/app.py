"""The FastAPI application: error handling, per-request unit of work, token authentication."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from grappe import __version__
from grappe.api.cache import GenerationCache
from grappe.config import get_settings
from grappe.errors import (
    ConflictError,
    EngineError,
    GrappeError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from grappe.registry import accounts, generation, migrate, refs
from grappe.registry.policy import PUBLIC, Actor
from grappe.storage.sql import get_engine, session_scope

#: How each error of grappe's root maps to an HTTP status (the most specific class wins).
STATUS: list[tuple[type[GrappeError], int]] = [
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InputError, 422),
    (EngineError, 503),
    (GrappeError, 400),
]

bearer = HTTPBearer(auto_error=False, description="Jeton d'API (grp_...)")


def status_of(exc: GrappeError) -> int:
    """The HTTP status of a grappe error."""
    return next(code for cls, code in STATUS if isinstance(exc, cls))


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

    def __init__(self, engine: Engine, token: str | None, tokens: TokenCache) -> None:
        self._engine = engine
        self._token = token
        self._tokens = tokens
        self._scope: Any = None
        self.generation = -1

    def __enter__(self) -> tuple[Session, Actor]:
        self._scope = session_scope(self._engine)
        session = self._scope.__enter__()
        try:
            self.generation = generation.current(session)
            actor = PUBLIC if self._token is None else self._authenticate(session, self._token)
            session.info["actor"] = actor
        except BaseException as exc:
            self._scope.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return session, actor

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
    return Unit(state.engine, credentials.credentials if credentials else None, state.tokens)


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Server start-up: keep the start-up heap out of the garbage collector's full passes.

    After start-up a worker holds ~170,000 long-lived objects (reference tables, SQLAlchemy
    and pydantic machinery); each full collection walks them all, a pause of ~100 ms on a
    small machine that lands on whichever requests are in flight. ``gc.freeze`` moves them
    to a permanent generation the collector skips (the usual remedy for pre-loaded servers).
    Run by the server only (uvicorn sends the lifespan events; the test client, used
    without ``with``, does not), so test processes keep collecting everything.
    """
    gc.collect()
    gc.freeze()
    yield


def create_app(engine: Engine | None = None) -> FastAPI:
    """Build the API on a registry database (default: the settings' one), migrating it if needed."""
    from grappe import web
    from grappe.api import registry as registry_endpoints

    engine = engine or get_engine()
    migrate.ensure_schema(engine)
    refs.preload()
    app = FastAPI(
        title="grappe",
        version=__version__,
        description="API de la plateforme grappe : structures d'animation de clusters, "
        "adhérents, cotisations, annuaire, prospects. Authentification : `Authorization: "
        "Bearer <jeton>` ; sans jeton, seul l'annuaire public est accessible.",
        lifespan=_lifespan,
        docs_url=None,  # the web application serves /docs from local files
        redoc_url=None,
    )
    app.state.engine = engine
    # Per-process read caches, checked against the registry's generation on every request.
    app.state.tokens = TokenCache(size=4096)
    app.state.directory = GenerationCache[bytes](size=get_settings().api_cache)

    @app.exception_handler(GrappeError)
    async def _grappe_error(_request: Request, exc: GrappeError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "error": type(exc).__name__}, status_code=status_of(exc))

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        return JSONResponse(
            {"detail": "écriture refusée par la base (conflit)", "error": "ConflictError"},
            status_code=409,
        )

    @app.exception_handler(DataError)
    async def _data(_request: Request, exc: DataError) -> JSONResponse:
        # e.g. a NUL character PostgreSQL refuses in text: the request was malformed
        return JSONResponse(
            {
                "detail": "valeur refusée par la base (caractère ou nombre hors limites)",
                "error": "InputError",
            },
            status_code=422,
        )

    @app.exception_handler(StatementError)
    async def _statement(_request: Request, exc: StatementError) -> JSONResponse:
        if isinstance(exc.orig, OverflowError | ValueError):
            return JSONResponse(
                {"detail": f"valeur hors limites ({exc.orig})", "error": "InputError"},
                status_code=422,
            )
        raise exc

    @app.get("/health", tags=["système"])
    def health() -> dict[str, str]:
        """Liveness probe (also the baseline of the API benchmark)."""
        return {"status": "ok"}

    app.include_router(registry_endpoints.router)
    web.mount(app)
    return app
