"""What every page of a signed-in user shares: the sign-in and CSRF refusal, the fields of forms and URLs,
the answer to a submitted form.

Each domain's pages (``web/<domain>/routes.py``) parse their forms with these, so a date, an amount,
a page number or a refused schema value gets the same French message everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

from babel.numbers import NumberFormatError, parse_decimal
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from grappe.errors import ConflictError, GrappeError, InputError
from grappe.kit.dates import parse_date
from grappe.kit.messages import message
from grappe.registry import bounds
from grappe.web import security
from grappe.web.i18n import Formatter
from grappe.web.render import gettext, language_of
from grappe.web.unit import Detour, Visitor, show, unit

M = TypeVar("M", bound=BaseModel)


def csrf_refused(request: Request, visitor: Visitor) -> Response:
    """The answer to a form whose CSRF token is missing or wrong."""
    message = gettext(
        language_of(request), "Formulaire expiré ou invalide : rechargez la page et recommencez."
    )
    return show(request, visitor, "error.html", {"message": message}, status_code=403)


def refusal(request: Request, visitor: Visitor, csrf_token: str | None = None) -> Response | None:
    """Send an anonymous visitor to the sign-in form (to come back here), then refuse a form
    without its CSRF token (``csrf_token`` given: a form); None when the request may go on."""
    if visitor.actor.user_id is None:
        target = request.url.path if request.method == "GET" else "/gestion"
        return RedirectResponse(f"/connexion?suite={quote(target)}", status_code=303)
    if csrf_token is not None and not security.csrf_valid(request, csrf_token):
        return csrf_refused(request, visitor)
    return None


def signed_in(request: Request, visitor: Visitor, csrf_token: str | None = None) -> None:
    """The prologue of a signed-in page: :func:`refusal` raised as a :class:`Detour` (the handler
    is wrapped in :func:`grappe.web.unit.as_page`), so the page goes on in one line."""
    if (away := refusal(request, visitor, csrf_token)) is not None:
        raise Detour(away)


#: The last page number a URL may ask for: its offset stays within the database's integers.
LAST_PAGE = 2**31 - 1


def page_number(raw: str | None) -> int:
    """The ``page`` query parameter (from 1 to :data:`LAST_PAGE`; past the last page, an empty one)."""
    if raw is None or raw == "":
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= LAST_PAGE:
        last = format(LAST_PAGE, ",").replace(",", "\u202f")
        raise InputError(f"page={bounds.shown(raw, 20)!r} : attendu un entier de 1 à {last}")
    return int(raw)


def year_of(raw: str | None) -> int:
    """The ``annee`` query parameter (default: this year)."""
    if raw is None or raw == "":
        return dt.date.today().year
    if not raw.isdigit() or not 1900 <= int(raw) <= 2200:
        raise InputError(f"annee={raw!r} : attendu une année de 1900 à 2200")
    return int(raw)


def day_of(label: str, raw: str) -> dt.date:
    """A date field of a form (``AAAA-MM-JJ`` or ``JJ/MM/AAAA``)."""
    try:
        return parse_date(raw)
    except ValueError:
        raise InputError(f"« {label} » : date invalide {raw!r} (attendu AAAA-MM-JJ ou JJ/MM/AAAA)") from None


def moment_of(label: str, raw: str) -> dt.datetime:
    """A date and time field of a form (``AAAA-MM-JJTHH:MM`` as browsers send it, or
    ``JJ/MM/AAAA HH:MM``), in French local time (the schemas' moments read it so)."""
    text = raw.strip()
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"):
        try:
            return dt.datetime.strptime(text, pattern)  # local time: the schema zones it
        except ValueError:
            continue
    raise InputError(
        f"« {label} » : date et heure invalides {raw!r} (attendu AAAA-MM-JJ HH:MM ou JJ/MM/AAAA HH:MM)"
    )


def amount_of(language: str, label: str, raw: str) -> Decimal:
    """An amount field of a form, in euros, written the way the page's language writes numbers."""
    try:
        return parse_decimal(raw.strip(), locale=Formatter(language).locale)
    except NumberFormatError:
        raise InputError(f"« {label} » : montant invalide {raw!r}") from None


def schema(model: type[M], labels: dict[str, str], **values: Any) -> M:
    """Validate a form into a service schema; a refusal names the form's field and the value."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        raise InputError(f"« {labels.get(field, field)} » : {_reason(first)}") from None


def _reason(error: Mapping[str, Any]) -> str:
    """Why a form value is refused, in French, quoting the value typed when the reason does not."""
    reason = message(error)
    typed = error.get("input")
    if isinstance(typed, str) and typed and typed not in reason:
        reason += f" (saisi : « {bounds.shown(typed)} »)"
    return reason


#: The refusals a form answers with itself again (its values kept, the reason above them).
REFUSALS: tuple[type[GrappeError], ...] = (InputError, ConflictError)
#: A signed-in page: its template, and its context read in a unit of work from the session, the
#: visitor and the French reason a form of the page was refused (None when nothing was refused).
Page = tuple[str, Callable[[Session, Visitor, str | None], dict[str, Any]]]


def shown(request: Request, page: Page, refused: GrappeError | None = None) -> Response:
    """A signed-in page: the prologue of :func:`signed_in`, then its context read in one unit of
    work; after a ``refused`` form, with the reason and at the refusal's status."""
    template, context_of = page
    with unit(request) as (session, visitor):
        signed_in(request, visitor)
        context = context_of(session, visitor, None if refused is None else str(refused))
    status = 200 if refused is None else refused.http_status
    return show(request, visitor, template, context, status_code=status)


def submitted(
    request: Request,
    csrf_token: str,
    act: Callable[[Session, Visitor], str],
    again: Page | None = None,
    refusals: tuple[type[GrappeError], ...] = REFUSALS,
) -> Response:
    """The answer to a submitted form.

    In one unit of work, the prologue of :func:`signed_in`, then ``act``: it parses the form,
    builds the schema, calls the service and answers the address to go to (303, so that a
    reload does not submit again). On one of the ``refusals`` the unit rolls back and the page
    ``again`` is :func:`shown` with the reason; without ``again``, and on any other error, the
    error page of :func:`grappe.web.unit.as_page`.
    """
    try:
        with unit(request) as (session, visitor):
            signed_in(request, visitor, csrf_token)
            target = act(session, visitor)
    except refusals as exc:
        if again is None:
            raise
        return shown(request, again, exc)
    return RedirectResponse(target, status_code=303)
