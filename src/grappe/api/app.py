"""The FastAPI application: the routers of every domain, error handling, the body limit."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grappe import __version__
from grappe.api import deps, errors
from grappe.api.cache import GenerationCache
from grappe.config import get_settings
from grappe.errors import (
    GrappeError,
)
from grappe.registry import migrate, refs
from grappe.storage.sql import get_engine, is_lock_error

logger = logging.getLogger("grappe.api")

#: Seconds a client is told to wait before retrying when the database stays busy.
RETRY_AFTER_S = 2


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
    from grappe.api.routers import ROUTERS

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
    app.state.tokens = deps.TokenCache(size=4096)
    app.state.directory = GenerationCache[bytes](size=get_settings().api_cache)
    app.state.max_body = get_settings().max_body
    app.add_middleware(BodyLimit, limit=app.state.max_body)

    _install_error_handlers(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    @app.get("/health", tags=["système"])
    def health() -> dict[str, str]:
        """Liveness probe (also the baseline of the API benchmark)."""
        return {"status": "ok"}

    for router in ROUTERS:
        app.include_router(router)
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
        status = exc.http_status
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
