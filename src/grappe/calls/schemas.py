"""Pydantic in/out of calls for projects; bounds match the columns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from grappe.calls.models import ApplicantKind, ApplicationStatus

Euros = Annotated[Decimal, Field(ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2)]
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
Tag = Annotated[str, Field(min_length=1, max_length=60)]


class CriterionIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    weight: Decimal = Field(gt=0, le=1, max_digits=6, decimal_places=4)
    guidance: str | None = Field(default=None, max_length=5000)


class CriterionOut(CriterionIn):
    model_config = ConfigDict(from_attributes=True)
    id: int


class CallIn(BaseModel):
    """A call for projects as its funder writes it."""

    title: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20000)
    funder: str | None = Field(default=None, max_length=200, description="Administrateur : le financeur.")
    budget_eur: Euros = Field(gt=0)
    max_request_eur: Euros | None = None
    opens_on: dt.date
    closes_at: dt.datetime
    applicant_kind: ApplicantKind
    rules: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    criteria: list[CriterionIn] = Field(min_length=1, max_length=30)
    scale_max: int = Field(default=20, ge=1, le=100)
    reviewers_per_application: int = Field(default=3, ge=1, le=10)
    disagreement_threshold: Decimal = Field(default=Decimal(4), ge=0, le=100, max_digits=6, decimal_places=2)
    required_documents: list[Tag] = Field(default_factory=list, max_length=20)
    published: bool = False


class CallOut(BaseModel):
    id: int
    funder_id: int
    funder: str
    title: str
    description: str | None
    budget_eur: Decimal
    max_request_eur: Decimal | None
    opens_on: dt.date
    closes_at: dt.datetime
    applicant_kind: ApplicantKind
    rules: list[dict[str, Any]]
    criteria: list[CriterionOut]
    scale_max: int
    reviewers_per_application: int
    disagreement_threshold: Decimal
    required_documents: list[str]
    published: bool
    decided_at: dt.datetime | None
    decision_note: str | None


class CallPage(BaseModel):
    total: int
    items: list[CallOut]


class BudgetLineIn(BaseModel):
    organisation_id: Id
    amount_eur: Euros
    purpose: str | None = Field(default=None, max_length=300)


class BudgetLineOut(BudgetLineIn):
    organisation: str


class ApplicationIn(BaseModel):
    """A draft application: a cluster applies through ``cluster_id``, a consortium through its
    coordinator firm ``organisation_id``."""

    title: str = Field(min_length=1, max_length=300)
    summary: str | None = Field(default=None, max_length=20000)
    cluster_id: Id | None = None
    organisation_id: Id | None = None
    territory: str | None = Field(default=None, max_length=3)
    theme: str | None = Field(default=None, max_length=120)
    tags: list[Tag] = Field(default_factory=list, max_length=30)
    keywords: list[Tag] = Field(default_factory=list, max_length=30)
    budget: list[BudgetLineIn] = Field(default_factory=list, max_length=100)


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    doc_type: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    uploaded_at: dt.datetime


class Verdict(BaseModel):
    rule: str
    ok: bool
    reason: str


class ApplicationOut(BaseModel):
    id: int
    call_id: int
    title: str
    summary: str | None
    cluster_id: int | None
    organisation_id: int | None
    applicant: str
    territory: str | None
    theme: str | None
    tags: list[str]
    keywords: list[str]
    status: ApplicationStatus
    requested_eur: Decimal
    budget: list[BudgetLineOut]
    documents: list[DocumentOut]
    eligible: bool | None
    eligibility: list[Verdict]
    submitted_at: dt.datetime | None
    funded_eur: Decimal | None
    decision_reason: str | None
    version: int


class ApplicationPage(BaseModel):
    total: int
    items: list[ApplicationOut]


class ReviewerIn(BaseModel):
    user_id: Id
    load_cap: int = Field(default=12, ge=0, le=1000)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    keywords: list[Tag] = Field(default_factory=list, max_length=50)


class ReviewerOut(ReviewerIn):
    id: int
    email: str
    organisation_id: int | None


class ReviewerPage(BaseModel):
    total: int
    items: list[ReviewerOut]


class ConflictIn(BaseModel):
    reason: str = Field(min_length=1, max_length=300)
    reviewer_id: Id | None = Field(default=None, description="Le financeur : l'évaluateur concerné.")


class AssignmentRow(BaseModel):
    application_id: int
    reviewer_id: int
    affinity: float


class AssignmentOut(BaseModel):
    call_id: int
    rows: list[AssignmentRow]
    total_affinity: float
    greedy_affinity: float
    greedy_missing: int
    conflicts: int
    seconds: float


class MarkIn(BaseModel):
    criterion_id: Id
    value: Decimal = Field(ge=-1000, le=1000, max_digits=6, decimal_places=2)
    comment: str | None = Field(default=None, max_length=5000)


class ReviewIn(BaseModel):
    marks: list[MarkIn] = Field(min_length=1, max_length=30)


class MarkOut(BaseModel):
    criterion_id: int
    criterion: str
    value: Decimal
    comment: str | None


class ReviewOut(BaseModel):
    application_id: int
    reviewer_id: int
    affinity: float
    submitted_at: dt.datetime | None
    total: float | None
    marks: list[MarkOut]


class ReviewPage(BaseModel):
    total: int
    items: list[ReviewOut]


class ScoreRow(BaseModel):
    application_id: int
    title: str
    applicant: str
    reviews: int
    expected: int
    score: float | None
    normalised_score: float | None
    spread: float
    flagged: bool
    rank: int | None


class ScoreBoard(BaseModel):
    call_id: int
    normalised: bool
    total: int
    items: list[ScoreRow]


class SelectionIn(BaseModel):
    min_score: float | None = Field(default=None, ge=0, le=100)
    partial: bool = False
    max_share: float | None = Field(default=None, gt=0, le=1)
    normalised: bool = False


class SelectedRow(BaseModel):
    application_id: int
    title: str
    score: float
    requested_eur: Decimal
    funded_eur: Decimal


class SelectionOut(BaseModel):
    call_id: int
    budget_eur: Decimal
    spent_eur: Decimal
    total_score: float
    optimal: bool
    greedy_score: float
    greedy_spent_eur: Decimal
    seconds: float
    items: list[SelectedRow]


class FundedIn(BaseModel):
    application_id: Id
    amount_eur: Euros


class DecisionIn(BaseModel):
    """The committee's decision: its justification, and the funded applications (default: the
    exact selection with the options given)."""

    justification: str = Field(min_length=1, max_length=20000)
    funded: list[FundedIn] | None = Field(default=None, max_length=10000)
    selection: SelectionIn = Field(default_factory=SelectionIn)


class DecisionOut(BaseModel):
    call_id: int
    decided_at: dt.datetime
    funded: int
    rejected: int
    spent_eur: Decimal
    items: list[ApplicationOut]
