"""Who may do what in the partners domain, per object: profiles, interclustering, calls for partners.

* **Profiles.** An organisation's own users, the managers of a cluster it belongs to (or that
  owns it) and the administrator read every field and edit it; only its own users (or the
  administrator) give or withdraw its consent. With consent, the members of its clusters read
  the fields marked ``cluster`` or ``public``; the members and managers of the clusters that
  one of its clusters shares with (interclustering opt-in), and the funders of its clusters,
  read the ``public`` fields. Anybody else, and everybody but the first group when there is no
  consent, finds nothing: "introuvable" (404).
* **Interclustering.** A cluster's managers (and the administrator) choose whom it shares with.
* **Calls for partners.** A call lives in one cluster. Its managers and current members read
  it, and so do the members and managers of the clusters it shares with; a member posts for
  its own organisation in a cluster it belongs to, a manager for a member of its cluster. The
  posting organisation's users and the cluster's managers close it and read every interest;
  another organisation reads its own interest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from grappe.errors import NotFoundError
from grappe.partners import sharing
from grappe.partners.models import PROFILE_FIELDS, TAG_LABELS, PartnerProfile, Posting, ProfileTag, Visibility
from grappe.registry.models import Role
from grappe.registry.policy import (
    Access,
    Actor,
    deny,
    funded_cluster_ids,
    member_cluster_ids,
    organisation_access,
)

#: The fields' visibilities each reading level reads.
READS: dict[Visibility, frozenset[Visibility]] = {
    Visibility.MANAGER: frozenset(Visibility),
    Visibility.CLUSTER: frozenset({Visibility.CLUSTER, Visibility.PUBLIC}),
    Visibility.PUBLIC: frozenset({Visibility.PUBLIC}),
}


@dataclass(frozen=True)
class Standing:
    """Where an actor stands among the clusters: what the profile rules need, read once.

    ``clusters``: the clusters it acts in (a member: its organisation's; a manager: the managed
    ones; None: every cluster, for the administrator); ``reached``: the clusters that share
    with one of them; ``funded``: a funder's clusters.
    """

    actor: Actor
    clusters: frozenset[int] | None
    reached: frozenset[int]
    funded: frozenset[int]


def standing(session: Session, actor: Actor, day: dt.date | None = None) -> Standing:
    """Read the actor's clusters, those that share with them and (a funder) its funded ones."""
    day = day or dt.date.today()
    if actor.role is Role.ADMIN:
        return Standing(actor, None, frozenset(), frozenset())
    clusters: set[int] = set()
    funded: set[int] = set()
    if actor.role is Role.MANAGER:
        clusters = set(actor.managed)
    elif actor.role is Role.MEMBER and actor.organisation_id is not None:
        clusters = member_cluster_ids(session, actor.organisation_id, day)
    elif actor.role is Role.FUNDER and actor.funder_id is not None:
        funded = funded_cluster_ids(session, actor.funder_id)
    reached = sharing.sharing_with(session, clusters) if clusters else set()
    return Standing(actor, frozenset(clusters), frozenset(reached), frozenset(funded))


def profile_level(
    standing: Standing,
    organisation_id: int,
    organisation_clusters: Collection[int],
    owner: int | None,
    consent: bool,
) -> Visibility | None:
    """The deepest visibility an actor reads of an organisation's profile (None: nothing).

    Pure: the caller reads the organisation's current clusters, its owner and its consent.
    """
    actor = standing.actor
    if standing.clusters is None:
        return Visibility.MANAGER
    mine = standing.clusters
    if actor.role is Role.MEMBER and actor.organisation_id == organisation_id:
        return Visibility.MANAGER
    if actor.role is Role.MANAGER and (owner in mine or mine & set(organisation_clusters)):
        return Visibility.MANAGER
    if not consent:
        return None
    theirs = set(organisation_clusters)
    if actor.role is Role.MEMBER and mine & theirs:
        return Visibility.CLUSTER
    if actor.role in {Role.MEMBER, Role.MANAGER} and standing.reached & theirs:
        return Visibility.PUBLIC
    if actor.role is Role.FUNDER and standing.funded & theirs:
        return Visibility.PUBLIC
    return None


def read_level(session: Session, actor: Actor, organisation_id: int, consent: bool) -> Visibility:
    """The visibility the actor reads of one profile; NotFoundError when it reads nothing."""
    day = dt.date.today()
    level = profile_level(
        standing(session, actor, day),
        organisation_id,
        sharing.clusters_of(session, [organisation_id], day).get(organisation_id, set()),
        sharing.owners_of(session, [organisation_id]).get(organisation_id),
        consent,
    )
    if level is None:
        raise NotFoundError(f"profil de l'organisation {organisation_id} introuvable")
    return level


def may_edit(session: Session, actor: Actor, organisation_id: int) -> bool:
    """Whether the actor fills the profile in: its own users, its managers, the administrator."""
    if actor.role is Role.MEMBER:
        return actor.organisation_id == organisation_id
    return actor.role in {Role.ADMIN, Role.MANAGER} and (
        organisation_access(session, actor, organisation_id) is Access.MANAGE
    )


def may_consent(actor: Actor, organisation_id: int) -> bool:
    """Consent is the organisation's own: its users (or the platform administrator) give it."""
    own = actor.role is Role.MEMBER and actor.organisation_id == organisation_id
    return actor.role is Role.ADMIN or own


def require_sharing(session: Session, actor: Actor, cluster_id: int, *, change: bool) -> None:
    """Raise unless the actor reads (``change``: sets) a cluster's interclustering opt-in."""
    from grappe.registry.policy import require_cluster

    require_cluster(
        session,
        actor,
        cluster_id,
        Access.MANAGE if change else Access.READ,
        "choisir avec qui partager les profils" if change else "lire le partage des profils",
    )


# --- calls for partners ------------------------------------------------------------------------------


def posting_clusters(standing: Standing) -> frozenset[int] | None:
    """The clusters whose calls for partners the actor reads (None: all)."""
    if standing.clusters is None:
        return None
    if standing.actor.role not in {Role.MEMBER, Role.MANAGER}:
        raise deny(standing.actor, "consulter les recherches de partenaires")
    return standing.clusters | standing.reached


@dataclass(frozen=True)
class PostingRights:
    """What an actor may do with one call for partners."""

    manages: bool  # closes it, reads every interest (its cluster's managers, its poster's users)
    home: bool  # acts in the call's cluster (a member or manager of it, the administrator)


def posting_rights(session: Session, actor: Actor, posting: Posting) -> PostingRights:
    """The actor's rights on a call; NotFoundError when it may not even read it."""
    found = standing(session, actor)
    seen: frozenset[int] | None = frozenset()
    if found.clusters is None or actor.role in {Role.MEMBER, Role.MANAGER}:
        seen = posting_clusters(found)
    if seen is not None and posting.cluster_id not in seen:
        raise NotFoundError(f"recherche de partenaires {posting.id} introuvable")
    manages = (
        found.clusters is None
        or (actor.role is Role.MANAGER and posting.cluster_id in found.clusters)
        or (actor.role is Role.MEMBER and actor.organisation_id == posting.organisation_id)
    )
    home = found.clusters is None or posting.cluster_id in found.clusters
    return PostingRights(manages=manages, home=home)


def require_post(session: Session, actor: Actor, cluster_id: int, organisation_id: int | None) -> int:
    """The organisation a new call is posted for, once the actor may post it in ``cluster_id``.

    A member posts for its own organisation in one of its clusters; a manager (or the
    administrator) for a current member of the cluster, named.
    """
    from grappe.errors import InputError
    from grappe.registry.policy import require_cluster

    if actor.role is Role.MEMBER:
        own = actor.organisation_id
        if own is None or cluster_id not in member_cluster_ids(session, own):
            raise NotFoundError(f"structure {cluster_id} introuvable")
        if organisation_id not in (None, own):
            raise deny(actor, "publier une recherche pour une autre organisation que la sienne")
        return own
    require_cluster(session, actor, cluster_id, Access.MANAGE, "publier une recherche de partenaires")
    if organisation_id is None:
        raise InputError("organisation_id : précisez l'organisation adhérente qui cherche des partenaires")
    if cluster_id not in member_cluster_ids(session, organisation_id):
        raise InputError(
            f"organisation_id={organisation_id} : pas adhérente de la structure {cluster_id} aujourd'hui"
        )
    return organisation_id


def interest_for(session: Session, actor: Actor, organisation_id: int | None) -> int:
    """The organisation an interest is expressed for: a member's own, one its manager manages."""
    from grappe.errors import InputError

    if actor.role is Role.MEMBER:
        own = actor.organisation_id
        if own is None or organisation_id not in (None, own):
            raise deny(actor, "manifester un intérêt pour une autre organisation que la sienne")
        return own
    if actor.role not in {Role.ADMIN, Role.MANAGER}:
        raise deny(actor, "manifester un intérêt")
    if organisation_id is None:
        raise InputError("organisation_id : précisez l'organisation intéressée")
    if organisation_access(session, actor, organisation_id) is not Access.MANAGE:
        raise NotFoundError(f"organisation {organisation_id} introuvable")
    if actor.role is Role.ADMIN:
        from grappe.registry.organisations.service import check_exists

        check_exists(session, organisation_id)  # the administrator's access says nothing of existence
    return organisation_id


# --- what a reader reads of a profile ---------------------------------------------------------------


def field_visibility(profile: PartnerProfile, field: str) -> Visibility:
    """The visibility of one field of a profile (unset: the cluster's members read it)."""
    value = (profile.visibility or {}).get(field)
    return Visibility(value) if value in {v.value for v in Visibility} else Visibility.CLUSTER


def readable_fields(profile: PartnerProfile, level: Visibility) -> dict[str, object]:
    """The fields of :data:`~grappe.partners.models.PROFILE_FIELDS` a reader of ``level`` reads."""
    allowed = READS[level]
    return {
        field: getattr(profile, field)
        for field in PROFILE_FIELDS
        if field_visibility(profile, field) in allowed
    }


def profile_words(profile: PartnerProfile, level: Visibility) -> str:
    """The words of a profile a reader of ``level`` reads, for the search's text index
    (the tags by their French words)."""
    words: list[str] = []
    for field, value in readable_fields(profile, level).items():
        if field == "tags" and isinstance(value, list):
            known = {tag.value for tag in ProfileTag}
            words += [TAG_LABELS[ProfileTag(tag)] for tag in value if tag in known]
        elif value:
            words.append(str(value))
    return " ".join(words)
