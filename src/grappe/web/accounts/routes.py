"""Sign-in and sign-out pages: parse the form -> sign-in service -> page or redirect."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from grappe.registry.accounts import signin
from grappe.web import security
from grappe.web.render import gettext, language_of
from grappe.web.unit import SESSION_COOKIE, Visitor, as_page, show, unit

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]


def local_target(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never another origin)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def csrf_refused(request: Request, visitor: Visitor) -> Response:
    """The answer to a form whose CSRF token is missing or wrong."""
    message = gettext(
        language_of(request), "Formulaire expiré ou invalide : rechargez la page et recommencez."
    )
    return show(request, visitor, "error.html", {"message": message}, status_code=403)


@router.get("/connexion", response_class=HTMLResponse)
@as_page
def sign_in_form(request: Request) -> Response:
    """The sign-in form."""
    with unit(request) as (_session, visitor):
        pass
    target = local_target(request.query_params.get("suite"))
    return show(request, visitor, "accounts/signin.html", {"email": "", "error": None, "target": target})


@router.post("/connexion", response_class=HTMLResponse)
@as_page
def sign_in(
    request: Request,
    email: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
    target: FormText = "/",
) -> Response:
    """Check the e-mail and password, open a session and go on; say what is wrong otherwise."""
    if not security.csrf_valid(request, csrf_token):
        return csrf_refused(request, Visitor())
    language = language_of(request)
    try:
        with unit(request) as (session, _visitor):
            token = signin.sign_in(session, email, password)
    except signin.ThrottledError as exc:
        context = {"email": email, "error": str(exc), "target": local_target(target)}
        return show(request, Visitor(), "accounts/signin.html", context, status_code=429)
    if token is None:
        error = gettext(language, "Adresse électronique ou mot de passe incorrect.")
        context = {"email": email, "error": error, "target": local_target(target)}
        return show(request, Visitor(), "accounts/signin.html", context, status_code=401)
    response = RedirectResponse(local_target(target), status_code=303)
    security.set_cookie(
        request, response, SESSION_COOKIE, token, int(signin.SESSION_LIFETIME.total_seconds())
    )
    return response


@router.post("/deconnexion")
@as_page
def sign_out(request: Request, csrf_token: FormText = "") -> Response:
    """End the browser's session and go home."""
    with unit(request) as (session, visitor):
        if not security.csrf_valid(request, csrf_token):
            return csrf_refused(request, visitor)
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            signin.sign_out(session, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=security.secure_cookies(request), httponly=True, samesite="lax"
    )
    return response
