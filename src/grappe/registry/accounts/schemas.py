"""Inputs and outputs of the account services: users, API tokens, audit log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import Field

from grappe.kit.present import Language
from grappe.registry.bounds import Int, Text
from grappe.registry.models import (
    AuditEntry,
    ClusterManager,
    Role,
    User,
)
from grappe.registry.schemas import (
    EMAIL,
    FunderName,
    Page,
    Schema,
)


class UserCreate(Schema):
    """A new user with its role and scope."""

    email: Annotated[str, Text(User.email, min_length=3), Field(pattern=EMAIL)]
    name: Annotated[str, Text(User.name)] | None = None
    role: Role
    funder: FunderName | None = None
    organisation_id: Annotated[int, Int(User.organisation_id, ge=1)] | None = None
    clusters: list[Annotated[int, Int(ClusterManager.cluster_id, ge=1)]] = Field(
        default_factory=list, max_length=1000
    )
    language: Language = Language.FR


class UserOut(Schema):
    """A user."""

    id: int
    email: str
    name: str | None
    role: Role
    funder_id: int | None
    organisation_id: int | None
    clusters: list[int]
    active: bool
    language: Language


class UserRow(UserOut):
    """A user as the administrators' list shows it: with an invitation still to accept or not."""

    invited: bool


class UserPage(Page[UserRow]):
    """A page of users by e-mail."""


class RoleChange(Schema):
    """A user's new role and the scope it needs (as in :class:`UserCreate`)."""

    role: Role
    funder: FunderName | None = None
    organisation_id: Annotated[int, Int(User.organisation_id, ge=1)] | None = None
    clusters: list[Annotated[int, Int(ClusterManager.cluster_id, ge=1)]] = Field(
        default_factory=list, max_length=1000
    )


class LanguageChange(Schema):
    """The language a user reads its mail in."""

    language: Language


class AuditFilter(Schema):
    """A view of the audit log: each filter applies when given; days are UTC, both included."""

    user_id: Annotated[int, Int(AuditEntry.user_id, ge=1)] | None = None
    actor: Annotated[str, Text(AuditEntry.actor)] | None = None
    entity: Annotated[str, Text(AuditEntry.entity)] | None = None
    entity_id: Annotated[str, Text(AuditEntry.entity_id)] | None = None
    cluster_id: Annotated[int, Int(AuditEntry.cluster_id, ge=1)] | None = None
    since: dt.date | None = None
    until: dt.date | None = None


class TokenOut(Schema):
    """A freshly issued API token: the secret is shown once and never stored."""

    id: int
    user_id: int
    name: str
    token: str


class TokenInfo(Schema):
    """An API token as listed: whose, when issued, expired or revoked; never the secret."""

    id: int
    user_id: int
    email: str
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class AuditOut(Schema):
    """An audit log entry."""

    id: int
    at: dt.datetime
    actor: str
    user_id: int | None = None
    action: str
    entity: str
    entity_id: str | None
    cluster_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(Page[AuditOut]):
    """A page of the audit log, newest first."""
