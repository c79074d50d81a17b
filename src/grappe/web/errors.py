"""Errors raised outside a page handler (an unknown address, a value the database refuses)
answered to a browser with the error page, and to programs with the API's JSON body.

The API's handlers (:mod:`grappe.api.app`) stay the one rule for the status and the French
line; a request that asks for HTML and carries no API token gets that line in the site's
error page instead, so that a mistyped address never shows JSON to a person.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from grappe.errors import STATUS_TEXT
from grappe.web import render

Handler = Callable[[Request, Any], Awaitable[Response] | Response]


def wants_page(request: Request) -> bool:
    """A browser asking for a page: HTML accepted, no API token."""
    return "text/html" in request.headers.get("accept", "") and "authorization" not in request.headers


def _message(request: Request, response: Response) -> str:
    """The French line of an API error answer; an unknown address says so in the page's language."""
    detail = str(json.loads(bytes(response.body))["detail"])
    if detail == STATUS_TEXT.get(response.status_code):
        # the framework's own refusal (no route, wrong method): its line speaks of the API
        return _framework_refusal(render.language_of(request), response.status_code)
    return detail


def _framework_refusal(language: str, status: int) -> str:
    if status == 404:
        return render.gettext(language, "Aucune page de grappe ne porte cette adresse.")
    if status == 405:
        return render.gettext(
            language, "Cette adresse ne s'ouvre pas ainsi : suivez un lien ou un formulaire du site."
        )
    return render.gettext(language, "La page ne peut pas être affichée")


def _as_page(handler: Handler) -> Handler:
    async def answer(request: Request, exc: Any) -> Response:
        response = handler(request, exc)
        if not isinstance(response, Response):
            response = await response
        if not wants_page(request) or response.status_code < 400:
            return response
        page = render.page(
            request, "error.html", {"message": _message(request, response), "account": None},
            status_code=response.status_code,
        )
        if "retry-after" in response.headers:
            page.headers["retry-after"] = response.headers["retry-after"]
        return page

    return answer


def install(app: FastAPI) -> None:
    """Wrap every error handler of ``app`` (installed by the API) with the page rule."""
    for kind, handler in list(app.exception_handlers.items()):
        app.exception_handlers[kind] = _as_page(handler)
