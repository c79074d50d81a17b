"""Inputs and outputs of the cooperation services (pydantic), shared by the CLI and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Final

from pydantic import Field

from grappe.cooperation.actions.schemas import EventYear, RevenueYear
from grappe.cooperation.models import (
    BusinessDeal,
    CooperationLink,
    DealKind,
    LinkKind,
    LinkSource,
    LinkState,
    Orientation,
    PartnerCategory,
    Programme,
    Project,
    ProjectFunding,
    ProjectKind,
    ProjectLabel,
    ProjectPartner,
    ProjectStatus,
)
from grappe.registry.bounds import ACCOUNTING, PAST, PLANNED, Amount, Dated, Int, Text, Year
from grappe.registry.models import Organisation
from grappe.registry.schemas import Schema

PastDate = Annotated[dt.date, Dated(PAST)]
PlannedDate = Annotated[dt.date, Dated(PLANNED)]
Note = Annotated[str, Text(CooperationLink.note)]
SUMMARY_LENGTH: Final = 20_000
"""Characters of a project's summary at most (a TEXT column, bounded here)."""


# --- import ----------------------------------------------------------------------------------


class ImportIssue(Schema):
    """A reported row of a project import: where (file, line, column, value) and why."""

    file: str
    line: int
    column: str | None
    value: str | None
    reason: str


class ImportMerge(Schema):
    """A spelling of an organisation merged with another one of the same name key and kind."""

    name: str
    merged_into: str
    organisation_id: int | None  # None when nothing was written (--strict with reported rows)
    kind: str


class ImportCounts(Schema):
    """Rows of one file: read = inserted + unchanged (already stored) + reported."""

    file: str
    read: int
    inserted: int
    unchanged: int
    reported: int


class ProjectImportReport(Schema):
    """What a project import did, file by file, with every reported row and every merge."""

    projects: ImportCounts
    partners: ImportCounts
    organisations_created: int
    unnamed_partners: int
    committed: bool
    issues: list[ImportIssue]
    merges: list[ImportMerge]


# --- links -----------------------------------------------------------------------------------


class LinkIn(Schema):
    """A cooperation link to record: ``organisation_a`` supplies (or subcontracts to) ``organisation_b``."""

    organisation_a: Annotated[int, Int(CooperationLink.organisation_a_id, ge=1)]
    organisation_b: Annotated[int, Int(CooperationLink.organisation_b_id, ge=1)]
    kind: LinkKind
    orientations: list[Orientation] = Field(default_factory=list, max_length=len(Orientation))
    start: PlannedDate | None = None
    end: PlannedDate | None = None
    intensity: Annotated[int, Int(CooperationLink.intensity, ge=1, le=5)] | None = None
    amount_eur: Annotated[Decimal, Amount(CooperationLink.amount_eur)] | None = None
    note: Note | None = None


class LinkOut(Schema):
    """A cooperation link as read back."""

    id: int
    cluster_id: int
    organisation_a: int
    organisation_a_name: str
    organisation_b: int
    organisation_b_name: str
    kind: LinkKind
    orientations: list[Orientation]
    start: dt.date | None
    end: dt.date | None
    intensity: int | None
    amount_eur: Decimal | None
    source: LinkSource
    state: LinkState
    declared_by: int | None
    note: str | None


class LinkEnd(Schema):
    """The day a link ends (default today)."""

    end: PlannedDate | None = None


class LinkAnswer(Schema):
    """The other party's answer to a link declared by a member."""

    accept: bool


class LinkPage(Schema):
    """A page of links."""

    total: int
    items: list[LinkOut]


# --- projects --------------------------------------------------------------------------------


class PartnerIn(Schema):
    """A project partner: a stored organisation (``organisation_id``), or one given by name.

    A name is matched with the stored organisations by name key and kind (and SIREN when
    given); an unknown one is created without SIREN. No id and no name (or ``Non
    renseigné``): an unnamed partner row, kept outside the network and the directory.
    """

    organisation_id: Annotated[int, Int(ProjectPartner.organisation_id, ge=1)] | None = None
    name: Annotated[str, Text(Organisation.name, min_length=1)] | None = None
    siren: Annotated[str, Text(max_length=20)] | None = None
    category: PartnerCategory | None = None
    coordinator: bool = False
    town: Annotated[str, Text(ProjectPartner.town)] | None = None
    country: Annotated[str, Text(ProjectPartner.country)] | None = None
    budget_eur: Annotated[Decimal, Amount(ProjectPartner.budget_eur)] | None = None


class FundingIn(Schema):
    """Funding of a project by one funder under one programme."""

    funder: Annotated[str, Text(ProjectFunding.funder, min_length=1)]
    programme: Programme
    amount_eur: Annotated[Decimal, Amount(ProjectFunding.amount_eur)]


class ProjectIn(Schema):
    """A collaborative project to record in a cluster's books."""

    title: Annotated[str, Text(Project.title, min_length=1)]
    acronym: Annotated[str, Text(Project.acronym)] | None = None
    code: Annotated[str, Text(Project.code, min_length=1)] | None = None
    kind: ProjectKind
    status: ProjectStatus = ProjectStatus.IDEA
    summary: Annotated[str, Text(max_length=SUMMARY_LENGTH, multiline=True)] | None = None
    start: PlannedDate | None = None
    end: PlannedDate | None = None
    confidential: bool = False
    partners: list[PartnerIn] = Field(default_factory=list, max_length=500)
    fundings: list[FundingIn] = Field(default_factory=list, max_length=50)
    labelled_by: list[Annotated[int, Int(ProjectLabel.cluster_id, ge=1)]] = Field(
        default_factory=list, max_length=20
    )
    patents: Annotated[int, Int(Project.patents)] | None = None
    products: Annotated[int, Int(Project.products)] | None = None
    jobs: Annotated[int, Int(Project.jobs)] | None = None
    turnover_eur: Annotated[Decimal, Amount(Project.turnover_eur)] | None = None


class StatusIn(Schema):
    """A step of a project's pipeline, dated (default today)."""

    status: ProjectStatus
    on: PastDate | None = None


class PartnerOut(Schema):
    """A partner of a project; ``organisation_id`` None for an unnamed partner."""

    id: int
    organisation_id: int | None
    name: str | None
    category: PartnerCategory | None
    source_category: str | None
    coordinator: bool
    town: str | None
    country: str | None
    budget_eur: Decimal | None


class FundingOut(Schema):
    """Funding of a project."""

    funder: str
    programme: Programme
    amount_eur: Decimal


class TransitionOut(Schema):
    """A dated step of a project's pipeline."""

    status: ProjectStatus
    on: dt.date | None


class ProjectOut(Schema):
    """A project with its partners, fundings, pipeline and results.

    ``inter_cluster``: its named partners are current members of two clusters or more.
    """

    id: int
    cluster_id: int | None
    code: str | None
    acronym: str | None
    title: str
    summary: str | None
    kind: ProjectKind
    status: ProjectStatus
    call: str | None
    edition: int | None
    start: dt.date | None
    end: dt.date | None
    confidential: bool
    inter_cluster: bool
    labelled_by: list[int]
    partners: list[PartnerOut]
    fundings: list[FundingOut]
    transitions: list[TransitionOut]
    patents: int | None
    products: int | None
    jobs: int | None
    turnover_eur: Decimal | None


class ProjectSummary(Schema):
    """A project in a list."""

    id: int
    cluster_id: int | None
    code: str | None
    acronym: str | None
    title: str
    kind: ProjectKind
    status: ProjectStatus
    start: dt.date | None
    confidential: bool


class ProjectPage(Schema):
    """A page of projects."""

    total: int
    items: list[ProjectSummary]


# --- business --------------------------------------------------------------------------------


class DealIn(Schema):
    """Business between two organisations in one year."""

    buyer: Annotated[int, Int(BusinessDeal.buyer_id, ge=1)]
    seller: Annotated[int, Int(BusinessDeal.seller_id, ge=1)]
    year: Annotated[int, Year(ACCOUNTING, BusinessDeal.year)]
    amount_eur: Annotated[Decimal, Amount(BusinessDeal.amount_eur)]
    kind: DealKind = DealKind.GOODS
    brokered: bool = False
    note: Annotated[str, Text(BusinessDeal.note)] | None = None


class DealOut(Schema):
    """A business deal as read back."""

    id: int
    cluster_id: int
    buyer: int
    buyer_name: str
    seller: int
    seller_name: str
    year: int
    amount_eur: Decimal
    kind: DealKind
    brokered: bool
    declared_by: int | None
    note: str | None


class DealPage(Schema):
    """A page of deals."""

    total: int
    items: list[DealOut]


class BusinessYear(Schema):
    """One year of business between organisations of a cluster's books."""

    year: int
    deals: int
    amount_eur: Decimal
    brokered_eur: Decimal
    by_kind: dict[str, Decimal]


class BusinessVolume(Schema):
    """The yearly volume of business and its breakdown (by kind, brokered or not)."""

    cluster_id: int
    years: list[BusinessYear]


class CooperationFigures(Schema):
    """A cluster's cooperation in figures: what its funders read (no record, no name).

    Projects by status and their funding by programme, inter-cluster projects, links by state,
    yearly business between members, events and attendance per year, and the yearly revenue
    of the services sold to members.
    """

    cluster_id: int
    projects_by_status: dict[str, int]
    project_funding_eur: Decimal
    funding_by_programme: dict[str, Decimal]
    inter_cluster_projects: int
    links_by_state: dict[str, int]
    business: list[BusinessYear]
    events: list[EventYear]
    services: list[RevenueYear]


# --- the network -------------------------------------------------------------------------------

#: Measures a network page may be ordered by (descending), the network module's columns.
NETWORK_ORDERS: Final = (
    "degree", "weighted_degree", "betweenness", "eigenvector", "coreness", "community", "organisation",
)


class MeasureOut(Schema):
    """One organisation's measures in a network (see :mod:`grappe.cooperation.network`)."""

    organisation_id: int
    organisation: str
    kind: str | None
    size_category: str | None
    member: bool
    degree: int
    weighted_degree: float
    betweenness: float
    eigenvector: float
    community: int
    coreness: int
    core: bool
    broker: bool


class DependenceOut(Schema):
    """What the network loses without its most connected organisations."""

    top: int
    removed: list[int]
    ties_lost_share: float
    largest_component_before: float
    largest_component_after: float
    components_after: int


class NetworkSummaryOut(Schema):
    """Graph-level figures of a network."""

    organisations: int
    ties: int
    density: float
    components: int
    core_k: int
    core_size: int
    sme_share_in_core: float | None
    isolated_members: list[int]
    peripheral_members: list[int]
    brokers: list[int]
    dependence: DependenceOut


class Change(Schema):
    """A figure in two periods."""

    before: float | None
    after: float | None


class NetworkChangeOut(Schema):
    """The change of the network from the compared period (``before``) to the analysed one."""

    before_start: dt.date | None
    before_end: dt.date | None
    joined: list[int]
    left: list[int]
    ties_new: int
    ties_kept: int
    ties_ended: int
    organisations: Change
    ties: Change
    density: Change
    components: Change
    core_size: Change
    sme_share_in_core: Change
    dependence: Change
    largest_component_without_top: Change


class NetworkPage(Schema):
    """A page of a network's measures with its summary (and its change when one was asked)."""

    total: int
    items: list[MeasureOut]
    layers: list[str]
    start: dt.date | None
    end: dt.date | None
    betweenness_samples: int | None
    summary: NetworkSummaryOut
    change: NetworkChangeOut | None = None
