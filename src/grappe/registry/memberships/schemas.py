"""Inputs and outputs of the membership services: periods, member lists, imports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from grappe.registry.bounds import Int, Text
from grappe.registry.models import (
    Membership,
    OrganisationKind,
    SizeCategory,
)
from grappe.registry.schemas import (
    Page,
    PastDate,
    Schema,
    TypedIdentifier,
)

#: Bounds the member import checks too (grappe.registry.memberships.files).
MEMBERSHIP_TYPE = Text(Membership.membership_type, min_length=1)
#: The membership type of a period that names none.
DEFAULT_TYPE = "adherent"


class MembershipCreate(Schema):
    """A new membership period of an organisation in a cluster organisation."""

    organisation_id: Annotated[int, Int(Membership.organisation_id, ge=1)]
    siret: TypedIdentifier | None = None
    membership_type: Annotated[str, MEMBERSHIP_TYPE] = DEFAULT_TYPE
    joined: PastDate
    left: PastDate | None = None


class MembershipEnd(Schema):
    """The end of a membership period."""

    version: Annotated[int, Int(Membership.version, ge=1)]
    left: PastDate
    reason: Annotated[str, Text(Membership.leaving_reason)] | None = None


class MemberLeave(Schema):
    """A member's exit as a manager records it: the period running on ``left`` closes."""

    left: PastDate
    reason: Annotated[str, Text(Membership.leaving_reason)] | None = None


class MemberOut(Schema):
    """A membership with its organisation (private member list)."""

    membership_id: int
    organisation_id: int
    siren: str | None
    siret: str | None
    name: str
    kind: OrganisationKind
    size_category: SizeCategory | None
    commune: str | None
    membership_type: str
    joined: dt.date
    left: dt.date | None
    leaving_reason: str | None
    #: False when the fabric store did not know the member when it was recorded.
    in_fabric: bool
    version: int


class MemberPage(Schema):
    """A page of a member list."""

    total: int
    items: list[MemberOut]


class DirectoryContact(Schema):
    """A consenting contact in a member directory."""

    full_name: str
    role: str | None
    email: str | None
    phone: str | None


class DirectoryMember(Schema):
    """A current member as its fellow members see it."""

    organisation_id: int
    name: str
    kind: OrganisationKind
    commune: str | None
    contacts: list[DirectoryContact]


class DirectoryMemberPage(Page[DirectoryMember]):
    """A page of a member directory."""


class ImportIssue(Schema):
    """A rejected (or warned) row of a member import."""

    line: int
    column: str | None
    value: str | None
    reason: str


class ImportChange(Schema):
    """One value an update-mode import changes on an existing member."""

    line: int
    siren: str
    name: str
    column: str
    before: str | None
    after: str


class ImportReport(Schema):
    """What a member import did: rows read, inserted, rejected (with line and reason)."""

    file: str
    rows: int
    inserted: int
    rejected: int
    committed: bool
    issues: list[ImportIssue]
    #: Update mode: existing members whose period or record changed, one entry per value.
    updated: int = 0
    changes: list[ImportChange] = Field(default_factory=list)
    #: Rows accepted although the fabric store does not know them (``accept_unknown``).
    outside_fabric: list[ImportIssue] = Field(default_factory=list)
