"""What every page of a signed-in user shares: the sign-in and CSRF refusal, the fields of forms and URLs.

Each domain's pages (``web/<domain>/routes.py``) parse their forms with these, so a date, an amount,
a page number or a refused schema value gets the same French message everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

from babel.numbers import NumberFormatError, parse_decimal
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from grappe.errors import InputError
from grappe.kit.dates import parse_date
from grappe.kit.messages import message
from grappe.registry import bounds
from grappe.web import security
from grappe.web.accounts.routes import csrf_refused
from grappe.web.i18n import Formatter
from grappe.web.unit import Detour, Visitor

M = TypeVar("M", bound=BaseModel)


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
