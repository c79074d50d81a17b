"""Pydantic in/out of calls for projects; every request field is bounded by its column
(:mod:`grappe.registry.bounds`), responses carry plain fields (what is stored reads back)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from grappe.calls.models import (
    ApplicantKind,
    Application,
    ApplicationDocument,
    ApplicationStatus,
    BudgetLine,
    Call,
    CallCriterion,
    DeclaredConflict,
    ReviewerProfile,
    ReviewScore,
)
from grappe.registry.bounds import PLANNED, Amount, Dated, DateRule, Int, Text, Timed
from grappe.registry.models import Funder

LONG_TEXT: Final = 20_000
"""Characters of a call's description, an application's summary, a decision's justification
at most (TEXT columns, bounded here)."""
NOTE_TEXT: Final = 5_000
"""Characters of a criterion's guidance and a mark's comment at most (TEXT columns)."""
CLOSING: Final = DateRule(100)
"""A call closes up to a century ahead (standing calls); further is a typo."""

Tag = Annotated[str, Text(None, max_length=60, min_length=1)]  # items of a JSON list
DocType = Annotated[str, Text(ApplicationDocument.doc_type, min_length=1)]
Threshold = Annotated[Decimal, Amount(Call.disagreement_threshold), Field(le=100)]


class RuleIn(BaseModel):
    """One declarative eligibility rule, as documented in :mod:`grappe.calls.eligibility`:
    ``{"rule": "min_members", "min": 10}``, ``{"rule": "min_sme_share", "min": 0.6}``,
    ``{"rule": "region", "code": "84"}``. The name and which parameter each rule takes are
    checked by :func:`grappe.calls.eligibility.parse_rules` (French message naming the rule's
    position); here every value is bounded."""

    model_config = ConfigDict(extra="forbid")

    rule: Annotated[str, Text(None, max_length=40, min_length=1)]
    min: float | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        allow_inf_nan=False,
        strict=True,
        description="Un nombre minimal (entier ≥ 1) ou une part (de 0 à 1).",
    )
    code: Annotated[str, Text(Application.territory, min_length=1)] | None = Field(
        default=None, description="Un code de région du COG (ex. : 84)."
    )

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, value: Any) -> Any:
        # A région code may be written as a JSON number (84), as parse_rules accepts it.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def as_rule(self) -> dict[str, Any]:
        """The rule as :func:`~grappe.calls.eligibility.parse_rules` reads it (a whole ``min``
        is an integer: counts are integers)."""
        rule: dict[str, Any] = {"rule": self.rule}
        if self.min is not None:
            rule["min"] = int(self.min) if self.min.is_integer() else self.min
        if self.code is not None:
            rule["code"] = self.code
        return rule


class CriterionIn(BaseModel):
    name: Annotated[str, Text(CallCriterion.name, min_length=1)]
    weight: Annotated[Decimal, Amount(CallCriterion.weight, positive=True), Field(le=1)]
    guidance: Annotated[str, Text(None, max_length=NOTE_TEXT, multiline=True)] | None = None


class CriterionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    weight: Decimal
    guidance: str | None


class CallIn(BaseModel):
    """A call for projects as its funder writes it."""

    title: Annotated[str, Text(Call.title, min_length=1)]
    description: Annotated[str, Text(None, max_length=LONG_TEXT, multiline=True)] | None = None
    funder: Annotated[str, Text(Funder.name)] | None = Field(
        default=None, description="Administrateur : le financeur."
    )
    budget_eur: Annotated[Decimal, Amount(Call.budget_eur, positive=True)]
    max_request_eur: Annotated[Decimal, Amount(Call.max_request_eur, positive=True)] | None = None
    opens_on: Annotated[dt.date, Dated(PLANNED)]
    closes_at: Annotated[dt.datetime, Timed(CLOSING)]
    applicant_kind: ApplicantKind
    rules: list[RuleIn] = Field(default_factory=list, max_length=50)
    criteria: list[CriterionIn] = Field(min_length=1, max_length=30)
    scale_max: Annotated[int, Int(Call.scale_max, ge=1, le=100)] = 20
    reviewers_per_application: Annotated[int, Int(Call.reviewers_per_application, ge=1, le=10)] = 3
    disagreement_threshold: Threshold = Decimal(4)
    required_documents: list[DocType] = Field(default_factory=list, max_length=20)
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
    organisation_id: Annotated[int, Int(BudgetLine.organisation_id, ge=1)]
    amount_eur: Annotated[Decimal, Amount(BudgetLine.amount_eur)]
    purpose: Annotated[str, Text(BudgetLine.purpose)] | None = None


class BudgetLineOut(BaseModel):
    organisation_id: int
    amount_eur: Decimal
    purpose: str | None
    organisation: str


class ApplicationIn(BaseModel):
    """A draft application: a cluster applies through ``cluster_id``, a consortium through its
    coordinator firm ``organisation_id``."""

    title: Annotated[str, Text(Application.title, min_length=1)]
    summary: Annotated[str, Text(None, max_length=LONG_TEXT, multiline=True)] | None = None
    cluster_id: Annotated[int, Int(Application.cluster_id, ge=1)] | None = None
    organisation_id: Annotated[int, Int(Application.organisation_id, ge=1)] | None = None
    territory: Annotated[str, Text(Application.territory)] | None = None
    theme: Annotated[str, Text(Application.theme)] | None = None
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
    user_id: Annotated[int, Int(ReviewerProfile.user_id, ge=1)]
    load_cap: Annotated[int, Int(ReviewerProfile.load_cap, ge=0, le=1000)] = 12
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    keywords: list[Tag] = Field(default_factory=list, max_length=50)


class ReviewerOut(BaseModel):
    user_id: int
    load_cap: int
    tags: list[str]
    keywords: list[str]
    id: int
    email: str
    organisation_id: int | None


class ReviewerPage(BaseModel):
    total: int
    items: list[ReviewerOut]


class ConflictIn(BaseModel):
    reason: Annotated[str, Text(DeclaredConflict.reason, min_length=1)]
    reviewer_id: Annotated[int, Int(DeclaredConflict.reviewer_id, ge=1)] | None = Field(
        default=None, description="Le financeur : l'évaluateur concerné."
    )


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
    criterion_id: Annotated[int, Int(ReviewScore.criterion_id, ge=1)]
    value: Annotated[Decimal, Amount(ReviewScore.value)]
    comment: Annotated[str, Text(None, max_length=NOTE_TEXT, multiline=True)] | None = None


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
    min_score: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False)
    partial: bool = False
    # strictly positive (gt) and at most the whole budget
    max_share: float | None = Field(default=None, gt=0, ge=0, le=1, allow_inf_nan=False)
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
    application_id: Annotated[int, Int(Application.id, ge=1)]
    amount_eur: Annotated[Decimal, Amount(Application.funded_eur)]


class DecisionIn(BaseModel):
    """The committee's decision: its justification, and the funded applications (default: the
    exact selection with the options given)."""

    justification: Annotated[str, Text(None, max_length=LONG_TEXT, min_length=1, multiline=True)]
    funded: list[FundedIn] | None = Field(default=None, max_length=10000)
    selection: SelectionIn = Field(default_factory=SelectionIn)


class DecisionOut(BaseModel):
    call_id: int
    decided_at: dt.datetime
    funded: int
    rejected: int
    spent_eur: Decimal
    items: list[ApplicationOut]
