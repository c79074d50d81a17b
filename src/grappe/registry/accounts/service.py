"""Users, API tokens (stored hashed) and the resolution of a token or e-mail to an Actor."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy.orm import Session

from grappe.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from grappe.kit.present import Language
from grappe.registry import policy
from grappe.registry.accounts.repository import (
    AuditRepository,
    LinkRepository,
    SignInRepository,
    TokenRepository,
    UserRepository,
    audit_conditions,
)
from grappe.registry.accounts.schemas import (
    AuditFilter,
    AuditOut,
    AuditPage,
    LanguageChange,
    RoleChange,
    TokenInfo,
    TokenOut,
    UserCreate,
    UserOut,
    UserPage,
    UserRow,
)
from grappe.registry.clusters import service as clusters
from grappe.registry.models import ApiToken, ClusterManager, Role, User, utcnow
from grappe.registry.organisations import service as organisations
from grappe.registry.policy import Actor

TOKEN_PREFIX = "grp_"
INVALID_TOKEN = "jeton d'API invalide, expiré ou révoqué"


def hash_token(token: str) -> str:
    """SHA-256 of a token: tokens are 256-bit random secrets, so a fast hash is enough."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_out(user: User) -> UserOut:
    """A user as the services answer it."""
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        funder_id=user.funder_id,
        organisation_id=user.organisation_id,
        clusters=sorted(m.cluster_id for m in user.managed),
        active=user.active,
        language=Language(user.language),
    )


def _scope_of(session: Session, data: UserCreate) -> tuple[int | None, int | None, list[int]]:
    """The funder id, organisation id and managed clusters a role needs, checked.

    A funder names its funder (created if new); a member names its organisation; a manager
    lists the cluster organisations it manages.
    """
    role = data.role
    if role is Role.PUBLIC:
        raise InputError("role=public : le public n'a pas de compte")
    if role is Role.FUNDER and not data.funder:
        raise InputError("role=funder : indiquez le financeur (funder)")
    if role is Role.MEMBER:
        if data.organisation_id is None:
            raise InputError("role=member : indiquez l'organisation (organisation_id)")
        organisations.check_exists(session, data.organisation_id)
    if role is Role.REVIEWER and data.organisation_id is not None:
        organisations.check_exists(session, data.organisation_id)
    if role is Role.MANAGER and not data.clusters:
        raise InputError("role=manager : indiquez au moins une structure (clusters)")
    managed = sorted(set(data.clusters)) if role is Role.MANAGER else []
    for cid in managed:
        clusters.check_exists(session, cid)
    funder = clusters.funder_named(session, data.funder) if role is Role.FUNDER else None
    UserRepository(session).flush()  # a new funder gets its id
    return (
        funder.id if funder is not None else None,
        # a reviewer may name its organisation: conflicts of interest are detected from it
        data.organisation_id if role in {Role.MEMBER, Role.REVIEWER} else None,
        managed,
    )


def new_user(session: Session, data: UserCreate, *, active: bool = True) -> User:
    """Create a user with its role and scope, once the caller has checked the actor's right."""
    email = data.email.strip().lower()
    users = UserRepository(session)
    if users.id_of_email(email):
        raise ConflictError(f"l'utilisateur {email} existe déjà")
    funder_id, organisation_id, managed = _scope_of(session, data)
    user = User(
        email=email,
        name=data.name,
        role=data.role.value,
        funder_id=funder_id,
        organisation_id=organisation_id,
        managed=[ClusterManager(cluster_id=c) for c in managed],
        active=active,
        language=data.language.value,
    )
    users.add(user)
    users.flush()
    return user


def create_user(session: Session, actor: Actor, data: UserCreate) -> UserOut:
    """Create a user with its role and scope (platform administrators only).

    A funder names its funder (created if new); a member names its organisation; a manager
    lists the cluster organisations it manages.
    """
    policy.require_admin(actor, "créer un utilisateur")
    return user_out(new_user(session, data))


def list_users(session: Session, actor: Actor) -> list[UserOut]:
    """Every user (platform administrators only)."""
    policy.require_admin(actor, "lister les utilisateurs")
    return [user_out(u) for u in UserRepository(session).every()]


def users_page(
    session: Session,
    actor: Actor,
    *,
    search: str | None = None,
    role: Role | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> UserPage:
    """A page of the users by e-mail, filtered (administrators); invitations still pending say so."""
    policy.require_admin(actor, "lister les utilisateurs")
    total, rows = UserRepository(session).listed(
        search=search or None, role=role.value if role else None, active=active, limit=limit, offset=offset
    )
    waiting = LinkRepository(session).pending_invitations([u.id for u in rows], utcnow())
    items = [UserRow(**user_out(u).model_dump(), invited=u.id in waiting) for u in rows]
    return UserPage(total=total, items=items)


def get_user(session: Session, actor: Actor, user_id: int) -> UserRow:
    """One user, with its invitation still to accept or not (administrators)."""
    policy.require_admin(actor, "consulter un utilisateur")
    user = UserRepository(session).get(user_id)
    waiting = LinkRepository(session).pending_invitations([user.id], utcnow())
    return UserRow(**user_out(user).model_dump(), invited=user.id in waiting)


def _keep_an_admin(session: Session, actor: Actor, user: User, action: str) -> None:
    """Refuse to take an administrator's account away from itself or from the last one."""
    if user.id == actor.user_id:
        raise ConflictError(
            f"{action} : impossible sur votre propre compte (demandez à un autre administrateur)"
        )
    if user.role == Role.ADMIN.value and user.active and UserRepository(session).admins_active() <= 1:
        raise ConflictError(f"{action} : {user.email} est le dernier administrateur actif")


def change_role(session: Session, actor: Actor, user_id: int, data: RoleChange) -> UserOut:
    """Give a user another role and scope (administrators); its sessions act with it at once."""
    policy.require_admin(actor, "changer le rôle d'un utilisateur")
    users = UserRepository(session)
    user = users.get(user_id)
    if data.role.value != user.role:
        _keep_an_admin(session, actor, user, "changer le rôle")
    funder_id, organisation_id, managed = _scope_of(
        session,
        UserCreate(
            email=user.email,
            role=data.role,
            funder=data.funder,
            organisation_id=data.organisation_id,
            clusters=data.clusters,
        ),
    )
    user.role = data.role.value
    user.funder_id = funder_id
    user.organisation_id = organisation_id
    current = {m.cluster_id: m for m in user.managed}
    user.managed = [current.get(c) or ClusterManager(cluster_id=c) for c in managed]
    users.flush()
    return user_out(user)


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> UserOut:
    """Deactivate a user (its web sessions end, its API tokens stop working) or reactivate it
    (administrators)."""
    policy.require_admin(actor, "désactiver ou réactiver un utilisateur")
    users = UserRepository(session)
    user = users.get(user_id)
    if not active:
        _keep_an_admin(session, actor, user, "désactiver")
        SignInRepository(session).close_sessions_of(user.id)
    user.active = active
    users.flush()
    return user_out(user)


def get_own(session: Session, actor: Actor) -> UserOut:
    """The acting user's own account (any signed-in user; the public has none)."""
    if actor.user_id is None:
        raise PermissionDeniedError("consulter son compte : connectez-vous d'abord")
    return user_out(UserRepository(session).get(actor.user_id))


def set_language(session: Session, actor: Actor, user_id: int, data: LanguageChange) -> UserOut:
    """Choose the language of a user's mail (the user itself, or an administrator)."""
    if actor.user_id != user_id:
        policy.require_admin(actor, "changer la langue d'un autre utilisateur")
    users = UserRepository(session)
    user = users.get(user_id)
    user.language = data.language.value
    users.flush()
    return user_out(user)


def issue_token(
    session: Session,
    actor: Actor,
    user_id: int,
    name: str = "api",
    expires_at: dt.datetime | None = None,
) -> TokenOut:
    """Issue an API token for a user (administrators); the secret is returned once."""
    policy.require_admin(actor, "émettre un jeton d'API")
    user = UserRepository(session).get(user_id)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    tokens = TokenRepository(session)
    token = tokens.add(
        ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret), expires_at=expires_at)
    )
    tokens.flush()
    return TokenOut(id=token.id, user_id=user.id, name=name, token=secret)


def list_tokens(session: Session, actor: Actor, user_id: int | None = None) -> list[TokenInfo]:
    """API tokens, of every user or of one, newest first (administrators)."""
    policy.require_admin(actor, "lister les jetons d'API")
    return [
        TokenInfo(
            id=t.id,
            user_id=t.user_id,
            email=t.user.email,
            name=t.name,
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
        )
        for t in TokenRepository(session).listing(user_id)
    ]


def revoke_token(session: Session, actor: Actor, token_id: int) -> None:
    """Revoke an API token (administrators)."""
    policy.require_admin(actor, "révoquer un jeton d'API")
    tokens = TokenRepository(session)
    token = tokens.get(token_id)
    token.revoked_at = dt.datetime.now(dt.UTC)
    tokens.flush()


def actor_of_user(user: User) -> Actor:
    """The Actor a user acts as."""
    return Actor(
        role=Role(user.role),
        user_id=user.id,
        label=f"user:{user.id}",
        funder_id=user.funder_id,
        organisation_id=user.organisation_id,
        managed=frozenset(m.cluster_id for m in user.managed),
    )


def authenticate(session: Session, token: str) -> Actor:
    """The Actor of an API token.

    Raises
    ------
    PermissionDeniedError
        Unknown, revoked or expired token, or inactive user (the message does not say which).
    """
    actor, expires = resolve_token(session, hash_token(token.strip()))
    check_expiry(expires)
    return actor


def resolve_token(session: Session, token_hash: str) -> tuple[Actor, dt.datetime | None]:
    """The Actor of a token digest and the token's expiry (not checked here: see check_expiry).

    What the API caches per token: the expiry must then be checked on every use, the rest
    holds until the next write (revoking a token or deactivating a user is one).

    Raises
    ------
    PermissionDeniedError
        Unknown or revoked token, or inactive user.
    """
    row = TokenRepository(session).of_digest(token_hash)
    if row is None or row.revoked_at is not None or not row.user.active:
        raise PermissionDeniedError(INVALID_TOKEN)
    expires = row.expires_at
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)  # SQLite returns naive datetimes
    return actor_of_user(row.user), expires


def check_expiry(expires: dt.datetime | None, now: dt.datetime | None = None) -> None:
    """Raise PermissionDeniedError when a token's expiry has passed."""
    if expires is not None and expires <= (now or dt.datetime.now(dt.UTC)):
        raise PermissionDeniedError(INVALID_TOKEN)


def actor_for(session: Session, who: str | None) -> Actor:
    """The CLI's acting user: a token (``grp_...``), a user's e-mail, or the local administrator."""
    if who is None or not who.strip():
        return policy.LOCAL_ADMIN
    if who.startswith(TOKEN_PREFIX):
        return authenticate(session, who)
    if who.strip().lower() == "public":
        return policy.PUBLIC
    user = UserRepository(session).of_email(who.strip().lower())
    if user is None or not user.active:
        raise NotFoundError(f"utilisateur {who!r} inconnu ou inactif")
    return actor_of_user(user)


def audit_log(
    session: Session,
    actor: Actor,
    *,
    cluster_id: int | None = None,
    entity: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> AuditPage:
    """The newest audit entries (administrators), optionally for one cluster or entity type."""
    policy.require_admin(actor, "consulter le journal d'audit")
    total, entries = AuditRepository(session).newest(cluster_id, entity, limit, offset)
    return AuditPage(total=total, items=[AuditOut.model_validate(e) for e in entries])


#: The most audit entries one export of the page writes (the newest of the view).
AUDIT_EXPORT_MAX = 100_000


def audit_view(
    session: Session, actor: Actor, view: AuditFilter, *, limit: int | None = 100, offset: int = 0
) -> AuditPage:
    """The audit entries of a view (who, which object, which days), newest first
    (administrators). ``limit=None``: the whole view, up to :data:`AUDIT_EXPORT_MAX` entries."""
    policy.require_admin(actor, "consulter le journal d'audit")
    if view.since is not None and view.until is not None and view.until < view.since:
        raise InputError(f"du {view.since.isoformat()} au {view.until.isoformat()} : la fin précède le début")
    since = dt.datetime.combine(view.since, dt.time(), dt.UTC) if view.since else None
    before = dt.datetime.combine(view.until + dt.timedelta(days=1), dt.time(), dt.UTC) if view.until else None
    where = audit_conditions(
        user_id=view.user_id,
        actor=view.actor,
        entity=view.entity,
        entity_id=view.entity_id,
        cluster_id=view.cluster_id,
        since=since,
        before=before,
    )
    repository = AuditRepository(session)
    if limit is None:
        total, entries = repository.filtered(where, None, offset)
        entries = entries[:AUDIT_EXPORT_MAX]
    else:
        total, entries = repository.filtered(where, limit, offset)
    return AuditPage(total=total, items=[AuditOut.model_validate(e) for e in entries])


def audit_entities(session: Session, actor: Actor) -> list[str]:
    """The kinds of entity the audit log holds (administrators)."""
    policy.require_admin(actor, "consulter le journal d'audit")
    return AuditRepository(session).entities()
