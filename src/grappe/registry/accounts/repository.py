"""All SQL of accounts: users, API tokens, passwords, web sessions, failed sign-ins, one-time
links sent by mail, reset requests, the audit log.

Web sessions, failed sign-ins, one-time links and reset requests are written with Core
statements on the session's connection: they are not registry data, so they neither enter the
audit log nor advance the registry's generation (which would empty the API's read caches at
every sign-in).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Row, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from grappe.kit.repository import Repository
from grappe.registry.accounts.models import AccountLink, Credential, ResetRequest, SignInFailure, WebSession
from grappe.registry.models import ApiToken, AuditEntry, User


class UserRepository(Repository[User]):
    """Users with the clusters they manage."""

    model = User
    what = "utilisateur"

    def id_of_email(self, email: str) -> int | None:
        return self.session.scalar(select(User.id).where(User.email == email))

    def of_email(self, email: str) -> User | None:
        return self.session.scalar(
            select(User).where(User.email == email).options(selectinload(User.managed))
        )

    def every(self) -> Sequence[User]:
        return self.session.scalars(select(User).options(selectinload(User.managed)).order_by(User.id)).all()

    def listed(
        self, *, search: str | None, role: str | None, active: bool | None, limit: int, offset: int
    ) -> tuple[int, Sequence[User]]:
        """How many users match, and a page of them by e-mail: ``search`` in the e-mail or
        the name (any case), one role, active or not, each filter when given."""
        query = select(User).options(selectinload(User.managed)).order_by(User.email, User.id)
        if search:
            pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(
                or_(
                    func.lower(User.email).like(pattern, escape="\\"),
                    func.lower(func.coalesce(User.name, "")).like(pattern, escape="\\"),
                )
            )
        if role is not None:
            query = query.where(User.role == role)
        if active is not None:
            query = query.where(User.active == active)
        return self.page(query, limit, offset)

    def admins_active(self) -> int:
        """How many active platform administrators there are."""
        return self.session.scalar(
            select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
        ) or 0


class AuditRepository(Repository[AuditEntry]):
    """The audit log (written by :mod:`grappe.kit.audit`)."""

    model = AuditEntry
    what = "entrée du journal"

    def newest(
        self, cluster_id: int | None, entity: str | None, limit: int, offset: int
    ) -> tuple[int, Sequence[AuditEntry]]:
        """How many audit entries in all and one page of them, newest first, optionally of one
        cluster or entity type."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc())
        if cluster_id is not None:
            query = query.where(AuditEntry.cluster_id == cluster_id)
        if entity is not None:
            query = query.where(AuditEntry.entity == entity)
        return self.page(query, limit, offset)

    def filtered(
        self,
        where: Sequence[ColumnElement[bool]],
        limit: int | None,
        offset: int,
    ) -> tuple[int, Sequence[AuditEntry]]:
        """How many audit entries match every condition, and a page of them, newest first
        (``limit=None``: all of them from ``offset``, for an export)."""
        query = select(AuditEntry).where(*where).order_by(AuditEntry.id.desc())
        if limit is not None:
            return self.page(query, limit, offset)
        total = self.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        return total or 0, self.session.scalars(query.offset(offset)).all()

    def entities(self) -> list[str]:
        """The kinds of entity the log holds, sorted (the choices of the page's filter)."""
        return sorted(self.session.scalars(select(AuditEntry.entity).distinct()).all())


def audit_conditions(
    *,
    user_id: int | None = None,
    actor: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    cluster_id: int | None = None,
    since: dt.datetime | None = None,
    before: dt.datetime | None = None,
) -> list[ColumnElement[bool]]:
    """The conditions of an audit view, each filter when given (``before`` excluded)."""
    where: list[ColumnElement[bool]] = []
    if user_id is not None:
        where.append(AuditEntry.user_id == user_id)
    if actor is not None:
        where.append(AuditEntry.actor == actor)
    if entity is not None:
        where.append(AuditEntry.entity == entity)
    if entity_id is not None:
        where.append(AuditEntry.entity_id == entity_id)
    if cluster_id is not None:
        where.append(AuditEntry.cluster_id == cluster_id)
    if since is not None:
        where.append(AuditEntry.at >= since)
    if before is not None:
        where.append(AuditEntry.at < before)
    return where


class TokenRepository(Repository[ApiToken]):
    """API tokens, stored as digests."""

    model = ApiToken
    what = "jeton"

    def of_digest(self, token_hash: str) -> ApiToken | None:
        """A token of a digest with its user and the clusters it manages."""
        return self.session.scalar(
            select(ApiToken)
            .where(ApiToken.token_hash == token_hash)
            .options(selectinload(ApiToken.user).selectinload(User.managed))
        )

    def listing(self, user_id: int | None) -> Sequence[ApiToken]:
        """Tokens with their user, newest first; those of one user when given."""
        query = select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.id.desc())
        if user_id is not None:
            query = query.where(ApiToken.user_id == user_id)
        return self.session.scalars(query).all()


class SignInRepository:
    """Passwords, web sessions and failed sign-ins."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def credential(self, user_id: int) -> Credential | None:
        return self.session.get(Credential, user_id)

    def failures(self, email: str, since: dt.datetime) -> Row[int, dt.datetime | None]:
        """How many failed sign-ins of an address since a moment, and the first of them."""
        return (
            self.session.connection()
            .execute(
                select(func.count(), func.min(SignInFailure.at)).where(
                    SignInFailure.email == email, SignInFailure.at > since
                )
            )
            .one()
        )

    def user_and_hash(self, email: str) -> Row[User, str] | None:
        return self.session.execute(
            select(User, Credential.password_hash)
            .join(Credential, Credential.user_id == User.id)
            .where(User.email == email)
        ).first()

    def record_failure(self, email: str, at: dt.datetime) -> None:
        self.session.connection().execute(insert(SignInFailure), {"email": email, "at": at})

    def rehash(self, user_id: int, password_hash: str) -> None:
        self.session.connection().execute(
            update(Credential).where(Credential.user_id == user_id).values(password_hash=password_hash)
        )

    def open_session(self, user_id: int, token_hash: str, now: dt.datetime, lifetime: dt.timedelta) -> None:
        """Forget the address's failures and the user's ended sessions; open a new session."""
        connection = self.session.connection()
        connection.execute(
            delete(WebSession).where(WebSession.user_id == user_id, WebSession.expires_at <= now)
        )
        connection.execute(
            insert(WebSession),
            {"token_hash": token_hash, "user_id": user_id, "created_at": now, "expires_at": now + lifetime},
        )

    def forget_failures(self, email: str) -> None:
        self.session.connection().execute(delete(SignInFailure).where(SignInFailure.email == email))

    def session_user(self, token_hash: str) -> Row[User, dt.datetime] | None:
        """The user of a web session and the session's end."""
        return self.session.execute(
            select(User, WebSession.expires_at)
            .join(WebSession, WebSession.user_id == User.id)
            .where(WebSession.token_hash == token_hash)
            .options(selectinload(User.managed))
        ).first()

    def close_session(self, token_hash: str) -> None:
        self.session.connection().execute(delete(WebSession).where(WebSession.token_hash == token_hash))

    def close_sessions_of(self, user_id: int) -> None:
        """End every web session of a user (new password, deactivated account)."""
        self.session.connection().execute(delete(WebSession).where(WebSession.user_id == user_id))


class LinkRepository:
    """One-time links sent by mail, and the reset requests counted to throttle them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def reset_requests(self, email: str, since: dt.datetime) -> Row[int, dt.datetime | None]:
        """How many resets were asked for an address since a moment, and the first of them."""
        return (
            self.session.connection()
            .execute(
                select(func.count(), func.min(ResetRequest.at)).where(
                    ResetRequest.email == email, ResetRequest.at > since
                )
            )
            .one()
        )

    def record_reset_request(self, email: str, at: dt.datetime) -> None:
        connection = self.session.connection()
        connection.execute(insert(ResetRequest), {"email": email, "at": at})

    def forget_reset_requests(self, before: dt.datetime) -> None:
        """Drop the requests too old to count any more (the table stays small)."""
        self.session.connection().execute(delete(ResetRequest).where(ResetRequest.at <= before))

    def open_link(
        self, user_id: int, purpose: str, token_hash: str, now: dt.datetime, lifetime: dt.timedelta
    ) -> None:
        """A new link for a user; the user's unused links of the same purpose are void from now."""
        connection = self.session.connection()
        connection.execute(
            delete(AccountLink).where(
                AccountLink.user_id == user_id,
                or_(AccountLink.purpose == purpose, AccountLink.expires_at <= now),
            )
        )
        connection.execute(
            insert(AccountLink),
            {
                "token_hash": token_hash,
                "user_id": user_id,
                "purpose": purpose,
                "created_at": now,
                "expires_at": now + lifetime,
            },
        )

    def link(self, token_hash: str, purpose: str) -> Row[User, dt.datetime, dt.datetime | None] | None:
        """The user of a link of that purpose, the link's end and when it was used."""
        return self.session.execute(
            select(User, AccountLink.expires_at, AccountLink.used_at)
            .join(AccountLink, AccountLink.user_id == User.id)
            .where(AccountLink.token_hash == token_hash, AccountLink.purpose == purpose)
            .options(selectinload(User.managed))
        ).first()

    def use_link(self, token_hash: str, at: dt.datetime) -> bool:
        """Mark a link used, once: False when another request used it first."""
        result = self.session.connection().execute(
            update(AccountLink)
            .where(AccountLink.token_hash == token_hash, AccountLink.used_at.is_(None))
            .values(used_at=at)
        )
        return result.rowcount == 1

    def pending_invitations(self, user_ids: Sequence[int], now: dt.datetime) -> set[int]:
        """Which of these users hold an unused, unexpired invitation link."""
        if not user_ids:
            return set()
        return set(
            self.session.scalars(
                select(AccountLink.user_id).where(
                    AccountLink.user_id.in_(user_ids),
                    AccountLink.purpose == "invite",
                    AccountLink.used_at.is_(None),
                    AccountLink.expires_at > now,
                )
            ).all()
        )
