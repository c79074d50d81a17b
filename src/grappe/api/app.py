"""The FastAPI application: error handling, per-request unit of work, token authentication."""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grappe import __version__
from grappe.api import errors
from grappe.api.cache import GenerationCache
from grappe.config import get_settings
from grappe.errors import (
    BusyError,
    ConflictError,
    EngineError,
    GrappeError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from grappe.registry import accounts, generation, migrate, refs
from grappe.registry.policy import PUBLIC, Actor
from grappe.storage.sql import get_engine, is_lock_error, session_scope

logger = logging.getLogger("grappe.api")

#: How each error of grappe's root maps to an HTTP status (the most specific class wins).
STATUS: list[tuple[type[GrappeError], int]] = [
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InputError, 422),
    (BusyError, 503),
    (EngineError, 503),
    (GrappeError, 400),
]

#: Methods whose unit of work only reads: they run beside the writers on SQLite.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Seconds a client is told to wait before retrying when the database stays busy.
RETRY_AFTER_S = 2

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
        self._scope = session_scope(self._engine, write=self._write)
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
    token = credentials.credentials if credentials else None
    return Unit(state.engine, token, state.tokens, write=request.method not in READ_METHODS)


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
    from grappe.api import cooperation as cooperation_endpoints
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
    app.state.max_body = get_settings().max_body
    app.add_middleware(BodyLimit, limit=app.state.max_body)

    _install_error_handlers(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    @app.get("/health", tags=["système"])
    def health() -> dict[str, str]:
        """Liveness probe (also the baseline of the API benchmark)."""
        return {"status": "ok"}

    app.include_router(registry_endpoints.router)
    app.include_router(cooperation_endpoints.router)
    web.mount(app)
    return app


class BodyTooLarge(StarletteHTTPException):
    """A request body beyond the API's limit (raised while the body is being received)."""

    def __init__(self) -> None:
        super().__init__(413)


class BodyLimit:
    """Refuse a request body larger than ``limit`` bytes (413) before it is read whole.

    A declared ``Content-Length`` above the limit is answered at once, the body unread; a
    body without it (chunked) is counted as it arrives and refused at the first byte past
    the limit. Starlette's own limit middleware (``FastAPI(max_body_size=...)``) answers
    in English plain text when the length is declared, hence this one.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge  # rendered by the HTTP error handler, in French
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = errors.http_detail(413, None, max_body=self.limit)
        await _json(413, errors.body(detail, "HTTPError"), {"Connection": "close"})(scope, receive, send)


def _json(status: int, content: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    """Every error answers ``{"detail": "<French line>", "error": ...}``: no 500 on bad input,
    no traceback, no server path (see :mod:`grappe.api.errors`)."""

    @app.exception_handler(GrappeError)
    async def _grappe_error(_request: Request, exc: GrappeError) -> JSONResponse:
        status = status_of(exc)
        headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
        return _json(status, errors.body(str(exc), type(exc).__name__), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _json(422, errors.validation_body(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if exc.status_code in {204, 304} or exc.status_code < 200:
            return Response(status_code=exc.status_code, headers=headers)
        detail = errors.http_detail(exc.status_code, exc.detail, max_body=request.app.state.max_body)
        return _json(exc.status_code, errors.body(detail, "HTTPError"), headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, _exc: IntegrityError) -> JSONResponse:
        return _json(409, errors.body("écriture refusée par la base (conflit)", "ConflictError"))

    @app.exception_handler(DataError)
    async def _data(_request: Request, _exc: DataError) -> JSONResponse:
        # e.g. a NUL character PostgreSQL refuses in text, or a number beyond its column
        return _json(422, errors.body(OUT_OF_BOUNDS, "InputError"))

    @app.exception_handler(OverflowError)
    async def _overflow(_request: Request, _exc: OverflowError) -> JSONResponse:
        # sqlite3 refuses an integer beyond 64 bits before SQLAlchemy wraps anything
        return _json(422, errors.body(OUT_OF_BOUNDS, "InputError"))

    @app.exception_handler(StatementError)
    async def _statement(request: Request, exc: StatementError) -> JSONResponse:
        if isinstance(exc, OperationalError) and is_lock_error(exc):
            # A read unit that wrote, or a lock held past every wait: a transient state of
            # the server, not a fault of the request; nothing was stored.
            logger.warning("%s %s : base verrouillée (%s)", request.method, request.url.path, exc.orig)
            busy = "base de données occupée par d'autres écritures : rien n'a été enregistré, réessayez"
            return _json(503, errors.body(busy, "BusyError"), {"Retry-After": str(RETRY_AFTER_S)})
        if getattr(exc.orig, "sqlstate", None) in CONCURRENCY_SQLSTATES:
            # PostgreSQL aborted one of two transactions that crossed (deadlock, or a
            # serialisation failure): a write conflict like a stale version, nothing stored.
            lost = "écriture concurrente en conflit : rien n'a été enregistré, réessayez"
            return _json(409, errors.body(lost, "ConflictError"))
        if isinstance(exc.orig, OverflowError | ValueError | TypeError):
            # a value the driver cannot bind (an integer beyond 64 bits, a malformed number)
            return _json(422, errors.body(OUT_OF_BOUNDS, "InputError"))
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Logged here with the request it broke (the server logs the traceback as well);
        # the client learns nothing of the internals.
        path, kind = request.url.path, type(exc).__name__
        logger.error("%s %s : erreur inattendue %s", request.method, path, kind, exc_info=exc)
        return _json(500, errors.body(errors.INTERNAL_ERROR, "InternalError"))


#: PostgreSQL's deadlock_detected and serialization_failure.
CONCURRENCY_SQLSTATES = frozenset({"40P01", "40001"})
#: A value the database refused as out of its bounds.
OUT_OF_BOUNDS = "valeur refusée par la base : nombre hors limites ou caractère interdit"


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's OpenAPI document, every error answer described by :class:`~grappe.api.errors.ErrorOut`."""
    if app.openapi_schema is None:
        document = FastAPI.openapi(app)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        error_schema = errors.ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(error_schema.pop("$defs", {}))
        schemas["ErrorOut"] = error_schema
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        for item in document.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                if operation.get("requestBody"):
                    responses.setdefault("413", {"description": "Corps de la requête trop volumineux"})
                for code, response in responses.items():
                    if code[:1] in {"4", "5"}:
                        response["content"] = content
        app.openapi_schema = document
        return document
    return app.openapi_schema
