"""Sign-in of people: passwords (argon2), server-side web sessions and throttled attempts.

Sessions and failed attempts are written with Core statements on the session's connection:
they are not registry data, so they neither enter the audit log nor advance the registry's
generation (which would empty the API's read caches at every sign-in). Setting a password
goes through the ORM and is audited, its hash redacted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ForeignKey, Index, String, delete, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, selectinload

from grappe.errors import InputError, PermissionDeniedError
from grappe.registry import accounts, policy, service
from grappe.registry.models import Role, User, utcnow
from grappe.registry.policy import Actor
from grappe.storage.sql import Base, UtcDateTime

#: A web session lasts this long from sign-in, then the person signs in again.
SESSION_LIFETIME = dt.timedelta(hours=12)
#: Failed sign-ins of one e-mail address counted over this window ...
FAILURE_WINDOW = dt.timedelta(minutes=15)
#: ... and refused from this many on, the right password included, until the window passes.
MAX_FAILURES = 5
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
WRONG_CREDENTIALS = "adresse électronique ou mot de passe incorrect"

_hasher = PasswordHasher()
#: Verified when the address is unknown, so that an unknown address takes as long as a known one.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class Credential(Base):
    """A user's password, hashed with argon2id."""

    __tablename__ = "user_credentials"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class WebSession(Base):
    """A signed-in browser: the SHA-256 of its cookie's secret, its user and its end."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class SignInFailure(Base):
    """A failed sign-in for an e-mail address (counted to throttle guessing)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_email_at", "email", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class ThrottledError(PermissionDeniedError):
    """Too many failed sign-ins for an address: wait before trying again."""


@dataclass(frozen=True)
class SignedIn:
    """A browser's session: the actor it acts as and the e-mail shown on the pages."""

    actor: Actor
    email: str


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite is naive


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _normal_email(email: str) -> str:
    return email.strip().lower()


def set_password(session: Session, actor: Actor, user_id: int, password: str) -> None:
    """Set a user's password (administrators, or the user for itself)."""
    if actor.role is not Role.ADMIN and actor.user_id != user_id:
        raise policy.deny(actor, "changer le mot de passe d'un autre utilisateur")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InputError(
            f"mot de passe de {len(password)} caractères : attendu entre {MIN_PASSWORD} et {MAX_PASSWORD}"
        )
    user = service.get_object(session, User, user_id, "utilisateur")
    credential = session.get(Credential, user.id)
    if credential is None:
        session.add(Credential(user_id=user.id, password_hash=_hasher.hash(password)))
    else:
        credential.password_hash = _hasher.hash(password)
        credential.changed_at = utcnow()
    service.flush(session)


def sign_in(session: Session, email: str, password: str, now: dt.datetime | None = None) -> str | None:
    """Open a web session for an e-mail and password; its secret, or None when they are wrong.

    A wrong pair is recorded (the caller's transaction must commit for it to count).

    Raises
    ------
    ThrottledError
        ``MAX_FAILURES`` failures or more for this address within ``FAILURE_WINDOW``.
    """
    now = now or utcnow()
    address = _normal_email(email)[:254]
    connection = session.connection()
    since = now - FAILURE_WINDOW
    failures = connection.execute(
        select(func.count(), func.min(SignInFailure.at)).where(
            SignInFailure.email == address, SignInFailure.at > since
        )
    ).one()
    if failures[0] >= MAX_FAILURES:
        wait = _aware(failures[1]) + FAILURE_WINDOW - now
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        raise ThrottledError(
            f"trop de tentatives de connexion pour {address} : réessayez dans {minutes} min"
        )
    row = session.execute(
        select(User, Credential.password_hash)
        .join(Credential, Credential.user_id == User.id)
        .where(User.email == address)
    ).first()
    stored = row[1] if row is not None and row[0].active else _DUMMY_HASH
    try:
        valid = _hasher.verify(stored, password) and row is not None and row[0].active
    except (VerificationError, InvalidHashError):
        valid = False
    if not valid or row is None:
        connection.execute(insert(SignInFailure), {"email": address, "at": now})
        return None
    user = row[0]
    if _hasher.check_needs_rehash(stored):
        connection.execute(
            update(Credential)
            .where(Credential.user_id == user.id)
            .values(password_hash=_hasher.hash(password))
        )
    connection.execute(delete(SignInFailure).where(SignInFailure.email == address))
    connection.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    connection.execute(
        insert(WebSession),
        {
            "token_hash": _digest(token),
            "user_id": user.id,
            "created_at": now,
            "expires_at": now + SESSION_LIFETIME,
        },
    )
    return token


def resolve(session: Session, token: str, now: dt.datetime | None = None) -> SignedIn | None:
    """The signed-in user of a session secret; None when unknown, expired or the user inactive."""
    now = now or utcnow()
    row = session.execute(
        select(User, WebSession.expires_at)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_hash == _digest(token))
        .options(selectinload(User.managed))
    ).first()
    if row is None or not row[0].active or _aware(row[1]) <= now:
        return None
    return SignedIn(actor=accounts.actor_of_user(row[0]), email=row[0].email)


def sign_out(session: Session, token: str) -> None:
    """End a web session (an unknown secret is already signed out)."""
    session.connection().execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))
