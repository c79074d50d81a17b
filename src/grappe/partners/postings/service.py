"""What users do with calls for partners: publish one, list the open ones of their clusters (and of
the clusters sharing with them), express interest before the deadline, close one.

Every operation checks the actor's rights through :mod:`grappe.partners.policy`; the SQL lives in
:mod:`grappe.partners.postings.repository`; the caller's unit of work commits. The operations that
notify return the mails to send: the interface sends them with :func:`notify` once its unit of
work has committed, so a refused write sends nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from grappe.errors import ConflictError, InputError, MailError
from grappe.kit.mail import Mail, Wording, by_language, send_all
from grappe.kit.present import Formatter
from grappe.partners import policy
from grappe.partners.models import Posting, PostingInterest, PostingStatus
from grappe.partners.postings.repository import PostingRepository
from grappe.partners.postings.schemas import (
    CloseIn,
    InterestIn,
    InterestOut,
    InterestPage,
    PostingIn,
    PostingOut,
    PostingPage,
)
from grappe.registry.models import Role, utcnow
from grappe.registry.policy import Actor, deny

T = TypeVar("T")


@dataclass(frozen=True)
class Notified(Generic[T]):
    """An operation's result and the mails it asks to send once its unit of work commits."""

    result: T
    mails: tuple[Mail, ...]


def notify(mails: tuple[Mail, ...]) -> str | None:
    """Send the mails of a committed operation; the French reason when the mail server refused
    them (the operation stays done: the interface says so beside its result)."""
    try:
        send_all(mails)
    except MailError as exc:
        return f"enregistré, mais la notification n'a pas pu partir : {exc}"
    return None


_POSTED_SUBJECT = Wording(
    fr="Nouvelle recherche de partenaires : {title}", en="New call for partners: {title}"
)
_POSTED_BODY = Wording(
    fr=(
        "{organisation} cherche des partenaires dans {cluster} : {title}.\n\n{description}\n\n"
        "Intérêts reçus jusqu'au {deadline} inclus (recherche n° {number})."
    ),
    en=(
        "{organisation} is looking for partners in {cluster}: {title}.\n\n{description}\n\n"
        "Interests received until {deadline} included (call no. {number})."
    ),
)
_INTEREST_SUBJECT = Wording(
    fr="Intérêt pour votre recherche de partenaires : {title}",
    en="Interest in your call for partners: {title}",
)
_INTEREST_BODY = Wording(
    fr="{organisation} est intéressé(e) par la recherche de partenaires n° {number} « {title} ».\n{message}",
    en="{organisation} is interested in the call for partners no. {number} “{title}”.\n{message}",
)
_THEIR_MESSAGE = Wording(fr="\nSon message :\n{message}\n", en="\nTheir message:\n{message}\n")


def _shown(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _out(
    repository: PostingRepository, posting: Posting, rights: policy.PostingRights, interests: int
) -> PostingOut:
    cluster_name, organisation_name = repository.names(posting)
    today = dt.date.today()
    return PostingOut(
        id=posting.id,
        cluster_id=posting.cluster_id,
        cluster_name=cluster_name,
        organisation_id=posting.organisation_id,
        organisation_name=organisation_name,
        title=posting.title,
        description=posting.description,
        deadline=posting.deadline,
        status=PostingStatus(posting.status),
        open=posting.status == PostingStatus.OPEN.value and posting.deadline >= today,
        created_at=posting.created_at,
        closed_at=posting.closed_at,
        interests=interests,
        manages=rights.manages,
        version=posting.version,
    )


def _own_interests(actor: Actor, rights: policy.PostingRights) -> int | None:
    """Whose interests the actor counts and reads: all (None) for who manages the call, else its own."""
    if rights.manages:
        return None
    return actor.organisation_id if actor.role is Role.MEMBER else -1


def create_posting(session: Session, actor: Actor, cluster_id: int, data: PostingIn) -> Notified[PostingOut]:
    """Publish a call for partners in a cluster; its managers are told by mail.

    Raises
    ------
    InputError
        A deadline already passed, or (a manager) an organisation that is not a member.
    """
    organisation_id = policy.require_post(session, actor, cluster_id, data.organisation_id)
    if data.deadline < dt.date.today():
        raise InputError(f"deadline={data.deadline.isoformat()} : date limite déjà passée")
    postings = PostingRepository(session)
    posting = postings.add(
        Posting(
            cluster_id=cluster_id,
            organisation_id=organisation_id,
            title=data.title.strip(),
            description=data.description.strip(),
            deadline=data.deadline,
            status=PostingStatus.OPEN.value,
            author_user_id=actor.user_id,
        )
    )
    postings.flush()
    out = _out(postings, posting, policy.posting_rights(session, actor, posting), 0)
    mails = tuple(
        Mail(
            to=to,
            subject=_POSTED_SUBJECT(language, title=out.title),
            body=_POSTED_BODY(
                language,
                organisation=out.organisation_name,
                cluster=out.cluster_name,
                title=out.title,
                description=out.description,
                deadline=Formatter(language).date(out.deadline),
                number=out.id,
            ),
        )
        for language, to in by_language(postings.recipients(posting)).items()
    )
    return Notified(out, mails)


def get_posting(session: Session, actor: Actor, posting_id: int) -> PostingOut:
    """One call for partners, with the interests the actor may count."""
    postings = PostingRepository(session)
    posting = postings.get(posting_id)
    rights = policy.posting_rights(session, actor, posting)
    count = postings.interest_counts([posting.id], _own_interests(actor, rights)).get(posting.id, 0)
    return _out(postings, posting, rights, count)


def list_postings(
    session: Session,
    actor: Actor,
    *,
    cluster_id: int | None = None,
    include_closed: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> PostingPage:
    """The calls of the actor's clusters and of the clusters sharing with them (one cluster's when
    ``cluster_id``), the open ones unless ``include_closed``, the nearest deadline first."""
    found = policy.standing(session, actor)
    clusters = policy.posting_clusters(found)
    if cluster_id is not None:
        if clusters is not None and cluster_id not in clusters:
            from grappe.errors import NotFoundError

            raise NotFoundError(f"structure {cluster_id} introuvable")
        clusters = frozenset({cluster_id})
    postings = PostingRepository(session)
    total, rows = postings.page(
        postings.listed(clusters, open_day=None if include_closed else dt.date.today()), limit, offset
    )
    items = []
    for posting in rows:
        rights = policy.posting_rights(session, actor, posting)
        count = postings.interest_counts([posting.id], _own_interests(actor, rights)).get(posting.id, 0)
        items.append(_out(postings, posting, rights, count))
    return PostingPage(total=total, items=items)


def express_interest(
    session: Session, actor: Actor, posting_id: int, data: InterestIn
) -> Notified[InterestOut]:
    """Express an organisation's interest in a call, before its deadline; the poster's users and the
    cluster's managers are told by mail.

    Raises
    ------
    InputError
        The call is closed or its deadline passed, or the organisation is the poster itself.
    ConflictError
        The organisation already expressed its interest.
    """
    postings = PostingRepository(session)
    posting = postings.get(posting_id, lock=True)
    policy.posting_rights(session, actor, posting)
    organisation_id = policy.interest_for(session, actor, data.organisation_id)
    today = dt.date.today()
    if posting.status != PostingStatus.OPEN.value:
        raise InputError(f"intérêt refusé : la recherche {posting.id} est close")
    if posting.deadline < today:
        raise InputError(
            f"intérêt refusé : la date limite de la recherche {posting.id} "
            f"était le {_shown(posting.deadline)}"
        )
    if organisation_id == posting.organisation_id:
        raise InputError(
            f"intérêt refusé : l'organisation {organisation_id} a publié la recherche {posting.id}"
        )
    if postings.interest(posting.id, organisation_id) is not None:
        raise ConflictError(
            f"intérêt refusé : organisation {organisation_id} déjà intéressée par la recherche {posting.id}"
        )
    message = (data.message or "").strip() or None
    interest = PostingInterest(
        posting_id=posting.id, organisation_id=organisation_id, message=message, author_user_id=actor.user_id
    )
    session.add(interest)
    postings.flush()
    _, rows = postings.interests(posting.id, organisation_id, 1, 0)
    name = rows[0][1]
    out = InterestOut(
        id=interest.id,
        posting_id=posting.id,
        organisation_id=organisation_id,
        organisation_name=name,
        message=message,
        created_at=interest.created_at,
    )
    mails = tuple(
        Mail(
            to=to,
            subject=_INTEREST_SUBJECT(language, title=posting.title),
            body=_INTEREST_BODY(
                language,
                organisation=name,
                number=posting.id,
                title=posting.title,
                message=_THEIR_MESSAGE(language, message=message) if message else "",
            ),
        )
        for language, to in by_language(postings.recipients(posting)).items()
    )
    return Notified(out, mails)


def list_interests(
    session: Session, actor: Actor, posting_id: int, *, limit: int = 100, offset: int = 0
) -> InterestPage:
    """A call's interests: all for its poster's users and its cluster's managers, one's own for the others."""
    postings = PostingRepository(session)
    posting = postings.get(posting_id)
    rights = policy.posting_rights(session, actor, posting)
    total, rows = postings.interests(posting.id, _own_interests(actor, rights), limit, offset)
    return InterestPage(
        total=total,
        items=[
            InterestOut(
                id=i.id,
                posting_id=i.posting_id,
                organisation_id=i.organisation_id,
                organisation_name=name,
                message=i.message,
                created_at=i.created_at,
            )
            for i, name in rows
        ],
    )


def close_posting(session: Session, actor: Actor, posting_id: int, data: CloseIn | None = None) -> PostingOut:
    """Close a call (its poster's users, its cluster's managers): it takes no more interest.

    Raises
    ------
    InputError
        The call is already closed.
    ConflictError
        ``version`` is no longer the call's.
    """
    postings = PostingRepository(session)
    posting = postings.get(posting_id, lock=True)
    rights = policy.posting_rights(session, actor, posting)
    if not rights.manages:
        raise deny(actor, f"clore la recherche de partenaires {posting.id}")
    if data is not None and data.version is not None:
        postings.check_version(posting, data.version)
    if posting.status == PostingStatus.CLOSED.value:
        raise InputError(f"recherche {posting.id} déjà close")
    posting.status = PostingStatus.CLOSED.value
    posting.closed_at = utcnow()
    postings.flush()
    count = postings.interest_counts([posting.id], None).get(posting.id, 0)
    return _out(postings, posting, rights, count)


def home_clusters(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of the clusters the actor may post a call in: a member's, a manager's managed ones."""
    from grappe.partners import sharing

    found = policy.standing(session, actor)
    if found.clusters is None or actor.role not in {Role.MEMBER, Role.MANAGER}:
        return []
    names = sharing.cluster_names(session, found.clusters)
    return sorted(names.items(), key=lambda item: item[1])
