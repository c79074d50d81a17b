"""Inputs and outputs of the invitation services."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from grappe.registry.memberships.schemas import MEMBERSHIP_TYPE
from grappe.registry.models import (
    InvitationStatus,
)
from grappe.registry.schemas import (
    PastDate,
    Schema,
    TypedIdentifier,
)


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
