"""Evaluation in and out: contracts, indicator values, scorecards, benchmarks (pydantic)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Ge, Gt, Le
from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, field_validator, model_validator

from grappe.evaluation.indicators import BY_CODE
from grappe.evaluation.models import Area, ContractIndicator, ContractTarget, ObjectivesContract
from grappe.evaluation.scoring import DEFAULT_SHARE_AT_STAKE
from grappe.registry.bounds import ACCOUNTING, PAST, Amount, Dated, Int, Text, Year

YearField = Annotated[int, Field(ge=1990, le=2100)]
IdField = Annotated[int, Field(ge=1, le=2_147_483_647)]
# Numeric(18, 4): up to 10^14 in absolute value.
# Bounds as plain metadata (not a Field) so they stay visible where the type is nested.
ValueField = Annotated[float, Ge(-1e13), Le(1e13), AllowInfNan(False)]


def _known(code: str) -> str:
    if code not in BY_CODE:
        raise ValueError(f"indicateur « {code} » inconnu (attendu l'un de {', '.join(BY_CODE)})")
    return code


class ContractTargetIn(BaseModel):
    """One yearly target of a contract indicator."""

    model_config = ConfigDict(extra="forbid")
    year: Annotated[int, Year(ACCOUNTING, ContractTarget.year)]
    target: ValueField


class ContractIndicatorIn(BaseModel):
    """One indicator of a contract: baseline, weight and yearly targets.

    ``targets`` is a list of ``{year, target}``; the mapping ``{year: target}`` of earlier
    versions (and of the targets table) is still accepted and read as that list.
    """

    model_config = ConfigDict(extra="forbid")
    indicator: Annotated[str, Text(ContractIndicator.indicator, min_length=1)]
    baseline: ValueField | None = None
    weight: Annotated[float, Gt(0), Ge(0), Le(10_000), AllowInfNan(False)] = 1.0
    targets: list[ContractTargetIn] = Field(min_length=1, max_length=50)

    _check = field_validator("indicator")(_known)

    @field_validator("targets", mode="before")
    @classmethod
    def _from_mapping(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return [{"year": year, "target": target} for year, target in value.items()]
        return value

    @field_validator("targets")
    @classmethod
    def _one_per_year(cls, value: list[ContractTargetIn]) -> list[ContractTargetIn]:
        years = [row.year for row in value]
        twice = next((year for year in years if years.count(year) > 1), None)
        if twice is not None:
            raise ValueError(f"deux cibles pour l'année {twice}")
        return sorted(value, key=lambda row: row.year)

    def target_by_year(self) -> dict[int, float]:
        """The targets as ``{year: target}``, years in order."""
        return {row.year: row.target for row in self.targets}


class ContractIn(BaseModel):
    """An objectives contract to create (the funder defaults to the acting funder)."""

    model_config = ConfigDict(extra="forbid")
    cluster_id: Annotated[int, Int(ObjectivesContract.cluster_id, ge=1)]
    funder_id: Annotated[int, Int(ObjectivesContract.funder_id, ge=1)] | None = None
    call_id: Annotated[int, Int(ObjectivesContract.call_id, ge=1)] | None = None
    title: Annotated[str, Text(ObjectivesContract.title, min_length=1)]
    start_year: Annotated[int, Year(ACCOUNTING, ObjectivesContract.start_year)]
    end_year: Annotated[int, Year(ACCOUNTING, ObjectivesContract.end_year)]
    amount_eur: Annotated[Decimal, Amount(ObjectivesContract.amount_eur)]
    share_at_stake: Annotated[Decimal, Amount(ObjectivesContract.share_at_stake), Field(le=1)] = (
        DEFAULT_SHARE_AT_STAKE
    )
    signed_on: Annotated[dt.date, Dated(PAST)] | None = None
    indicators: list[ContractIndicatorIn] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _coherent(self) -> ContractIn:
        if self.end_year < self.start_year:
            raise ValueError(f"période : fin {self.end_year} avant début {self.start_year}")
        seen: set[str] = set()
        for row in self.indicators:
            if row.indicator in seen:
                raise ValueError(f"indicateur « {row.indicator} » en double")
            seen.add(row.indicator)
            outside = [t.year for t in row.targets if not self.start_year <= t.year <= self.end_year]
            if outside:
                raise ValueError(
                    f"indicateur « {row.indicator} » : cible hors de la période "
                    f"{self.start_year}–{self.end_year} (année {outside[0]})"
                )
        return self


class ContractIndicatorOut(BaseModel):
    indicator: str
    name: str
    baseline: float | None
    weight: float
    targets: dict[int, float]


class ContractOut(BaseModel):
    id: int
    cluster_id: int
    cluster_name: str
    funder_id: int
    funder_name: str
    call_id: int | None
    title: str
    start_year: int
    end_year: int
    amount_eur: Decimal
    share_at_stake: Decimal
    signed_on: dt.date | None
    version: int
    indicators: list[ContractIndicatorOut]


class ContractPage(BaseModel):
    total: int
    items: list[ContractOut]


class IndicatorResult(BaseModel):
    """One indicator of a contract year: target, actual value, achievement."""

    indicator: str
    name: str
    baseline: float | None
    target: float
    actual: float | None
    declared: bool
    achievement: float
    weight: float


class ContractYear(BaseModel):
    """A contract's year: its indicators against their targets and the results-based funding."""

    contract_id: int
    year: int
    yearly_amount_eur: Decimal
    at_stake_eur: Decimal
    achievement: float
    paid_eur: Decimal
    indicators: list[IndicatorResult]


class IndicatorDefinition(BaseModel):
    code: str
    name: str
    definition: str
    source: str
    unit: str
    higher_is_better: bool
    green: float
    amber: float


class IndicatorValue(BaseModel):
    indicator: str
    name: str
    unit: str
    value: float | None
    declared: bool
    evidence_name: str | None = None


class IndicatorValues(BaseModel):
    """Every indicator of one cluster for a year."""

    cluster_id: int
    cluster_name: str
    year: int
    total: int
    items: list[IndicatorValue]


class DeclareIn(BaseModel):
    """A value declared by a cluster for an indicator and a year (evidence sent beside)."""

    model_config = ConfigDict(extra="forbid")
    indicator: str
    year: YearField
    value: ValueField

    _check = field_validator("indicator")(_known)


class SelfAssessmentIn(BaseModel):
    """The management's mark of one area for a year (evidence sent beside)."""

    model_config = ConfigDict(extra="forbid")
    area: Area
    year: YearField
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str | None, Field(max_length=2000)] = None


class Reading(BaseModel):
    """An indicator read on a scorecard: value, colour, rank among peers."""

    indicator: str
    name: str
    unit: str
    value: float | None
    declared: bool
    colour: str
    percentile: float | None
    peer_median: float | None


class MarkOut(BaseModel):
    mark: str
    name: str
    seed: str
    colour: str
    items: list[Reading]


class AreaOut(BaseModel):
    """One area of the management self-assessment (inspired by ESCA), with derived indicators."""

    area: str
    name: str
    score: int | None
    comment: str | None
    evidence_name: str | None
    items: list[Reading]


class PeerGroup(BaseModel):
    label: str | None
    sector: str | None
    size_band: str | None
    count: int


class Scorecard(BaseModel):
    cluster_id: int
    cluster_name: str
    year: int
    peers: PeerGroup
    marks: list[MarkOut]
    areas: list[AreaOut]


class PeerValue(BaseModel):
    name: str
    value: float | None
    percentile: float | None
    is_self: bool


class DistributionOut(BaseModel):
    count: int
    minimum: float | None
    q1: float | None
    median: float | None
    q3: float | None
    maximum: float | None
    mean: float | None


class Benchmark(BaseModel):
    """An indicator of a cluster against its peers (peers listed in ``items``)."""

    cluster_id: int
    cluster_name: str
    indicator: str
    name: str
    year: int
    value: float | None
    percentile: float | None
    peers: PeerGroup
    distribution: DistributionOut
    total: int
    items: list[PeerValue]
