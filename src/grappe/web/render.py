"""Pages: the Jinja2 environments (one per language), the page context and the HTML responses."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from grappe.registry.policy import PUBLIC, Actor
from grappe.web import i18n, security

WEB = Path(__file__).resolve().parent
#: Template folders: the shared design system first, then one folder per domain.
TEMPLATE_DIRS = [
    WEB / "templates",
    WEB / "registry" / "templates",
    WEB / "accounts" / "templates",
    WEB / "observatory" / "templates",
    WEB / "manage" / "templates",
    WEB / "meetings" / "templates",
    WEB / "partners" / "templates",
    WEB / "cooperation" / "templates",
    WEB / "admin" / "templates",
    WEB / "member" / "templates",
    WEB / "funder" / "templates",
    WEB / "calls" / "templates",
    WEB / "evaluation" / "templates",
]


@lru_cache(maxsize=len(i18n.LANGUAGES))
def environment(language: str) -> Environment:
    """The template environment of a language, its catalogue installed (built once, thread-safe)."""
    env = Environment(
        loader=FileSystemLoader([str(d) for d in TEMPLATE_DIRS]),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def language_of(request: Request) -> str:
    """The language a request is answered in (see :func:`grappe.web.i18n.negotiate`)."""
    return i18n.negotiate(
        request.query_params.get("lang"),
        request.cookies.get(i18n.COOKIE),
        request.headers.get("accept-language"),
    )


def url_with(request: Request, **changes: Any) -> str:
    """The current path with some query parameters changed (None removes one)."""
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def gettext(language: str, message: str) -> str:
    """A string of Python code translated (templates use ``{{ _() }}``)."""
    return i18n.translations(language).gettext(message)


def page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    actor: Actor = PUBLIC,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page with the shared context: language, formatter, actor, CSRF token, switch links."""
    language = language_of(request)
    csrf_cookie, new_cookie = security.csrf_cookie_value(request)
    values = {
        "request": request,
        "lang": language,
        "fmt": i18n.Formatter(language),
        "actor": actor,
        "signed_in": actor.user_id is not None,
        "csrf_field": security.CSRF_FIELD,
        "csrf_token": security.csrf_token(csrf_cookie),
        "url_with": lambda **changes: url_with(request, **changes),
        "switch": [
            {"code": code, "href": url_with(request, lang=code), "current": code == language}
            for code in i18n.LANGUAGES
        ],
        **(context or {}),
    }
    body = environment(language).get_template(template).render(values)
    response = HTMLResponse(body, status_code=status_code)
    response.headers["cache-control"] = "no-store" if actor.user_id is not None else "no-cache"
    response.headers["content-language"] = language
    response.headers["vary"] = "Accept-Language, Cookie"
    if new_cookie:
        security.set_cookie(request, response, security.CSRF_COOKIE, csrf_cookie, None)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        security.set_cookie(request, response, i18n.COOKIE, language, 365 * 24 * 3600)
    return response
