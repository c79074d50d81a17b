"""Inputs and outputs of the cluster services: profile, labels, funding, governance, directory."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from grappe.registry.bounds import ACCOUNTING, FOUNDED, Amount, Int, Text, Year
from grappe.registry.models import (
    BodyKind,
    Cluster,
    ClusterFunding,
    ClusterLabel,
    ClusterSector,
    ClusterTerritory,
    FundingSource,
    GovernanceBody,
    LabelKind,
    SeatHolder,
    TerritoryLevel,
)
from grappe.registry.schemas import (
    FunderName,
    Page,
    PlannedDate,
    Schema,
    stored,
)


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
    _SeatHolderStored = SeatHolderIn
else:
    _SeatHolderStored = stored(SeatHolderIn)


class SeatHolderOut(_SeatHolderStored):
    """A seat holder as stored (its id names it to end its term)."""

    id: int


class TermEnd(Schema):
    """The last day of a label or of a seat holder's term."""

    end: PlannedDate


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


class ClusterPage(Page[ClusterSummary]):
    """A page of cluster organisations."""


class ClusterIdentity(Schema):
    """Who a cluster organisation is: the fields its private and public views share."""

    id: int
    name: str
    acronym: str | None
    legal_form: str | None
    founded: int | None
    website: str | None
    description: str | None


class ClusterOut(ClusterIdentity):
    """A cluster organisation in full (private view)."""

    territories: list[TerritoryOut]
    sectors: list[str]
    sector_group: str | None
    public: bool
    member_count: int
    labels: list[LabelOut]
    bodies: list[BodyOut]
    fundings: list[FundingOut]
    version: int


class NamedCode(Schema):
    """A code of a reference table with its French name (territory or NAF sector)."""

    level: str
    code: str
    name: str


class PublicLabel(Schema):
    """A label a cluster organisation holds or held."""

    kind: LabelKind
    name: str | None
    phase: str | None
    start: dt.date
    end: dt.date | None
    current: bool


class ClusterProfile(ClusterIdentity):
    """The public profile of a cluster organisation (no member, fee or funding data)."""

    sector_group: str | None
    member_count: int
    territories: list[NamedCode]
    sectors: list[NamedCode]
    labels: list[PublicLabel]


class PlatformFigures(Schema):
    """Key figures of the public directory."""

    clusters: int
    members: int
    labelled: int
    regions: int


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


class DirectoryPlace(Schema):
    """A cluster organisation of the directory with its territories (for the directory's map)."""

    id: int
    name: str
    acronym: str | None
    member_count: int
    territories: list[TerritoryOut]


class DirectoryPage(Schema):
    """A page of the public directory."""

    total: int
    items: list[DirectoryEntry]
