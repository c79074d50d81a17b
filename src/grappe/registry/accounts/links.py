"""Accounts by mail: a forgotten password reset, and people invited to the platform.

Both work with a one-time link: a 256-bit random secret sent by mail, of which only the
SHA-256 is stored, valid once and for a limited time (:data:`RESET_LIFETIME`,
:data:`INVITE_LIFETIME`). Asking a reset answers the same whether the address has an account
or not, and is throttled per address like sign-in attempts. Choosing the new password ends
every web session of the user. The services return the :class:`~grappe.kit.mail.Mail` to
send: the caller sends it once its unit of work has committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from grappe.config import get_settings
from grappe.errors import InputError, NotFoundError
from grappe.kit.mail import Mail, Wording
from grappe.kit.present import Formatter
from grappe.kit.unit import ACTOR
from grappe.registry import policy
from grappe.registry.accounts import service, signin
from grappe.registry.accounts.models import LinkPurpose
from grappe.registry.accounts.repository import LinkRepository, SignInRepository, UserRepository
from grappe.registry.accounts.schemas import UserCreate, UserOut
from grappe.registry.models import User, utcnow
from grappe.registry.policy import Actor

#: A password reset link is valid this long ...
RESET_LIFETIME = dt.timedelta(hours=1)
#: ... an invitation link this long (people do not read their mail every hour).
INVITE_LIFETIME = dt.timedelta(days=7)
#: Reset requests of one address counted over this window ...
RESET_WINDOW = dt.timedelta(minutes=15)
#: ... and refused from this many on, until the window passes.
MAX_RESETS = 3
#: Paths of the pages the links open (``{token}``: the secret).
RESET_PATH = "/compte/mot-de-passe/{token}"
INVITE_PATH = "/compte/invitation/{token}"
INVALID_LINK = "lien invalide, expiré ou déjà utilisé : demandez-en un nouveau"

_UNTIL = Wording(fr="{day} à {time} (UTC)", en="{day} at {time} (UTC)")
_RESET_SUBJECT = Wording(fr="grappe : changer votre mot de passe", en="grappe: change your password")
_RESET_BODY = Wording(
    fr=(
        "Bonjour,\n\n"
        "Quelqu'un, sans doute vous, a demandé à changer le mot de passe de votre compte grappe "
        "({address}).\n\n"
        "Choisissez votre nouveau mot de passe en ouvrant ce lien, valable une seule fois, "
        "jusqu'au {until} :\n\n{url}\n\n"
        "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe reste le même.\n\n"
        "— grappe\n"
    ),
    en=(
        "Hello,\n\n"
        "Someone, probably you, asked to change the password of your grappe account "
        "({address}).\n\n"
        "Choose your new password by opening this link, valid once, "
        "until {until}:\n\n{url}\n\n"
        "If you asked for nothing, ignore this message: your password stays the same.\n\n"
        "— grappe\n"
    ),
)
_INVITE_SUBJECT = Wording(fr="grappe : votre invitation", en="grappe: your invitation")
_GREETING = Wording(fr="Bonjour,", en="Hello,")
_GREETING_NAMED = Wording(fr="Bonjour {name},", en="Hello {name},")
_INVITED_BY = Wording(fr=" par {inviter}", en=" by {inviter}")
_INVITE_BODY = Wording(
    fr=(
        "{greeting}\n\nVous êtes invité{by} sur grappe, la plateforme des grappes d'entreprises, "
        "avec le rôle « {role} ».\n\n"
        "Pour activer votre compte, choisissez votre mot de passe en ouvrant ce lien, valable "
        "une seule fois, jusqu'au {until} :\n\n{url}\n\n"
        "Vous vous connecterez ensuite avec votre adresse {address}.\n\n— grappe\n"
    ),
    en=(
        "{greeting}\n\nYou are invited{by} to grappe, the platform of business clusters, "
        "with the role “{role}”.\n\n"
        "To activate your account, choose your password by opening this link, valid "
        "once, until {until}:\n\n{url}\n\n"
        "You will then sign in with your address {address}.\n\n— grappe\n"
    ),
)
_REINVITE_BODY = Wording(
    fr=(
        "Bonjour,\n\nVoici un nouveau lien pour activer votre compte grappe "
        "(rôle « {role} ») ; il remplace le précédent et vaut une seule "
        "fois, jusqu'au {until} :\n\n{url}\n\n— grappe\n"
    ),
    en=(
        "Hello,\n\nHere is a new link to activate your grappe account "
        "(role “{role}”); it replaces the previous one and is valid "
        "once, until {until}:\n\n{url}\n\n— grappe\n"
    ),
)


class InvalidLinkError(NotFoundError):
    """A link that is unknown, expired, already used, or of an account no longer active."""


class ThrottledError(signin.ThrottledError):
    """Too many reset requests for an address: wait before asking again."""


@dataclass(frozen=True)
class LinkHolder:
    """Whose a valid link is, and what it is for (what the page opened by the link shows)."""

    email: str
    purpose: LinkPurpose


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite is naive


def _url(path: str, token: str) -> str:
    return get_settings().base_url.rstrip("/") + path.format(token=token)


def _until(moment: dt.datetime, language: str) -> str:
    utc = moment.astimezone(dt.UTC)
    return _UNTIL(language, day=Formatter(language).date(utc.date()), time=utc.strftime("%H:%M"))


def _new_link(
    session: Session, user_id: int, purpose: LinkPurpose, now: dt.datetime
) -> tuple[str, dt.datetime]:
    lifetime = RESET_LIFETIME if purpose is LinkPurpose.RESET else INVITE_LIFETIME
    token = secrets.token_urlsafe(32)
    LinkRepository(session).open_link(user_id, purpose.value, _digest(token), now, lifetime)
    return token, now + lifetime


def request_reset(session: Session, email: str, now: dt.datetime | None = None) -> Mail | None:
    """Ask a password reset for an address: the mail to send, or None when no active account
    has it (the caller answers the same in both cases).

    Raises
    ------
    ThrottledError
        ``MAX_RESETS`` requests or more for this address within ``RESET_WINDOW``, whether
        it has an account or not.
    InputError
        Not an e-mail address.
    """
    now = now or utcnow()
    address = email.strip().lower()
    if not 3 <= len(address) <= 254 or "@" not in address or any(c.isspace() for c in address):
        raise InputError(f"adresse électronique {email.strip()[:80]!r} invalide")
    links = LinkRepository(session)
    links.forget_reset_requests(now - RESET_WINDOW)
    count, first = links.reset_requests(address, now - RESET_WINDOW)
    if count >= MAX_RESETS and first is not None:
        wait = _aware(first) + RESET_WINDOW - now
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        raise ThrottledError(
            f"trop de demandes de réinitialisation pour {address} : réessayez dans {minutes} min"
        )
    links.record_reset_request(address, now)
    user = UserRepository(session).of_email(address)
    if user is None or not user.active:
        return None
    token, until = _new_link(session, user.id, LinkPurpose.RESET, now)
    language = user.language
    body = _RESET_BODY(
        language, address=address, until=_until(until, language), url=_url(RESET_PATH, token)
    )
    return Mail(to=[address], subject=_RESET_SUBJECT(language), body=body)


def invite_user(
    session: Session, actor: Actor, data: UserCreate, now: dt.datetime | None = None
) -> tuple[UserOut, Mail]:
    """Invite a person by e-mail with a role: its account is created inactive, and the mail
    carries the link where it chooses its password (administrators; a manager for its clusters
    and the organisations it manages, see :func:`grappe.registry.policy.require_inviter`).

    Raises
    ------
    ConflictError
        The address already has an account.
    """
    policy.require_inviter(session, actor, data.role, set(data.clusters), data.organisation_id)
    now = now or utcnow()
    user = service.new_user(session, data, active=False)
    token, until = _new_link(session, user.id, LinkPurpose.INVITE, now)
    inviter = UserRepository(session).get(actor.user_id).email if actor.user_id is not None else None
    language = user.language
    body = _INVITE_BODY(
        language,
        greeting=_GREETING_NAMED(language, name=data.name) if data.name else _GREETING(language),
        by=_INVITED_BY(language, inviter=inviter) if inviter else "",
        role=Formatter(language).label("role", data.role.value),
        until=_until(until, language),
        url=_url(INVITE_PATH, token),
        address=user.email,
    )
    mail = Mail(to=[user.email], subject=_INVITE_SUBJECT(language), body=body, reply_to=inviter)
    return service.user_out(user), mail


def resend_invitation(session: Session, actor: Actor, user_id: int, now: dt.datetime | None = None) -> Mail:
    """A new invitation link for a user who has not activated its account (administrators);
    the previous link no longer works."""
    policy.require_admin(actor, "renvoyer une invitation")
    now = now or utcnow()
    user = UserRepository(session).get(user_id)
    if user.active or SignInRepository(session).credential(user.id) is not None:
        raise InputError(f"{user.email} a déjà activé son compte : rien à renvoyer")
    token, until = _new_link(session, user.id, LinkPurpose.INVITE, now)
    language = user.language
    body = _REINVITE_BODY(
        language,
        role=Formatter(language).label("role", user.role),
        until=_until(until, language),
        url=_url(INVITE_PATH, token),
    )
    return Mail(to=[user.email], subject=_INVITE_SUBJECT(language), body=body)


def _holder(session: Session, token: str, purpose: LinkPurpose, now: dt.datetime) -> User:
    row = LinkRepository(session).link(_digest(token), purpose.value)
    if row is None or row[2] is not None or _aware(row[1]) <= now:
        raise InvalidLinkError(INVALID_LINK)
    user = row[0]
    if purpose is LinkPurpose.RESET and not user.active:
        raise InvalidLinkError(INVALID_LINK)
    return user


def link_holder(
    session: Session, token: str, purpose: LinkPurpose, now: dt.datetime | None = None
) -> LinkHolder:
    """Whose a link is, when it is still valid (else :class:`InvalidLinkError`)."""
    user = _holder(session, token, purpose, now or utcnow())
    return LinkHolder(email=user.email, purpose=purpose)


def use_link(
    session: Session, token: str, purpose: LinkPurpose, password: str, now: dt.datetime | None = None
) -> str:
    """Set the password a link lets its holder choose; the account's e-mail.

    The link is then used; an invitation's account becomes active; every web session of the
    user ends (a reset is often asked because a password leaked).

    Raises
    ------
    InvalidLinkError
        The link is unknown, expired or used.
    InputError
        The password is too short or too long.
    """
    now = now or utcnow()
    user = _holder(session, token, purpose, now)
    holder = service.actor_of_user(user)
    # The holder of the link acts (the audit log names it), not the anonymous visitor it was.
    session.info[ACTOR] = holder
    signin.set_password(session, holder, user.id, password)
    if not LinkRepository(session).use_link(_digest(token), now):
        raise InvalidLinkError(INVALID_LINK)  # used by a request in between: this one rolls back
    if purpose is LinkPurpose.INVITE:
        user.active = True
        UserRepository(session).flush()
    sessions = SignInRepository(session)
    sessions.close_sessions_of(user.id)
    sessions.forget_failures(user.email)
    return user.email
