"""Tables of the accounts that are not registry data: passwords, web sessions, failed sign-ins,
the one-time links sent by mail and the password reset requests."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from grappe.registry.models import utcnow
from grappe.storage.sql import Base, UtcDateTime, check_in


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


class LinkPurpose(StrEnum):
    """What a one-time link sent by mail lets its holder do."""

    RESET = "reset"  # choose a new password (forgotten password)
    INVITE = "invite"  # choose a first password and activate an invited account


class AccountLink(Base):
    """A one-time link sent by mail: the SHA-256 of its secret, its user, its end, its use."""

    __tablename__ = "account_links"
    __table_args__ = (check_in("purpose", LinkPurpose, "purpose"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class ResetRequest(Base):
    """A password reset asked for an e-mail address, known or not (counted to throttle them)."""

    __tablename__ = "reset_requests"
    __table_args__ = (Index("ix_reset_requests_email_at", "email", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
