"""Inputs and outputs of the organisation services: organisations, establishments, contacts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from grappe.registry.bounds import Amount, Int, Text
from grappe.registry.models import (
    Contact,
    Organisation,
    OrganisationKind,
    SizeCategory,
)
from grappe.registry.schemas import (
    EMAIL,
    Schema,
    TypedIdentifier,
    stored,
)

#: Bounds the member import checks too (grappe.registry.memberships.files).
ORGANISATION_NAME = Text(Organisation.name, min_length=1)


class ContactIn(Schema):
    """A person of an organisation; ``directory_consent`` lets members see it."""

    full_name: Annotated[str, Text(Contact.full_name, min_length=1)]
    role: Annotated[str, Text(Contact.role)] | None = None
    email: Annotated[str, Text(Contact.email), Field(pattern=EMAIL)] | None = None
    phone: Annotated[str, Text(Contact.phone)] | None = None
    directory_consent: bool = False


class ContactUpdate(Schema):
    """Changes to a contact: only the fields given change; ``version`` as read."""

    version: Annotated[int, Int(Contact.version, ge=1)]
    full_name: Annotated[str, Text(Contact.full_name, min_length=1)] | None = None
    role: Annotated[str, Text(Contact.role)] | None = None
    email: Annotated[str, Text(Contact.email), Field(pattern=EMAIL)] | None = None
    phone: Annotated[str, Text(Contact.phone)] | None = None
    directory_consent: bool | None = None


if TYPE_CHECKING:
    _ContactStored = ContactIn
else:
    _ContactStored = stored(ContactIn)


class ContactOut(_ContactStored):
    """A contact."""

    id: int
    organisation_id: int
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
