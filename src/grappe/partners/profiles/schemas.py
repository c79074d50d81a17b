"""Inputs and outputs of profiles, interclustering and the partner search (pydantic)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Final

from pydantic import Field

from grappe.partners.models import PartnerProfile, Posting, ProfileTag, Visibility
from grappe.registry.bounds import Int, Text
from grappe.registry.models import Organisation
from grappe.registry.schemas import Schema


class ProfileField(StrEnum):
    """A field of a profile that carries its own visibility."""

    CAPABILITIES = "capabilities"
    PRODUCTS = "products"
    TECHNOLOGIES = "technologies"
    EQUIPMENT = "equipment"
    NEEDS = "needs"
    MARKETS = "markets"
    KEYWORDS = "keywords"
    TAGS = "tags"


#: French names of the fields, as pages and messages say them.
FIELD_LABELS: Final[dict[ProfileField, str]] = {
    ProfileField.CAPABILITIES: "savoir-faire",
    ProfileField.PRODUCTS: "produits",
    ProfileField.TECHNOLOGIES: "technologies",
    ProfileField.EQUIPMENT: "équipements",
    ProfileField.NEEDS: "besoins",
    ProfileField.MARKETS: "marchés",
    ProfileField.KEYWORDS: "mots-clés",
    ProfileField.TAGS: "étiquettes",
}

#: The visibility of a field nobody set: the cluster's members read it.
DEFAULT_VISIBILITY: Final = Visibility.CLUSTER

ProfileText = Annotated[str, Text(PartnerProfile.capabilities, multiline=True)]
OrganisationId = Annotated[int, Int(Posting.organisation_id, ge=1)]
ClusterId = Annotated[int, Int(Posting.cluster_id, ge=1)]


class FieldVisibilities(Schema):
    """The visibilities a profile edit sets, one per profile field (unnamed or ``None``: unchanged).

    Sent as before, an object from field name to visibility: ``{"needs": "manager"}``.
    """

    capabilities: Visibility | None = None
    products: Visibility | None = None
    technologies: Visibility | None = None
    equipment: Visibility | None = None
    needs: Visibility | None = None
    markets: Visibility | None = None
    keywords: Visibility | None = None
    tags: Visibility | None = None

    def items(self) -> Iterator[tuple[ProfileField, Visibility]]:
        """The visibilities set, field by field (as a ``dict[ProfileField, Visibility]`` would)."""
        for field in ProfileField:
            level = getattr(self, field.value)
            if level is not None:
                yield field, level

    def __bool__(self) -> bool:
        return any(True for _ in self.items())


class ProfileIn(Schema):
    """Changes to a profile: only the fields given change (``None`` empties a text field).

    ``visibility`` sets the visibility of the fields it names; ``consent`` is the
    organisation's own (its users give it); ``version`` is the one read, when the client
    checks that nobody changed the profile meanwhile.
    """

    capabilities: ProfileText | None = None
    products: ProfileText | None = None
    technologies: ProfileText | None = None
    equipment: ProfileText | None = None
    needs: ProfileText | None = None
    markets: ProfileText | None = None
    keywords: ProfileText | None = None
    tags: Annotated[list[ProfileTag], Field(max_length=len(ProfileTag))] | None = None
    visibility: FieldVisibilities | None = None
    consent: bool | None = None
    version: Annotated[int, Int(PartnerProfile.version, ge=1)] | None = None


class Enrichment(Schema):
    """What grappe knows of the organisation without asking it: the registry and the fabric
    (sector, size, place) and its cooperation history (projects and links it may show)."""

    naf: str | None
    naf_label: str | None
    size_category: str | None
    commune: str | None
    town: str | None
    departement: str | None
    in_fabric: bool
    fabric_checked_on: dt.date | None
    projects: int
    project_partners: int
    links: int
    events: int
    recent_projects: list[str]


class ProfileOut(Schema):
    """A profile as one reader reads it: the fields it may not read are ``None``.

    ``level`` is the deepest visibility the reader reads; ``visibility`` and ``consent`` are
    given to those who edit the profile (``editable``).
    """

    organisation_id: int
    organisation_name: str
    level: Visibility
    editable: bool
    may_consent: bool
    consent: bool | None
    stored: bool
    capabilities: str | None
    products: str | None
    technologies: str | None
    equipment: str | None
    needs: str | None
    markets: str | None
    keywords: str | None
    tags: list[ProfileTag] | None
    visibility: dict[ProfileField, Visibility] | None
    enrichment: Enrichment
    version: int | None
    updated_at: dt.datetime | None


class SharingIn(Schema):
    """A cluster's interclustering opt-in: every cluster, or the ones named (empty: nobody)."""

    all_clusters: bool = False
    clusters: Annotated[list[ClusterId], Field(max_length=500)] = Field(default_factory=list)


class SharingOut(Schema):
    """Whom a cluster shares its members' public profiles and calls with, and who shares with it."""

    cluster_id: int
    all_clusters: bool
    clusters: list[int]
    shared_with_us: list[int]


class InterclusterFigures(Schema):
    """Inter-cluster cooperation of a cluster in a year, for its evaluation.

    ``projects``: cooperation projects running in the year (or of that call's edition when
    undated) with a partner member of the cluster and a partner member of another cluster;
    ``partner_clusters``: those other clusters; ``shares_with``: clusters it shares its
    members' profiles with (None: every cluster); ``shared_with_us``: clusters sharing with it.
    """

    cluster_id: int
    year: int
    projects: int
    project_ids: list[int]
    partner_clusters: list[int]
    shares_with: list[int] | None
    shared_with_us: list[int]


class SearchScope(StrEnum):
    """Among whom a search looks: the searcher's clusters, plus those sharing with them, plus everyone."""

    CLUSTER = "cluster"
    CLUSTERS = "clusters"
    ALL = "all"


#: The most codes one filter takes.
MAX_CODES: Final = 50
#: The longest département code a territory filter takes (``2A``, ``971``; room for more).
TERRITORY_LENGTH: Final = 10


Sectors = Annotated[list[Annotated[str, Text(Organisation.naf, min_length=1)]], Field(max_length=MAX_CODES)]
Territories = Annotated[
    list[Annotated[str, Text(max_length=TERRITORY_LENGTH, min_length=1)]], Field(max_length=MAX_CODES)
]
Sizes = Annotated[
    list[Annotated[str, Text(Organisation.size_category, min_length=1)]], Field(max_length=MAX_CODES)
]
Kinds = Annotated[list[Annotated[str, Text(Organisation.kind, min_length=1)]], Field(max_length=MAX_CODES)]
#: The longest search text.
SEARCH_TEXT_LENGTH: Final = 2000


class SearchIn(Schema):
    """A partner search: a French text, an organisation (by id), or both, with filters.

    ``sectors``: NAF code prefixes (``25``, ``25.62``); ``territories``: département codes;
    ``sizes``: size categories (``TPE``, ``PME``, ``ETI``, ``GE``); ``kinds``: organisation kinds.
    """

    text: Annotated[str, Text(max_length=SEARCH_TEXT_LENGTH)] = ""
    organisation_id: OrganisationId | None = None
    scope: SearchScope = SearchScope.CLUSTERS
    sectors: Sectors = Field(default_factory=list)
    territories: Territories = Field(default_factory=list)
    sizes: Sizes = Field(default_factory=list)
    kinds: Kinds = Field(default_factory=list)
    # How many organisations to suggest: no column of its own, bounded within the organisations' ids'.
    top: Annotated[int, Int(Organisation.id, ge=1, le=100)] = 10


class SuggestionOut(Schema):
    """One suggested partner with its score in [0, 1] and its French reasons."""

    rank: int
    organisation_id: int
    name: str
    score: float
    reasons: list[str]


class SearchOut(Schema):
    """The suggestions of a search, best first."""

    total: int
    items: list[SuggestionOut]
