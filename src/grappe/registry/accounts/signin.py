"""Sign-in of people: passwords (argon2), server-side web sessions and throttled attempts.

Sessions and failed attempts are not registry data (see
:mod:`grappe.registry.accounts.repository`). Setting a password goes through the ORM and is
audited, its hash redacted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from grappe.errors import InputError, PermissionDeniedError
from grappe.registry import policy
from grappe.registry.accounts import service
from grappe.registry.accounts.models import Credential
from grappe.registry.accounts.repository import SignInRepository, UserRepository
from grappe.registry.models import utcnow
from grappe.registry.policy import Actor

#: A web session lasts this long from sign-in, then the person signs in again.
SESSION_LIFETIME = dt.timedelta(hours=12)
#: Failed sign-ins of one e-mail address counted over this window ...
FAILURE_WINDOW = dt.timedelta(minutes=15)
#: ... and refused from this many on, the right password included, until the window passes.
MAX_FAILURES = 5
MIN_PASSWORD = 12
MAX_PASSWORD = 1024

_hasher = PasswordHasher()
#: Verified when the address is unknown, so that an unknown address takes as long as a known one.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class ThrottledError(PermissionDeniedError):
    """Too many failed sign-ins for an address: wait before trying again."""


@dataclass(frozen=True)
class SignedIn:
    """A browser's session: the actor it acts as, the e-mail shown on the pages, the user's language."""

    actor: Actor
    email: str
    language: str


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite is naive


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _normal_email(email: str) -> str:
    return email.strip().lower()


def set_password(session: Session, actor: Actor, user_id: int, password: str) -> None:
    """Set a user's password (administrators, or the user for itself)."""
    policy.require_self_or_admin(actor, user_id, "changer le mot de passe d'un autre utilisateur")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InputError(
            f"mot de passe de {len(password)} caractères : attendu entre {MIN_PASSWORD} et {MAX_PASSWORD}"
        )
    users = UserRepository(session)
    user = users.get(user_id)
    credential = SignInRepository(session).credential(user.id)
    if credential is None:
        session.add(Credential(user_id=user.id, password_hash=_hasher.hash(password)))
    else:
        credential.password_hash = _hasher.hash(password)
        credential.changed_at = utcnow()
    users.flush()


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
    repository = SignInRepository(session)
    failures = repository.failures(address, now - FAILURE_WINDOW)
    count, first = failures
    if count >= MAX_FAILURES and first is not None:
        wait = _aware(first) + FAILURE_WINDOW - now
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        raise ThrottledError(f"trop de tentatives de connexion pour {address} : réessayez dans {minutes} min")
    row = repository.user_and_hash(address)
    stored = row[1] if row is not None and row[0].active else _DUMMY_HASH
    try:
        valid = _hasher.verify(stored, password) and row is not None and row[0].active
    except (VerificationError, InvalidHashError):
        valid = False
    if not valid or row is None:
        repository.record_failure(address, now)
        return None
    user = row[0]
    if _hasher.check_needs_rehash(stored):
        repository.rehash(user.id, _hasher.hash(password))
    repository.forget_failures(address)
    token = secrets.token_urlsafe(32)
    repository.open_session(user.id, _digest(token), now, SESSION_LIFETIME)
    return token


def resolve(session: Session, token: str, now: dt.datetime | None = None) -> SignedIn | None:
    """The signed-in user of a session secret; None when unknown, expired or the user inactive."""
    now = now or utcnow()
    row = SignInRepository(session).session_user(_digest(token))
    if row is None or not row[0].active or _aware(row[1]) <= now:
        return None
    return SignedIn(actor=service.actor_of_user(row[0]), email=row[0].email, language=row[0].language)


def sign_out(session: Session, token: str) -> None:
    """End a web session (an unknown secret is already signed out)."""
    SignInRepository(session).close_session(_digest(token))
