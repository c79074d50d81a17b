"""The FastAPI application: error handling, per-request unit of work, token authentication."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from grappe import __version__
from grappe.errors import (
    ConflictError,
    EngineError,
    GrappeError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from grappe.registry import accounts, migrate
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


class Unit:
    """The unit of work of one request: session, acting user, commit or rollback.

    Opened *inside* the endpoint's own thread and closed there: a yield dependency would
    release its connection from another pool thread, and under load the threads waiting for
    a connection can starve the ones that would give one back (the server then deadlocks).
    """

    def __init__(self, engine: Engine, token: str | None) -> None:
        self._engine = engine
        self._token = token
        self._scope: Any = None

    def __enter__(self) -> tuple[Session, Actor]:
        self._scope = session_scope(self._engine)
        session = self._scope.__enter__()
        try:
            if self._token is None:
                actor = PUBLIC
            else:
                try:
                    actor = accounts.authenticate(session, self._token)
                except PermissionDeniedError as exc:
                    raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
            session.info["actor"] = actor
        except BaseException as exc:
            self._scope.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return session, actor

    def __exit__(self, *exc: Any) -> None:
        self._scope.__exit__(*exc)


def get_unit(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Unit:
    """The request's unit of work (not yet open: endpoints enter it in their thread)."""
    return Unit(request.app.state.engine, credentials.credentials if credentials else None)


def create_app(engine: Engine | None = None) -> FastAPI:
    """Build the API on a registry database (default: the settings' one), migrating it if needed."""
    from grappe.api import registry as registry_endpoints

    engine = engine or get_engine()
    migrate.ensure_schema(engine)
    app = FastAPI(
        title="grappe",
        version=__version__,
        description="API de la plateforme grappe : structures d'animation de clusters, "
        "adhérents, cotisations, annuaire, prospects. Authentification : `Authorization: "
        "Bearer <jeton>` ; sans jeton, seul l'annuaire public est accessible.",
    )
    app.state.engine = engine

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
    return app
