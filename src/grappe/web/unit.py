"""The unit of work of a page: one transaction, the signed-in user (if any), errors as pages."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from grappe.errors import GrappeError
from grappe.kit.unit import READ_METHODS, unit_of_work
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts import signin
from grappe.registry.accounts.schemas import LanguageChange
from grappe.registry.policy import PUBLIC, Actor
from grappe.web import i18n, render

SESSION_COOKIE = "grappe_session"
P = ParamSpec("P")


@dataclass
class Visitor:
    """Who is asking: the actor its role gives, and its e-mail and stored language when signed in."""

    actor: Actor = PUBLIC
    email: str | None = None
    language: str | None = None


@contextmanager
def unit(request: Request) -> Iterator[tuple[Session, Visitor]]:
    """Open the request's transaction and resolve its session cookie (commit on success).

    Opened inside the endpoint's thread, as the API's unit of work is, for the same reason;
    a page read (GET) runs on a snapshot beside the writers, a form (POST) as a writer. A
    signed-in user who switches the site's language (``?lang=``) has it recorded as its own
    (the language of its mail), in a short writer of its own once the page's unit is done.
    """
    write = request.method not in READ_METHODS
    visitor = Visitor()

    def signed_in(session: Session) -> Actor:
        nonlocal visitor
        token = request.cookies.get(SESSION_COOKIE)
        found = signin.resolve(session, token) if token else None
        if found is not None:
            visitor = Visitor(actor=found.actor, email=found.email, language=found.language)
        return visitor.actor

    with unit_of_work(request.app.state.engine, write=write, resolve=signed_in) as session:
        yield session, visitor
    chosen = request.query_params.get("lang")
    user_id = visitor.actor.user_id
    if user_id is not None and chosen in i18n.LANGUAGES and chosen != visitor.language:
        with unit_of_work(request.app.state.engine, actor=visitor.actor) as session:
            change = LanguageChange.model_validate({"language": chosen})
            accounts.set_language(session, visitor.actor, user_id, change)


def show(
    request: Request, visitor: Visitor, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """Render a page for a visitor."""
    values = {"account": visitor.email, **context}
    return render.page(request, template, values, actor=visitor.actor, status_code=status_code)


class Detour(Exception):  # noqa: N818 -- a way out of a page, not an error
    """Ends a page early with another response: the sign-in form, the expired-form page.

    Raised by the prologue of a page (:func:`grappe.web.forms.signed_in`), answered by
    :func:`as_page`; inside a unit of work, nothing the page did is kept.
    """

    def __init__(self, response: Response) -> None:
        super().__init__(f"détour vers une réponse {response.status_code}")
        self.response = response


def as_page(handler: Callable[P, Response]) -> Callable[P, Response]:
    """Answer a grappe error raised by a page handler with the error page and the API's status,
    and a :class:`Detour` with its response.

    The handler's first argument is the request.
    """

    @functools.wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return handler(*args, **kwargs)
        except Detour as detour:
            return detour.response
        except GrappeError as exc:
            request = kwargs.get("request", args[0] if args else None)
            assert isinstance(request, Request)
            values = {"message": str(exc), "account": None}
            return render.page(request, "error.html", values, status_code=exc.http_status)

    return wrapper
