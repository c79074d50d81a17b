"""What users do with partner profiles: read and fill them in, enrich them from the fabric, choose
whom a cluster shares them with (interclustering), search partners over what the searcher may read,
and count inter-cluster projects for evaluation.

Every operation checks the actor's rights through :mod:`grappe.partners.policy`; the SQL lives in
:mod:`grappe.partners.profiles.repository` and :mod:`grappe.partners.sharing`; the caller's unit
of work commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from grappe.errors import InputError, NotFoundError
from grappe.partners import policy, sharing
from grappe.partners.models import PROFILE_FIELDS, ClusterSharing, PartnerProfile, ProfileTag, Visibility
from grappe.partners.profiles.repository import ProfileRepository
from grappe.partners.profiles.schemas import (
    Enrichment,
    InterclusterFigures,
    ProfileField,
    ProfileIn,
    ProfileOut,
    SearchIn,
    SearchOut,
    SearchScope,
    SharingIn,
    SharingOut,
    SuggestionOut,
)
from grappe.registry.models import Organisation, Role
from grappe.registry.policy import Access, Actor, cluster_access, deny, require_cluster

#: What the fabric knows of SIRETs and SIRENs (:func:`grappe.registry.fabric_link.lookup`).
FabricLookup = Callable[[Sequence[str], Sequence[str], Path | None], Mapping[str, Mapping[str, Any]]]


def _departement(commune: str | None) -> str | None:
    if not commune:
        return None
    return commune[:3] if commune.startswith("97") else commune[:2]


def _naf_label(code: str | None) -> str | None:
    from grappe.refdata import naf

    if not code:
        return None
    try:
        return naf.label(code)
    except InputError:  # a code the registry kept from an older nomenclature
        return None


def _enrichment(
    repository: ProfileRepository, org: Organisation, profile: PartnerProfile | None, every_project: bool
) -> Enrichment:
    history = repository.history(org.id, every_project=every_project)
    naf = org.naf or (profile.fabric_naf if profile else None)
    commune = org.commune or (profile.fabric_commune if profile else None)
    return Enrichment(
        naf=naf,
        naf_label=_naf_label(naf),
        size_category=org.size_category,
        commune=commune,
        town=org.town,
        departement=_departement(commune),
        in_fabric=org.in_fabric,
        fabric_checked_on=profile.fabric_checked_on if profile else None,
        projects=history.projects,
        project_partners=history.project_partners,
        links=history.links,
        events=history.events,
        recent_projects=history.recent_projects,
    )


def _out(
    session: Session,
    actor: Actor,
    org: Organisation,
    profile: PartnerProfile | None,
    level: Visibility,
) -> ProfileOut:
    editable = policy.may_edit(session, actor, org.id)
    fields: dict[str, Any] = dict.fromkeys(PROFILE_FIELDS)
    if profile is not None:
        fields.update(policy.readable_fields(profile, level))
    tags = fields.pop("tags")
    known = {tag.value for tag in ProfileTag}
    return ProfileOut(
        organisation_id=org.id,
        organisation_name=org.name,
        level=level,
        editable=editable,
        may_consent=policy.may_consent(actor, org.id),
        consent=(profile.consent if profile else False) if editable else None,
        stored=profile is not None,
        **fields,
        tags=None
        if tags is None and profile is not None
        else [ProfileTag(t) for t in tags or () if t in known],
        visibility={
            ProfileField(f): policy.field_visibility(profile, f) if profile else Visibility.CLUSTER
            for f in PROFILE_FIELDS
        }
        if editable
        else None,
        enrichment=_enrichment(ProfileRepository(session), org, profile, level is Visibility.MANAGER),
        version=profile.version if profile else None,
        updated_at=profile.updated_at if profile else None,
    )


def _organisation(repository: ProfileRepository, organisation_id: int) -> Organisation:
    org = repository.organisation(organisation_id)
    if org is None:
        raise NotFoundError(f"organisation {organisation_id} introuvable")
    return org


def get_profile(session: Session, actor: Actor, organisation_id: int) -> ProfileOut:
    """An organisation's profile, the fields the actor may read (rules: :mod:`grappe.partners.policy`).

    Raises
    ------
    NotFoundError
        The organisation does not exist, or the actor may read nothing of its profile.
    """
    profiles = ProfileRepository(session)
    org = _organisation(profiles, organisation_id)
    profile = profiles.find(organisation_id)
    level = policy.read_level(session, actor, organisation_id, bool(profile and profile.consent))
    return _out(session, actor, org, profile, level)


def _editable(session: Session, actor: Actor, organisation_id: int, action: str) -> None:
    """Raise unless the actor fills this profile in (404 when it reads nothing of it)."""
    if policy.may_edit(session, actor, organisation_id):
        return
    consent = bool((p := ProfileRepository(session).find(organisation_id)) and p.consent)
    policy.read_level(session, actor, organisation_id, consent)
    raise deny(actor, f"{action} (organisation {organisation_id})")


def update_profile(session: Session, actor: Actor, organisation_id: int, data: ProfileIn) -> ProfileOut:
    """Fill in or change a profile: the fields given change, the others stay.

    Raises
    ------
    PermissionDeniedError
        The actor reads the profile but may not change it, or gives consent for another
        organisation than its own (a manager fills the profile in, the organisation consents).
    ConflictError
        ``version`` is no longer the profile's.
    """
    profiles = ProfileRepository(session)
    org = _organisation(profiles, organisation_id)
    _editable(session, actor, organisation_id, "modifier le profil")
    profile = profiles.find(organisation_id, lock=True)
    given = data.model_fields_set
    if data.version is not None:
        if profile is None:
            raise InputError(
                f"version={data.version} : le profil de l'organisation {organisation_id} n'existe pas encore"
            )
        profiles.check_version(_Versioned(organisation_id, profile.version), data.version)
    if profile is None:
        profile = profiles.add(
            PartnerProfile(organisation_id=organisation_id, tags=[], visibility={}, consent=False)
        )
    for field in PROFILE_FIELDS:
        if field == "tags":
            if "tags" in given:
                profile.tags = [tag.value for tag in dict.fromkeys(data.tags or [])]
        elif field in given:
            value = getattr(data, field)
            setattr(profile, field, value.strip() or None if isinstance(value, str) else None)
    if "visibility" in given and data.visibility:
        profile.visibility = {
            **(profile.visibility or {}),
            **{f.value: v.value for f, v in data.visibility.items()},
        }
    if "consent" in given and data.consent is not None and data.consent != profile.consent:
        if not policy.may_consent(actor, organisation_id):
            raise deny(
                actor,
                f"donner ou retirer le consentement de l'organisation {organisation_id} "
                "(c'est à l'adhérent lui-même de le faire)",
            )
        profile.consent = data.consent
        profile.consent_on = dt.date.today() if data.consent else None
    profiles.flush()
    return _out(session, actor, org, profile, Visibility.MANAGER)


class _Versioned:
    """What the kit's version check reads of an object: its id and version."""

    def __init__(self, object_id: int, version: int) -> None:
        self.id, self.version = object_id, version


def enrich_from_fabric(
    session: Session,
    actor: Actor,
    organisation_id: int,
    *,
    store: Path | None = None,
    lookup: FabricLookup | None = None,
) -> ProfileOut:
    """Record what the productive fabric says of the organisation (NAF, commune, size band).

    The organisation's SIREN (else its establishments' SIRETs) is looked up in the fabric store
    (``store``, default the settings' one) through :func:`grappe.registry.fabric_link.lookup`;
    the profile keeps the answer and the day it was read, and shows it where the registry has
    nothing.

    Raises
    ------
    InputError
        The organisation has neither SIREN nor SIRET, or the fabric does not know it.
    """
    profiles = ProfileRepository(session)
    org = _organisation(profiles, organisation_id)
    _editable(session, actor, organisation_id, "enrichir le profil")
    sirets = [e.siret for e in org.establishments]
    sirens = [org.siren] if org.siren else []
    if not sirets and not sirens:
        raise InputError(
            f"organisation {organisation_id} : ni SIREN ni SIRET, le tissu productif ne peut la trouver"
        )
    if lookup is None:
        from grappe.registry.fabric_link import lookup as fabric_lookup

        lookup = fabric_lookup
    found = lookup(sirets, sirens, store)
    info = next((found[key] for key in (*sirens, *sirets) if key in found), None)
    if info is None:
        raise InputError(
            f"organisation {organisation_id} : inconnue du tissu productif "
            f"(SIREN {', '.join(sirens) or '—'}, SIRET {', '.join(sirets) or '—'})"
        )
    profile = profiles.find(organisation_id, lock=True) or profiles.add(
        PartnerProfile(organisation_id=organisation_id, tags=[], visibility={}, consent=False)
    )
    profile.fabric_naf = info.get("naf") or None
    profile.fabric_commune = info.get("commune") or None
    profile.fabric_size_band = info.get("size_band") or None
    profile.fabric_checked_on = dt.date.today()
    profiles.flush()
    return _out(session, actor, org, profile, Visibility.MANAGER)


# --- interclustering --------------------------------------------------------------------------------


def _sharing_out(session: Session, cluster_id: int) -> SharingOut:
    row = sharing.opt_in(session, cluster_id)
    return SharingOut(
        cluster_id=cluster_id,
        all_clusters=bool(row and row.all_clusters),
        clusters=sharing.named_partners(session, cluster_id) if row else [],
        shared_with_us=sorted(sharing.sharing_with(session, {cluster_id})),
    )


def get_sharing(session: Session, actor: Actor, cluster_id: int) -> SharingOut:
    """Whom a cluster shares its members' public profiles and calls for partners with."""
    policy.require_sharing(session, actor, cluster_id, change=False)
    return _sharing_out(session, cluster_id)


def set_sharing(session: Session, actor: Actor, cluster_id: int, data: SharingIn) -> SharingOut:
    """Opt a cluster in (or out) of interclustering: share with every cluster or the ones named.

    Raises
    ------
    NotFoundError
        A named cluster the actor does not know.
    InputError
        The cluster names itself.
    """
    policy.require_sharing(session, actor, cluster_id, change=True)
    for partner in data.clusters:
        if partner == cluster_id:
            raise InputError(f"clusters : la structure {cluster_id} n'a pas à partager avec elle-même")
        if cluster_access(session, actor, partner) is Access.NONE:
            raise NotFoundError(f"structure {partner} introuvable")
    row = sharing.opt_in(session, cluster_id)
    if row is None:
        row = ClusterSharing(cluster_id=cluster_id, all_clusters=data.all_clusters)
        session.add(row)
    row.all_clusters = data.all_clusters
    ProfileRepository(session).flush()
    sharing.replace_partners(session, row, data.clusters)
    ProfileRepository(session).flush()
    return _sharing_out(session, cluster_id)


def intercluster_figures(session: Session, cluster_id: int, year: int) -> InterclusterFigures:
    """Inter-cluster cooperation of a cluster in a year, for its evaluation (no rights checked:
    the caller, another domain's service, checks its own).

    ``projects`` counts the cooperation projects running in ``year`` (undated: of that call's
    edition) with a partner member of the cluster and another partner member of another cluster,
    both memberships running some day of the year.
    """
    found = ProfileRepository(session).intercluster_projects(cluster_id, year)
    row = sharing.opt_in(session, cluster_id)
    return InterclusterFigures(
        cluster_id=cluster_id,
        year=year,
        projects=len(found),
        project_ids=sorted(found),
        partner_clusters=sorted(set().union(*found.values())) if found else [],
        shares_with=None
        if row and row.all_clusters
        else (sharing.named_partners(session, cluster_id) if row else []),
        shared_with_us=sorted(sharing.sharing_with(session, {cluster_id})),
    )


def cluster_intercluster(session: Session, actor: Actor, cluster_id: int, year: int) -> InterclusterFigures:
    """:func:`intercluster_figures` for the readers of the cluster's private data."""
    require_cluster(session, actor, cluster_id, Access.READ, "lire les chiffres d'interclustering")
    return intercluster_figures(session, cluster_id, year)


# --- partner search ---------------------------------------------------------------------------------


def _candidates(
    session: Session, found: policy.Standing, scope: SearchScope, day: dt.date
) -> set[int] | None:
    """Whom a search may suggest (None: every stored organisation, for the administrator)."""
    if found.clusters is None:
        return None if scope is SearchScope.ALL else sharing.members_of(session, None, day)
    home = sharing.members_of(session, found.clusters, day)
    if scope is SearchScope.CLUSTER:
        return home
    reached = sharing.members_of(session, found.reached, day) if found.reached else set()
    shown = home | sharing.consenting(session, reached - home)
    if scope is SearchScope.ALL:
        shown |= ProfileRepository(session).public_partners()
    return shown


def search(
    session: Session,
    actor: Actor,
    data: SearchIn,
    *,
    relatedness: Any = None,
    on: dt.date | None = None,
) -> SearchOut:
    """Partners for a need (French text) or an organisation, among whom the searcher may know.

    ``scope``: ``cluster``, the members of the searcher's clusters; ``clusters``, plus the
    consenting members of the clusters sharing with them (interclustering); ``all``, plus the
    organisations named in public projects (the administrator: every stored organisation).
    The text index holds what the searcher may read: the profile fields of its reading level
    (:mod:`grappe.partners.policy`), the projects it may know, the links and deals of the
    clusters it manages. ``relatedness`` is a :class:`~grappe.partners.search.SectorRelatedness`.

    Raises
    ------
    PermissionDeniedError
        A funder, the public, or a member of no cluster.
    NotFoundError
        ``organisation_id`` names an organisation the searcher does not know.
    InputError
        Neither text nor organisation.
    """
    from grappe.partners.search import Need
    from grappe.partners.service import build_index

    if actor.role not in {Role.ADMIN, Role.MANAGER, Role.MEMBER}:
        raise deny(actor, "rechercher des partenaires")
    day = on or dt.date.today()
    found = policy.standing(session, actor, day)
    if found.clusters is not None and not found.clusters:
        raise deny(actor, "rechercher des partenaires sans être membre d'une grappe")
    if not data.text.strip() and data.organisation_id is None:
        raise InputError("recherche vide : un texte (text) ou une organisation (organisation_id) est attendu")
    candidates = _candidates(session, found, data.scope, day)
    if data.organisation_id is not None:
        own = actor.role is Role.MEMBER and actor.organisation_id == data.organisation_id
        known = candidates is None or data.organisation_id in candidates
        if not own and not known:
            raise NotFoundError(f"organisation {data.organisation_id} introuvable")
        if ProfileRepository(session).organisation(data.organisation_id) is None:
            raise NotFoundError(f"organisation {data.organisation_id} introuvable")
    if (candidates is not None and not candidates - {data.organisation_id}) or not (
        ProfileRepository(session).any_organisation()
    ):
        return SearchOut(total=0, items=[])  # nobody to suggest (and nothing to index)
    readers = set(candidates) if candidates is not None else None
    if readers is not None and data.organisation_id is not None:
        readers.add(data.organisation_id)
    stored = sharing.profiles(session, readers)
    memberships = sharing.clusters_of(session, stored.keys(), day)
    owners = sharing.owners_of(session, stored.keys())
    texts: dict[int, str] = {}
    for oid, profile in stored.items():
        level = policy.profile_level(
            found, oid, memberships.get(oid, set()), owners.get(oid), profile.consent
        )
        if level is not None:
            texts[oid] = policy.profile_words(profile, level)
    projects: Callable[[Any], bool] | None = None
    links: set[int] | None = None
    if found.clusters is not None:
        mine = found.clusters
        manages = actor.role is Role.MANAGER

        def projects(part: Any) -> bool:
            if part.cluster_id is None:
                return not part.confidential
            return part.cluster_id in mine and (manages or not part.confidential)

        links = set(mine) if manages else set()
    index = build_index(
        session, on=day, relatedness=relatedness, profile_texts=texts, projects=projects, link_clusters=links
    )
    need = Need(
        text=data.text,
        organisation=data.organisation_id,
        sectors=tuple(data.sectors),
        territories=tuple(data.territories),
        sizes=tuple(data.sizes),
        kinds=tuple(data.kinds),
        among=None if candidates is None else frozenset(candidates),
    )
    suggestions = index.index.search(need, data.top)
    items = [
        SuggestionOut(
            rank=rank, organisation_id=s.organisation, name=s.name, score=s.score, reasons=list(s.reasons)
        )
        for rank, s in enumerate(suggestions, start=1)
    ]
    return SearchOut(total=len(items), items=items)
