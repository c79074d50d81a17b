"""The signed-in user's own account page: who it is, and the language of its mail (saved here or
by switching the site's language, see :func:`grappe.web.unit.unit`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from grappe.kit.present import LANGUAGES
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import LanguageChange
from grappe.web import forms
from grappe.web.unit import as_page, show, unit

router = APIRouter(include_in_schema=False)

#: Each language named in itself, as the site's language switch names it.
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


@router.get("/compte", response_class=HTMLResponse)
@as_page
def account(request: Request) -> Response:
    """The account: e-mail, role, and the form choosing the language of its mail."""
    with unit(request) as (session, visitor):
        forms.signed_in(request, visitor)
        assert visitor.actor.user_id is not None  # signed_in sent the anonymous to sign in
        user = accounts.get_own(session, visitor.actor)
    context = {
        "user": user,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "saved": request.query_params.get("fait") == "langue",
    }
    return show(request, visitor, "accounts/account.html", context)


@router.post("/compte/langue")
@as_page
def choose_language(
    request: Request, language: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = ""
) -> Response:
    """Save the language of the user's mail; the site goes on in it."""
    with unit(request) as (session, visitor):
        forms.signed_in(request, visitor, csrf_token)
        assert visitor.actor.user_id is not None
        data = forms.schema(LanguageChange, {"language": "Langue"}, language=language)
        accounts.set_language(session, visitor.actor, visitor.actor.user_id, data)
    return RedirectResponse(f"/compte?lang={data.language.value}&fait=langue", status_code=303)
