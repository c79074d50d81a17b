"""Inputs and outputs of calls for partners (pydantic), shared by the CLI, the API and the pages."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final

from grappe.partners.models import Posting, PostingInterest, PostingStatus
from grappe.registry.bounds import PLANNED, Dated, Int, Text
from grappe.registry.schemas import Schema

OrganisationId = Annotated[int, Int(Posting.organisation_id, ge=1)]
#: The longest description of a call (its column is a TEXT).
DESCRIPTION_LENGTH: Final = 8000


class PostingIn(Schema):
    """A call for partners to publish: what is sought, until when (the last day interest is taken).

    ``organisation_id``: the member seeking partners (a member user: its own, by default).
    """

    title: Annotated[str, Text(Posting.title, min_length=1)]
    description: Annotated[str, Text(max_length=DESCRIPTION_LENGTH, min_length=1, multiline=True)]
    deadline: Annotated[dt.date, Dated(PLANNED)]
    organisation_id: OrganisationId | None = None


class PostingOut(Schema):
    """A call for partners as read back; ``interests`` counts the interests the reader may read."""

    id: int
    cluster_id: int
    cluster_name: str
    organisation_id: int
    organisation_name: str
    title: str
    description: str
    deadline: dt.date
    status: PostingStatus
    open: bool
    created_at: dt.datetime
    closed_at: dt.datetime | None
    interests: int
    manages: bool
    version: int


class PostingPage(Schema):
    """A page of calls for partners."""

    total: int
    items: list[PostingOut]


class InterestIn(Schema):
    """An interest in a call: the organisation interested (a member: its own) and a message."""

    organisation_id: OrganisationId | None = None
    message: Annotated[str, Text(PostingInterest.message, multiline=True)] | None = None


class InterestOut(Schema):
    """An interest as read back, with whom the notification went to."""

    id: int
    posting_id: int
    organisation_id: int
    organisation_name: str
    message: str | None
    created_at: dt.datetime


class InterestPage(Schema):
    """A page of interests."""

    total: int
    items: list[InterestOut]


class CloseIn(Schema):
    """Closing a call; ``version`` the one read, when the client checks nobody changed it meanwhile."""

    version: Annotated[int, Int(Posting.version, ge=1)] | None = None
