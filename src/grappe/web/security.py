"""Security of the web application: response headers, the signing secret, cookies and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grappe.config import get_settings

#: Everything from the server's own origin, no inline script or style, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

CSRF_COOKIE = "grappe_csrf"
CSRF_FIELD = "csrf_token"
SECRET_FILE = "secret_key"


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response (API answers included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in HEADERS if name not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


@lru_cache(maxsize=4)
def _secret_of(configured: str | None, home: Path) -> bytes:
    if configured:
        return configured.encode("utf-8")
    path = home / SECRET_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    home.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    # O_EXCL: when two workers start together, one writes and the other reads its secret
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as out:
        out.write(value)
    return value


def secret_key() -> bytes:
    """The key signing CSRF tokens: ``GRAPPE_SECRET_KEY``, or one generated once under ``GRAPPE_HOME``."""
    settings = get_settings()
    configured = settings.secret_key.get_secret_value() if settings.secret_key else None
    return _secret_of(configured, settings.home)


def sign(purpose: str, value: str) -> str:
    """An HMAC of ``value`` for one purpose, hex."""
    return hmac.new(secret_key(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def secure_cookies(request: Request) -> bool:
    """Mark cookies ``Secure`` over HTTPS and on loopback (browsers accept both).

    A server reached over plain HTTP on another address would never get a Secure cookie
    back, and nobody could sign in: deploy behind HTTPS to get Secure cookies there.
    """
    if request.url.scheme == "https":
        return True
    host = request.url.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    """Set an HttpOnly, SameSite=Lax cookie on the whole site."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


def csrf_cookie_value(request: Request) -> tuple[str, bool]:
    """The visitor's CSRF cookie value, and whether it is new (then the response must set it)."""
    current = request.cookies.get(CSRF_COOKIE)
    if current and len(current) == 43:
        return current, False
    return secrets.token_urlsafe(32), True


def csrf_token(cookie_value: str) -> str:
    """The token a form carries: bound to the visitor's cookie and signed by the server."""
    return sign("csrf", cookie_value)


def csrf_valid(request: Request, submitted: str | None) -> bool:
    """True when a submitted form token matches the visitor's CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted:
        return False
    return hmac.compare_digest(csrf_token(cookie), submitted)
