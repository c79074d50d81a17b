"""Partners endpoints: profiles, interclustering, the partner search and calls for partners."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from grappe.api.deps import ERRORS, Id, Limit, Offset, QueryId, Work, Year
from grappe.partners.postings import service as postings
from grappe.partners.postings.schemas import (
    CloseIn,
    InterestIn,
    InterestOut,
    InterestPage,
    PostingIn,
    PostingOut,
    PostingPage,
)
from grappe.partners.profiles import service as profiles
from grappe.partners.profiles.schemas import (
    InterclusterFigures,
    ProfileIn,
    ProfileOut,
    SearchIn,
    SearchOut,
    SharingIn,
    SharingOut,
)

router = APIRouter()

TAGS: list[str | Any] = ["partenaires"]
#: The header that says a notification could not leave (the write itself is done).
NOTIFICATION_HEADER = "X-Grappe-Notification"


def _notify(response: Response, mails: tuple[Any, ...]) -> None:
    """Send the mails of a committed write; a refused one is said in a header, never lost silently."""
    if postings.notify(mails) is not None:
        response.headers[NOTIFICATION_HEADER] = "echec"


@router.get(
    "/organisations/{organisation_id}/profile", response_model=ProfileOut, tags=TAGS, responses=ERRORS
)
def get_profile(*, work: Work, organisation_id: Id) -> ProfileOut:
    """Le profil de partenaire d'une organisation : les champs que le rôle peut lire."""
    with work as (db, actor):
        return profiles.get_profile(db, actor, organisation_id)


@router.patch(
    "/organisations/{organisation_id}/profile", response_model=ProfileOut, tags=TAGS, responses=ERRORS
)
def update_profile(*, work: Work, organisation_id: Id, body: ProfileIn) -> ProfileOut:
    """Remplir ou modifier un profil (seuls les champs donnés changent) ; le consentement est à l'adhérent."""
    with work as (db, actor):
        return profiles.update_profile(db, actor, organisation_id, body)


@router.post(
    "/organisations/{organisation_id}/profile/fabric", response_model=ProfileOut, tags=TAGS, responses=ERRORS
)
def enrich_profile(*, work: Work, organisation_id: Id) -> ProfileOut:
    """Enrichir un profil de ce que le tissu productif sait de l'organisation (NAF, commune, taille)."""
    with work as (db, actor):
        return profiles.enrich_from_fabric(db, actor, organisation_id)


@router.get("/clusters/{cluster_id}/sharing", response_model=SharingOut, tags=TAGS, responses=ERRORS)
def get_sharing(*, work: Work, cluster_id: Id) -> SharingOut:
    """Avec qui une structure partage les profils publics de ses adhérents (interclustering)."""
    with work as (db, actor):
        return profiles.get_sharing(db, actor, cluster_id)


@router.put("/clusters/{cluster_id}/sharing", response_model=SharingOut, tags=TAGS, responses=ERRORS)
def set_sharing(*, work: Work, cluster_id: Id, body: SharingIn) -> SharingOut:
    """Partager avec toutes les structures, avec celles nommées, ou avec personne (liste vide)."""
    with work as (db, actor):
        return profiles.set_sharing(db, actor, cluster_id, body)


@router.get(
    "/clusters/{cluster_id}/intercluster", response_model=InterclusterFigures, tags=TAGS, responses=ERRORS
)
def intercluster(*, work: Work, cluster_id: Id, year: Year) -> InterclusterFigures:
    """Projets inter-grappes d'une année, pour l'évaluation."""
    with work as (db, actor):
        return profiles.cluster_intercluster(db, actor, cluster_id, year)


@router.post("/partners/search", response_model=SearchOut, tags=TAGS, responses=ERRORS)
def search(*, work: Work, body: SearchIn) -> SearchOut:
    """Rechercher des partenaires (texte en français ou organisation), avec les raisons des suggestions."""
    with work as (db, actor):
        return profiles.search(db, actor, body)


@router.get("/postings", response_model=PostingPage, tags=TAGS, responses=ERRORS)
def list_postings(
    *,
    work: Work,
    cluster_id: QueryId = None,
    include_closed: Annotated[bool, Query(description="Inclure les recherches closes ou échues.")] = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PostingPage:
    """Recherches de partenaires des structures de l'utilisateur et de celles qui partagent avec elles."""
    with work as (db, actor):
        return postings.list_postings(
            db, actor, cluster_id=cluster_id, include_closed=include_closed, limit=limit, offset=offset
        )


@router.post(
    "/clusters/{cluster_id}/postings", response_model=PostingOut, status_code=201, tags=TAGS, responses=ERRORS
)
def create_posting(*, work: Work, response: Response, cluster_id: Id, body: PostingIn) -> PostingOut:
    """Publier une recherche de partenaires ; les gestionnaires sont prévenus par courriel."""
    with work as (db, actor):
        done = postings.create_posting(db, actor, cluster_id, body)
    _notify(response, done.mails)
    return done.result


@router.get("/postings/{posting_id}", response_model=PostingOut, tags=TAGS, responses=ERRORS)
def get_posting(*, work: Work, posting_id: Id) -> PostingOut:
    """Une recherche de partenaires et le nombre d'intérêts lisibles."""
    with work as (db, actor):
        return postings.get_posting(db, actor, posting_id)


@router.post("/postings/{posting_id}/close", response_model=PostingOut, tags=TAGS, responses=ERRORS)
def close_posting(*, work: Work, posting_id: Id, body: CloseIn | None = None) -> PostingOut:
    """Clore une recherche (son auteur, les gestionnaires de sa structure)."""
    with work as (db, actor):
        return postings.close_posting(db, actor, posting_id, body)


@router.get("/postings/{posting_id}/interests", response_model=InterestPage, tags=TAGS, responses=ERRORS)
def list_interests(*, work: Work, posting_id: Id, limit: Limit = 100, offset: Offset = 0) -> InterestPage:
    """Les intérêts reçus (l'auteur, les gestionnaires) ou le sien (les autres)."""
    with work as (db, actor):
        return postings.list_interests(db, actor, posting_id, limit=limit, offset=offset)


@router.post(
    "/postings/{posting_id}/interests",
    response_model=InterestOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def express_interest(*, work: Work, response: Response, posting_id: Id, body: InterestIn) -> InterestOut:
    """Manifester son intérêt avant la date limite ; l'auteur et les gestionnaires sont prévenus."""
    with work as (db, actor):
        done = postings.express_interest(db, actor, posting_id, body)
    _notify(response, done.mails)
    return done.result
