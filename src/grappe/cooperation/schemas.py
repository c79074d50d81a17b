"""Inputs and outputs of the cooperation services (pydantic), shared by the CLI and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import Field

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
    ProjectPartner,
    ProjectStatus,
)
from grappe.registry.bounds import PAST, PLANNED, Amount, Dated, Int, Text, Year
from grappe.registry.schemas import Schema

PastDate = Annotated[dt.date, Dated(PAST)]
PlannedDate = Annotated[dt.date, Dated(PLANNED)]
Note = Annotated[str, Text(CooperationLink.note)]


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
