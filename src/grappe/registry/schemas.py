"""Inputs and outputs of the registry services (pydantic), shared by the CLI and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from grappe.registry.models import (
    BodyKind,
    FeeMode,
    FeeStatus,
    FundingSource,
    InvitationStatus,
    LabelKind,
    OrganisationKind,
    Role,
    SizeCategory,
    TerritoryLevel,
)

Name = Annotated[str, Field(min_length=1, max_length=300)]
ShortText = Annotated[str, Field(max_length=300)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Year = Annotated[int, Field(ge=1900, le=2200)]


class Schema(BaseModel):
    """Base of every schema: unknown fields are errors, ORM objects are read by attribute."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


# --- cluster organisations -------------------------------------------------------------------


class TerritoryRef(Schema):
    """A territory: level and code (COG code of the commune, EPCI SIREN, département, région)."""

    level: TerritoryLevel
    code: Annotated[str, Field(min_length=1, max_length=20)]


class LabelIn(Schema):
    """A label held over a period."""

    kind: LabelKind
    name: Annotated[str | None, Field(max_length=200)] = None
    funder: Annotated[str | None, Field(max_length=200)] = None
    phase: Annotated[str | None, Field(max_length=60)] = None
    start: dt.date
    end: dt.date | None = None


class LabelOut(Schema):
    """A label of a cluster organisation."""

    id: int
    kind: LabelKind
    name: str | None
    funder: str | None
    phase: str | None
    start: dt.date
    end: dt.date | None


class FundingIn(Schema):
    """Funding of one year from one source (and funder for public or European money)."""

    year: Year
    source: FundingSource
    funder: Annotated[str | None, Field(max_length=200)] = None
    amount_eur: Amount


class FundingOut(FundingIn):
    """A funding line."""

    id: int


class SeatHolderIn(Schema):
    """A person holding a seat, with an office and the organisation it represents."""

    person: Annotated[str, Field(min_length=1, max_length=200)]
    office: Annotated[str | None, Field(max_length=100)] = None
    organisation_id: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None


class BodyIn(Schema):
    """A governance body and its seat holders (replaces the body of that kind)."""

    kind: BodyKind
    seats: Annotated[int, Field(ge=1, le=1000)]
    holders: list[SeatHolderIn] = Field(default_factory=list, max_length=1000)


class BodyOut(Schema):
    """A governance body."""

    kind: BodyKind
    seats: int
    holders: list[SeatHolderIn]


class ClusterCreate(Schema):
    """A new cluster organisation.

    ``sectors`` are NAF codes at any level (``25.62A``, ``2562A``, ``25``, ``C``...);
    ``sector_group`` names the value chain they come from, when they come from one.
    """

    name: Name
    acronym: Annotated[str | None, Field(max_length=60)] = None
    legal_form: Annotated[str | None, Field(max_length=120)] = None
    founded: Annotated[int | None, Field(ge=1800, le=2200)] = None
    website: Annotated[str | None, Field(max_length=300)] = None
    description: Annotated[str | None, Field(max_length=20000)] = None
    territories: list[TerritoryRef] = Field(default_factory=list, max_length=40000)
    sectors: list[Annotated[str, Field(max_length=10)]] = Field(
        default_factory=list, max_length=1000
    )
    sector_group: Annotated[str | None, Field(max_length=120)] = None
    public: bool = True


class ClusterUpdate(Schema):
    """Changes to a cluster organisation; ``version`` is the one read (optimistic locking)."""

    version: Annotated[int, Field(ge=1)]
    name: Name | None = None
    acronym: Annotated[str | None, Field(max_length=60)] = None
    legal_form: Annotated[str | None, Field(max_length=120)] = None
    founded: Annotated[int | None, Field(ge=1800, le=2200)] = None
    website: Annotated[str | None, Field(max_length=300)] = None
    description: Annotated[str | None, Field(max_length=20000)] = None
    territories: list[TerritoryRef] | None = Field(default=None, max_length=40000)
    sectors: list[Annotated[str, Field(max_length=10)]] | None = Field(
        default=None, max_length=1000
    )
    sector_group: Annotated[str | None, Field(max_length=120)] = None
    public: bool | None = None


class ClusterSummary(Schema):
    """A cluster organisation in a list."""

    id: int
    name: str
    acronym: str | None
    member_count: int
    version: int


class ClusterOut(Schema):
    """A cluster organisation in full (private view)."""

    id: int
    name: str
    acronym: str | None
    legal_form: str | None
    founded: int | None
    website: str | None
    description: str | None
    territories: list[TerritoryRef]
    sectors: list[str]
    sector_group: str | None
    public: bool
    member_count: int
    labels: list[LabelOut]
    bodies: list[BodyOut]
    fundings: list[FundingOut]
    version: int


class DirectoryEntry(Schema):
    """A cluster organisation in the public directory."""

    id: int
    name: str
    acronym: str | None
    website: str | None
    description: str | None
    labels: list[str]
    regions: list[str]
    sectors: list[str]
    member_count: int


class DirectoryPage(Schema):
    """A page of the public directory."""

    total: int
    items: list[DirectoryEntry]


# --- organisations, members ------------------------------------------------------------------


class ContactIn(Schema):
    """A person of an organisation; ``directory_consent`` lets members see it."""

    full_name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Annotated[str | None, Field(max_length=120)] = None
    email: Annotated[str | None, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] = None
    phone: Annotated[str | None, Field(max_length=40)] = None
    directory_consent: bool = False


class ContactOut(ContactIn):
    """A contact."""

    id: int
    consent_date: dt.date | None
    version: int


class OrganisationCreate(Schema):
    """A new organisation; SIREN or a SIRET (its SIREN is derived) identify a legal unit."""

    name: Name
    siren: Annotated[str | None, Field(max_length=20)] = None
    sirets: list[Annotated[str, Field(max_length=20)]] = Field(default_factory=list, max_length=500)
    kind: OrganisationKind = OrganisationKind.FIRM
    naf: Annotated[str | None, Field(max_length=10)] = None
    commune: Annotated[str | None, Field(max_length=10)] = None
    size_band: Annotated[str | None, Field(max_length=2)] = None
    declared_headcount: Annotated[int | None, Field(ge=0, le=10_000_000)] = None
    declared_turnover_eur: Annotated[
        Decimal | None, Field(ge=0, max_digits=16, decimal_places=2)
    ] = None
    website: Annotated[str | None, Field(max_length=300)] = None


class OrganisationUpdate(Schema):
    """Changes to an organisation; ``version`` is the one read (optimistic locking)."""

    version: Annotated[int, Field(ge=1)]
    name: Name | None = None
    kind: OrganisationKind | None = None
    naf: Annotated[str | None, Field(max_length=10)] = None
    commune: Annotated[str | None, Field(max_length=10)] = None
    declared_headcount: Annotated[int | None, Field(ge=0, le=10_000_000)] = None
    declared_turnover_eur: Annotated[
        Decimal | None, Field(ge=0, max_digits=16, decimal_places=2)
    ] = None
    website: Annotated[str | None, Field(max_length=300)] = None


class EstablishmentOut(Schema):
    """An establishment of an organisation."""

    siret: str
    name: str | None
    naf: str | None
    commune: str | None
    size_band: str | None
    in_fabric: bool


class OrganisationOut(Schema):
    """An organisation in full."""

    id: int
    siren: str | None
    name: str
    kind: OrganisationKind
    naf: str | None
    commune: str | None
    size_band: str | None
    declared_headcount: int | None
    declared_turnover_eur: Decimal | None
    size_category: SizeCategory | None
    in_fabric: bool
    website: str | None
    establishments: list[EstablishmentOut]
    contacts: list[ContactOut]
    version: int


class MembershipCreate(Schema):
    """A new membership period of an organisation in a cluster organisation."""

    organisation_id: int
    siret: Annotated[str | None, Field(max_length=20)] = None
    membership_type: Annotated[str, Field(min_length=1, max_length=60)] = "adherent"
    joined: dt.date
    left: dt.date | None = None


class MembershipEnd(Schema):
    """The end of a membership period."""

    version: Annotated[int, Field(ge=1)]
    left: dt.date
    reason: Annotated[str | None, Field(max_length=300)] = None


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


class ImportIssue(Schema):
    """A rejected (or warned) row of a member import."""

    line: int
    column: str | None
    value: str | None
    reason: str


class ImportReport(Schema):
    """What a member import did: rows read, inserted, rejected (with line and reason)."""

    file: str
    rows: int
    inserted: int
    rejected: int
    committed: bool
    issues: list[ImportIssue]


# --- fees ------------------------------------------------------------------------------------


class Bracket(Schema):
    """A headcount bracket: from ``min_headcount`` (inclusive) to the next bracket."""

    min_headcount: Annotated[int, Field(ge=0)]
    amount_eur: Amount


class FeeRuleIn(Schema):
    """One line of a fee schedule (``size_category`` None = any size)."""

    membership_type: Annotated[str, Field(min_length=1, max_length=60)]
    size_category: SizeCategory | None = None
    mode: FeeMode = FeeMode.FIXED
    amount_eur: Amount | None = None
    brackets: list[Bracket] = Field(default_factory=list, max_length=100)


class FeeScheduleIn(Schema):
    """A fee schedule for one year (replaces the existing one)."""

    year: Year
    cap_eur: Amount | None = None
    due_days: Annotated[int, Field(ge=0, le=3650)] = 30
    rules: list[FeeRuleIn] = Field(min_length=1, max_length=500)


class FeeScheduleOut(FeeScheduleIn):
    """A stored fee schedule."""

    id: int
    version: int


class FeeCallOut(Schema):
    """A fee call with its derived status."""

    id: int
    membership_id: int
    organisation_id: int
    organisation: str
    year: int
    amount_eur: Decimal
    paid_eur: Decimal
    issued_on: dt.date
    due_on: dt.date
    status: FeeStatus
    version: int


class FeeCallsIssued(Schema):
    """Result of issuing fee calls for a year."""

    year: int
    issued: int
    already: int
    total_eur: Decimal


class PaymentIn(Schema):
    """A payment against a fee call."""

    amount_eur: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
    paid_on: dt.date
    method: Annotated[str | None, Field(max_length=40)] = None
    reference: Annotated[str | None, Field(max_length=120)] = None


class WaiveIn(Schema):
    """Waiving a fee call."""

    version: Annotated[int, Field(ge=1)]
    reason: Annotated[str, Field(min_length=1, max_length=300)]


class DunningLine(Schema):
    """A late fee call in the dunning list."""

    fee_call_id: int
    organisation_id: int
    organisation: str
    year: int
    amount_eur: Decimal
    paid_eur: Decimal
    outstanding_eur: Decimal
    due_on: dt.date
    days_late: int
    contacts: list[str]


# --- key figures -----------------------------------------------------------------------------


class YearFlow(Schema):
    """Entries and exits of one year, and members at its end."""

    year: int
    entries: int
    exits: int
    members_at_end: int
    retention: float | None


class KeyFigures(Schema):
    """Key figures of a cluster organisation on a date."""

    cluster_id: int
    on: dt.date
    members: int
    by_kind: dict[str, int]
    by_size: dict[str, int]
    tpe_pme_share: float | None
    flows: list[YearFlow]
    fee_income_eur: Decimal
    arrears_eur: Decimal
    by_departement: dict[str, int]
    communes: int


# --- accounts, audit -------------------------------------------------------------------------


class UserCreate(Schema):
    """A new user with its role and scope."""

    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
    name: Annotated[str | None, Field(max_length=200)] = None
    role: Role
    funder: Annotated[str | None, Field(max_length=200)] = None
    organisation_id: int | None = None
    clusters: list[int] = Field(default_factory=list, max_length=1000)


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


class TokenOut(Schema):
    """A freshly issued API token: the secret is shown once and never stored."""

    id: int
    user_id: int
    name: str
    token: str


class AuditOut(Schema):
    """An audit log entry."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    cluster_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


# --- invitations -----------------------------------------------------------------------------


class InvitationCreate(Schema):
    """A cluster's invitation to an organisation already on the platform, named by its SIREN.

    The SIREN, not the id: it is the public identifier a cluster knows a firm by, and ids of
    organisations the cluster may not read are never asked for. The fields after it describe
    the membership period the acceptance opens.
    """

    siren: Annotated[str, Field(min_length=9, max_length=20)]
    siret: Annotated[str | None, Field(max_length=20)] = None
    membership_type: Annotated[str, Field(min_length=1, max_length=60)] = "adherent"
    joined: dt.date
    left: dt.date | None = None


class InvitationOut(Schema):
    """An invitation; ``organisation`` (the name) only for those who may read the organisation."""

    id: int
    cluster_id: int
    cluster: str
    organisation_id: int
    siren: str | None
    organisation: str | None
    siret: str | None
    membership_type: str
    joined: dt.date
    left: dt.date | None
    status: InvitationStatus
    created_at: dt.datetime
    decided_at: dt.datetime | None
    membership_id: int | None
    version: int


class InvitationPage(Schema):
    """A page of invitations and how many match in all."""

    total: int
    items: list[InvitationOut]
