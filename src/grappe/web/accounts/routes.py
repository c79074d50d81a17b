"""Sign-in and sign-out, forgotten passwords and invitations by mail: parse the form -> accounts
service -> page or redirect (mail sent once the unit of work has committed)."""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from grappe.errors import InputError, MailError
from grappe.kit.mail import Mail, send
from grappe.registry.accounts import links, signin
from grappe.registry.accounts.models import LinkPurpose
from grappe.web import security
from grappe.web.forms import csrf_refused
from grappe.web.render import gettext, language_of
from grappe.web.unit import SESSION_COOKIE, Visitor, as_page, show, unit

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]


def local_target(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never another origin)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/connexion", response_class=HTMLResponse)
@as_page
def sign_in_form(request: Request) -> Response:
    """The sign-in form."""
    with unit(request) as (_session, visitor):
        pass
    target = local_target(request.query_params.get("suite"))
    done = request.query_params.get("fait")
    context = {"email": "", "error": None, "target": target, "done": done if done in PURPOSES else None}
    return show(request, visitor, "accounts/signin.html", context)


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
        context = {"email": email, "error": str(exc), "target": local_target(target), "done": None}
        return show(request, Visitor(), "accounts/signin.html", context, status_code=429)
    if token is None:
        error = gettext(language, "Adresse électronique ou mot de passe incorrect.")
        context = {"email": email, "error": error, "target": local_target(target), "done": None}
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


# --- accounts by mail: forgotten password, invitations ----------------------------------------

logger = logging.getLogger("grappe.web")


def send_after_commit(mail: Mail | None) -> bool:
    """Send a mail whose unit of work has committed; False (logged) when the server refused it."""
    if mail is None:
        return True
    try:
        send(mail)
    except MailError as exc:
        logger.warning("message « %s » non envoyé : %s", mail.subject, exc)
        return False
    return True


def private(response: Response) -> Response:
    """A page holding a one-time link's secret: never cached, never sent as a referrer."""
    response.headers["cache-control"] = "no-store"
    response.headers["referrer-policy"] = "no-referrer"
    return response


@router.get("/compte/mot-de-passe-oublie", response_class=HTMLResponse)
@as_page
def forgot_form(request: Request) -> Response:
    """The form asking a password reset by e-mail."""
    with unit(request) as (_session, visitor):
        pass
    return show(request, visitor, "accounts/forgot.html", {"email": "", "error": None, "sent": False})


@router.post("/compte/mot-de-passe-oublie", response_class=HTMLResponse)
@as_page
def forgot(request: Request, email: FormText = "", csrf_token: FormText = "") -> Response:
    """Send the reset link when the address has an account; the same answer when it has none."""
    if not security.csrf_valid(request, csrf_token):
        return csrf_refused(request, Visitor())
    try:
        with unit(request) as (session, _visitor):
            mail = links.request_reset(session, email)
    except (links.ThrottledError, InputError) as exc:
        status = 429 if isinstance(exc, links.ThrottledError) else exc.http_status
        context = {"email": email, "error": str(exc), "sent": False}
        return show(request, Visitor(), "accounts/forgot.html", context, status_code=status)
    # Sent beside the answer, a refused mail logged, not shown: neither the answer nor its delay
    # may tell whether the address has an account.
    if mail is not None:
        mailer = threading.Thread(target=send_after_commit, args=(mail,), name="grappe-mail", daemon=True)
        mailer.start()
    return show(request, Visitor(), "accounts/forgot.html", {"email": email, "error": None, "sent": True})


PURPOSES = {"mot-de-passe": LinkPurpose.RESET, "invitation": LinkPurpose.INVITE}


def _link_page(
    request: Request, purpose: LinkPurpose, token: str, error: str | None, status: int
) -> Response:
    with unit(request) as (session, visitor):
        holder = links.link_holder(session, token, purpose)
    context = {
        "holder": holder,
        "invitation": purpose is LinkPurpose.INVITE,
        "error": error,
        "minimum": signin.MIN_PASSWORD,
        "action": request.url.path,
    }
    return private(show(request, visitor, "accounts/new_password.html", context, status_code=status))


@router.get("/compte/{kind}/{token}", response_class=HTMLResponse)
@as_page
def link_form(request: Request, kind: Literal["mot-de-passe", "invitation"], token: str) -> Response:
    """The page a mailed link opens: choose a password (a new one, or the first of an invitation)."""
    return _link_page(request, PURPOSES[kind], token, None, 200)


@router.post("/compte/{kind}/{token}", response_class=HTMLResponse)
@as_page
def use_link(
    request: Request,
    kind: Literal["mot-de-passe", "invitation"],
    token: str,
    password: FormText = "",
    confirm: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Set the password, use the link up, end the user's sessions; then go and sign in."""
    if not security.csrf_valid(request, csrf_token):
        return private(csrf_refused(request, Visitor()))
    purpose = PURPOSES[kind]
    if password != confirm:
        message = gettext(language_of(request), "Les deux mots de passe diffèrent : saisissez-les à nouveau.")
        return _link_page(request, purpose, token, message, 422)
    try:
        with unit(request) as (session, _visitor):
            links.use_link(session, token, purpose, password)
    except InputError as exc:  # a refused password (an invalid link is a 404 page)
        return _link_page(request, purpose, token, str(exc), exc.http_status)
    response = RedirectResponse(f"/connexion?fait={kind}", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=security.secure_cookies(request), httponly=True, samesite="lax"
    )
    return private(response)
