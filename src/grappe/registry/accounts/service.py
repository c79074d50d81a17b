"""Users, API tokens (stored hashed) and the resolution of a token or e-mail to an Actor."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy.orm import Session

from grappe.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from grappe.registry import policy
from grappe.registry.accounts.repository import AuditRepository, TokenRepository, UserRepository
from grappe.registry.accounts.schemas import AuditOut, AuditPage, TokenInfo, TokenOut, UserCreate, UserOut
from grappe.registry.clusters import service as clusters
from grappe.registry.models import ApiToken, ClusterManager, Role, User
from grappe.registry.organisations import service as organisations
from grappe.registry.policy import Actor

TOKEN_PREFIX = "grp_"
INVALID_TOKEN = "jeton d'API invalide, expiré ou révoqué"


def hash_token(token: str) -> str:
    """SHA-256 of a token: tokens are 256-bit random secrets, so a fast hash is enough."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        funder_id=user.funder_id,
        organisation_id=user.organisation_id,
        clusters=sorted(m.cluster_id for m in user.managed),
        active=user.active,
    )


def create_user(session: Session, actor: Actor, data: UserCreate) -> UserOut:
    """Create a user with its role and scope (platform administrators only).

    A funder names its funder (created if new); a member names its organisation; a manager
    lists the cluster organisations it manages.
    """
    policy.require_admin(actor, "créer un utilisateur")
    email = data.email.strip().lower()
    users = UserRepository(session)
    if users.id_of_email(email):
        raise ConflictError(f"l'utilisateur {email} existe déjà")
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
    for cid in data.clusters:
        clusters.check_exists(session, cid)
    funder = clusters.funder_named(session, data.funder) if role is Role.FUNDER else None
    users.flush()
    user = User(
        email=email,
        name=data.name,
        role=role.value,
        funder_id=funder.id if funder is not None else None,
        # A reviewer may name its organisation: conflicts of interest are detected from it.
        organisation_id=data.organisation_id if role in {Role.MEMBER, Role.REVIEWER} else None,
        managed=[ClusterManager(cluster_id=c) for c in sorted(set(data.clusters))]
        if role is Role.MANAGER
        else [],
    )
    users.add(user)
    users.flush()
    return _user_out(user)


def list_users(session: Session, actor: Actor) -> list[UserOut]:
    """Every user (platform administrators only)."""
    policy.require_admin(actor, "lister les utilisateurs")
    return [_user_out(u) for u in UserRepository(session).every()]


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
