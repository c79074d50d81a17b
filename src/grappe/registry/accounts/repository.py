"""All SQL of accounts: users, API tokens, passwords, web sessions, failed sign-ins, the audit log.

Web sessions and failed sign-ins are written with Core statements on the session's
connection: they are not registry data, so they neither enter the audit log nor advance
the registry's generation (which would empty the API's read caches at every sign-in).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from grappe.kit.repository import Repository
from grappe.registry.accounts.models import Credential, SignInFailure, WebSession
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
