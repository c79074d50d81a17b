"""Inputs and outputs of the registry services (pydantic), shared by the CLI and the API."""

from __future__ import annotations

import datetime as dt
import functools
import operator
import types
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, Union, cast, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model

from grappe.registry.bounds import ACCOUNTING, FOUNDED, PAST, PLANNED, Amount, Dated, Int, Text, Year
from grappe.registry.models import (
    BodyKind,
    Cluster,
    ClusterFunding,
    ClusterLabel,
    ClusterManager,
    ClusterSector,
    ClusterTerritory,
    Contact,
    FeeCall,
    FeeMode,
    FeeRule,
    FeeSchedule,
    FeeStatus,
    Funder,
    FundingSource,
    GovernanceBody,
    InvitationStatus,
    LabelKind,
    Membership,
    Organisation,
    OrganisationKind,
    Payment,
    Role,
    SeatHolder,
    SizeCategory,
    TerritoryLevel,
    User,
)

# Every field users send is bounded by its column (grappe.registry.bounds); the test
# tests/registry/test_bounds.py walks the request bodies and fails on a field left unbounded.
FunderName = Annotated[str, Text(Funder.name)]
#: Dates of what has happened (memberships, payments) and of periods planned ahead.
PastDate = Annotated[dt.date, Dated(PAST)]
PlannedDate = Annotated[dt.date, Dated(PLANNED)]
#: An identifier as typed: SIREN or SIRET with spaces or dots, normalised before it is stored.
TypedIdentifier = Annotated[str, Text(max_length=20)]
#: Bounds the member import checks too (grappe.registry.members_io).
ORGANISATION_NAME = Text(Organisation.name, min_length=1)
MEMBERSHIP_TYPE = Text(Membership.membership_type, min_length=1)


class Schema(BaseModel):
    """Base of every schema: unknown fields are errors, ORM objects are read by attribute."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


S = TypeVar("S", bound=BaseModel)
_STORED: dict[type[BaseModel], type[BaseModel]] = {}


def _unbounded(annotation: Any) -> Any:
    """A field's type without its constraints; nested schemas replaced by their stored form."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unbounded(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return functools.reduce(operator.or_, map(_unbounded, get_args(annotation)))
    if origin is list:
        return list[_unbounded(get_args(annotation)[0])]  # type: ignore[misc]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return stored(annotation)
    return annotation


def stored(model: type[S]) -> type[S]:
    """An input schema as outputs carry it: the same fields and defaults, no bound checked.

    What is read back was valid when it was written, but the bounds move (a date rule
    tightened, a column's length) and older versions or SQL wrote rows outside today's
    bounds; validating them again on the way out would answer 500 for stored data. The
    bounds are written once on the input schema; this derives its output form.
    """
    if model not in _STORED:
        fields: dict[str, Any] = {
            name: (_unbounded(info.annotation),
                   Field(default_factory=info.default_factory) if info.default_factory
                   else Field(default=info.default))
            for name, info in model.model_fields.items()
        }
        _STORED[model] = create_model(
            model.__name__.removesuffix("In") + "Stored",
            __base__=Schema, __doc__=model.__doc__, __module__=__name__, **fields,
        )
    return cast("type[S]", _STORED[model])


# --- cluster organisations -------------------------------------------------------------------


class TerritoryRef(Schema):
    """A territory: level and code (COG code of the commune, EPCI SIREN, département, région)."""

    level: TerritoryLevel
    code: Annotated[str, Text(ClusterTerritory.code, min_length=1)]


if TYPE_CHECKING:  # see stored()
    TerritoryOut = TerritoryRef
else:
    TerritoryOut = stored(TerritoryRef)


class LabelIn(Schema):
    """A label held over a period."""

    kind: LabelKind
    name: Annotated[str, Text(ClusterLabel.name)] | None = None
    funder: FunderName | None = None
    phase: Annotated[str, Text(ClusterLabel.phase)] | None = None
    start: PlannedDate
    end: PlannedDate | None = None


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

    year: Annotated[int, Year(ACCOUNTING, ClusterFunding.year)]
    source: FundingSource
    funder: FunderName | None = None
    amount_eur: Annotated[Decimal, Amount(ClusterFunding.amount_eur)]


if TYPE_CHECKING:
    _FundingStored = FundingIn
else:
    _FundingStored = stored(FundingIn)


class FundingOut(_FundingStored):
    """A funding line."""

    id: int


class SeatHolderIn(Schema):
    """A person holding a seat, with an office and the organisation it represents."""

    person: Annotated[str, Text(SeatHolder.person, min_length=1)]
    office: Annotated[str, Text(SeatHolder.office)] | None = None
    organisation_id: Annotated[int, Int(SeatHolder.organisation_id, ge=1)] | None = None
    start: PlannedDate | None = None
    end: PlannedDate | None = None


if TYPE_CHECKING:
    SeatHolderOut = SeatHolderIn
else:
    SeatHolderOut = stored(SeatHolderIn)


class BodyIn(Schema):
    """A governance body and its seat holders (replaces the body of that kind)."""

    kind: BodyKind
    seats: Annotated[int, Int(GovernanceBody.seats, ge=1, le=1000)]
    holders: list[SeatHolderIn] = Field(default_factory=list, max_length=1000)


class BodyOut(Schema):
    """A governance body."""

    kind: BodyKind
    seats: int
    holders: list[SeatHolderOut]


class ClusterCreate(Schema):
    """A new cluster organisation.

    ``sectors`` are NAF codes at any level (``25.62A``, ``2562A``, ``25``, ``C``...);
    ``sector_group`` names the value chain they come from, when they come from one.
    """

    name: Annotated[str, Text(Cluster.name, min_length=1)]
    acronym: Annotated[str, Text(Cluster.acronym)] | None = None
    legal_form: Annotated[str, Text(Cluster.legal_form)] | None = None
    founded: Annotated[int, Year(FOUNDED, Cluster.founded)] | None = None
    website: Annotated[str, Text(Cluster.website)] | None = None
    description: Annotated[str, Text(Cluster.description, 20000, multiline=True)] | None = None
    territories: list[TerritoryRef] = Field(default_factory=list, max_length=40000)
    sectors: list[Annotated[str, Text(ClusterSector.naf, min_length=1)]] = Field(
        default_factory=list, max_length=1000
    )
    sector_group: Annotated[str, Text(Cluster.sector_group)] | None = None
    public: bool = True


class ClusterUpdate(Schema):
    """Changes to a cluster organisation; ``version`` is the one read (optimistic locking)."""

    version: Annotated[int, Int(Cluster.version, ge=1)]
    name: Annotated[str, Text(Cluster.name, min_length=1)] | None = None
    acronym: Annotated[str, Text(Cluster.acronym)] | None = None
    legal_form: Annotated[str, Text(Cluster.legal_form)] | None = None
    founded: Annotated[int, Year(FOUNDED, Cluster.founded)] | None = None
    website: Annotated[str, Text(Cluster.website)] | None = None
    description: Annotated[str, Text(Cluster.description, 20000, multiline=True)] | None = None
    territories: list[TerritoryRef] | None = Field(default=None, max_length=40000)
    sectors: list[Annotated[str, Text(ClusterSector.naf, min_length=1)]] | None = Field(
        default=None, max_length=1000
    )
    sector_group: Annotated[str, Text(Cluster.sector_group)] | None = None
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
    territories: list[TerritoryOut]
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


EMAIL = r"^[^@\s]+@[^@\s]+$"


class ContactIn(Schema):
    """A person of an organisation; ``directory_consent`` lets members see it."""

    full_name: Annotated[str, Text(Contact.full_name, min_length=1)]
    role: Annotated[str, Text(Contact.role)] | None = None
    email: Annotated[str, Text(Contact.email), Field(pattern=EMAIL)] | None = None
    phone: Annotated[str, Text(Contact.phone)] | None = None
    directory_consent: bool = False


if TYPE_CHECKING:
    _ContactStored = ContactIn
else:
    _ContactStored = stored(ContactIn)


class ContactOut(_ContactStored):
    """A contact."""

    id: int
    consent_date: dt.date | None
    version: int


Headcount = Annotated[int, Int(Organisation.declared_headcount, le=10_000_000)]
Turnover = Annotated[Decimal, Amount(Organisation.declared_turnover_eur)]


class OrganisationCreate(Schema):
    """A new organisation; SIREN or a SIRET (its SIREN is derived) identify a legal unit."""

    name: Annotated[str, ORGANISATION_NAME]
    siren: TypedIdentifier | None = None
    sirets: list[TypedIdentifier] = Field(default_factory=list, max_length=500)
    kind: OrganisationKind = OrganisationKind.FIRM
    naf: Annotated[str, Text(Organisation.naf)] | None = None
    commune: Annotated[str, Text(Organisation.commune)] | None = None
    size_band: Annotated[str, Text(Organisation.size_band)] | None = None
    declared_headcount: Headcount | None = None
    declared_turnover_eur: Turnover | None = None
    website: Annotated[str, Text(Organisation.website)] | None = None


class OrganisationUpdate(Schema):
    """Changes to an organisation; ``version`` is the one read (optimistic locking)."""

    version: Annotated[int, Int(Organisation.version, ge=1)]
    name: Annotated[str, ORGANISATION_NAME] | None = None
    kind: OrganisationKind | None = None
    naf: Annotated[str, Text(Organisation.naf)] | None = None
    commune: Annotated[str, Text(Organisation.commune)] | None = None
    declared_headcount: Headcount | None = None
    declared_turnover_eur: Turnover | None = None
    website: Annotated[str, Text(Organisation.website)] | None = None


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

    organisation_id: Annotated[int, Int(Membership.organisation_id, ge=1)]
    siret: TypedIdentifier | None = None
    membership_type: Annotated[str, MEMBERSHIP_TYPE] = "adherent"
    joined: PastDate
    left: PastDate | None = None


class MembershipEnd(Schema):
    """The end of a membership period."""

    version: Annotated[int, Int(Membership.version, ge=1)]
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

    min_headcount: Headcount
    amount_eur: Annotated[Decimal, Amount(FeeRule.amount_eur)]


class FeeRuleIn(Schema):
    """One line of a fee schedule (``size_category`` None = any size)."""

    membership_type: Annotated[str, Text(FeeRule.membership_type, min_length=1)]
    size_category: SizeCategory | None = None
    mode: FeeMode = FeeMode.FIXED
    amount_eur: Annotated[Decimal, Amount(FeeRule.amount_eur)] | None = None
    brackets: list[Bracket] = Field(default_factory=list, max_length=100)


class FeeScheduleIn(Schema):
    """A fee schedule for one year (replaces the existing one)."""

    year: Annotated[int, Year(ACCOUNTING, FeeSchedule.year)]
    cap_eur: Annotated[Decimal, Amount(FeeSchedule.cap_eur)] | None = None
    due_days: Annotated[int, Int(FeeSchedule.due_days, le=3650)] = 30
    rules: list[FeeRuleIn] = Field(min_length=1, max_length=500)


if TYPE_CHECKING:
    BracketOut = Bracket
    FeeRuleOut = FeeRuleIn
else:
    BracketOut = stored(Bracket)
    FeeRuleOut = stored(FeeRuleIn)


if TYPE_CHECKING:
    _FeeScheduleStored = FeeScheduleIn
else:
    _FeeScheduleStored = stored(FeeScheduleIn)


class FeeScheduleOut(_FeeScheduleStored):
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

    amount_eur: Annotated[Decimal, Amount(Payment.amount_eur, positive=True)]
    paid_on: PastDate
    method: Annotated[str, Text(Payment.method)] | None = None
    reference: Annotated[str, Text(Payment.reference)] | None = None


class WaiveIn(Schema):
    """Waiving a fee call."""

    version: Annotated[int, Int(FeeCall.version, ge=1)]
    reason: Annotated[str, Text(FeeCall.waived_reason, min_length=1)]


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

    email: Annotated[str, Text(User.email, min_length=3), Field(pattern=EMAIL)]
    name: Annotated[str, Text(User.name)] | None = None
    role: Role
    funder: FunderName | None = None
    organisation_id: Annotated[int, Int(User.organisation_id, ge=1)] | None = None
    clusters: list[Annotated[int, Int(ClusterManager.cluster_id, ge=1)]] = Field(
        default_factory=list, max_length=1000
    )


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

    siren: TypedIdentifier
    siret: TypedIdentifier | None = None
    membership_type: Annotated[str, MEMBERSHIP_TYPE] = "adherent"
    joined: PastDate
    left: PastDate | None = None


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
