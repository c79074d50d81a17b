"""Read caches of the API: directory pages and tokens, invalidated by any write, on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
from apikit import Api, build_api, dbkit
from sqlalchemy import select, update

from grappe.api.cache import GenerationCache
from grappe.config import get_settings
from grappe.errors import PermissionDeniedError
from grappe.registry import LOCAL_ADMIN
from grappe.registry.accounts import service as accounts
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import ClusterCreate, ClusterUpdate, TerritoryRef
from grappe.registry.models import ApiToken, User
from grappe.storage.sql import session_scope


def _acronyms(api: Api, **params: str) -> list[str]:
    response = api.client.get("/directory", params=params)
    assert response.status_code == 200
    return [e["acronym"] for e in response.json()["items"]]


def test_directory_pages_are_cached_until_a_write(api: Api) -> None:
    cache = api.app.state.directory
    assert _acronyms(api, region="84") == ["MECA"]
    hits = cache.hits
    assert _acronyms(api, region="84") == ["MECA"]
    assert cache.hits == hits + 1  # the second read was served from the cache
    created = api.client.post(
        "/clusters",
        headers=api.headers("admin"),
        json={
            "name": "Aéro Isère",
            "acronym": "AERO",
            "territories": [{"level": "departement", "code": "38"}],
        },
    )
    assert created.status_code == 201
    assert _acronyms(api, region="84") == ["AERO", "MECA"]


def test_a_write_outside_the_api_shows_in_the_next_read(api: Api) -> None:
    """Another process (the CLI, another worker) writes: the generation tells this one."""
    assert _acronyms(api, region="84") == ["MECA"]
    assert _acronyms(api, region="84") == ["MECA"]
    a = api.world.a  # type: ignore[attr-defined]
    with session_scope(api.app.state.engine, actor=LOCAL_ADMIN) as session:
        version = clusters.get_cluster(session, LOCAL_ADMIN, a).version
        clusters.update_cluster(
            session,
            LOCAL_ADMIN,
            a,
            ClusterUpdate(
                version=version, territories=[TerritoryRef(level="departement", code="35")]
            ),
        )
    assert _acronyms(api, region="84") == []
    assert _acronyms(api, region="53") == ["GRAN", "MECA"]


def test_a_rolled_back_write_keeps_the_cache(api: Api) -> None:
    assert _acronyms(api, region="84") == ["MECA"]
    cache = api.app.state.directory

    def abandoned_write() -> None:
        with session_scope(api.app.state.engine, actor=LOCAL_ADMIN) as session:
            clusters.create_cluster(
                session,
                LOCAL_ADMIN,
                ClusterCreate(name="Fantôme", territories=[TerritoryRef(level="region", code="84")]),
            )
            raise RuntimeError("abandon")

    with pytest.raises(RuntimeError, match="abandon"):
        abandoned_write()
    hits = cache.hits
    assert _acronyms(api, region="84") == ["MECA"]
    assert cache.hits == hits + 1


def test_member_count_change_reaches_the_directory(api: Api) -> None:
    """A Core UPDATE (the member counter) inside a service invalidates like an ORM write."""
    a = api.world.a  # type: ignore[attr-defined]
    before = api.client.get("/directory", params={"region": "84"}).json()["items"][0]["member_count"]
    org = api.world.org_free  # type: ignore[attr-defined]
    added = api.client.post(
        f"/clusters/{a}/members",
        headers=api.headers("manager"),
        json={"organisation_id": org, "joined": "2024-01-01"},
    )
    assert added.status_code == 201
    after = api.client.get("/directory", params={"region": "84"}).json()["items"][0]["member_count"]
    assert after == before + 1


def test_revoking_a_token_takes_effect_at_once(api: Api) -> None:
    h = api.headers("manager")
    tokens = api.app.state.tokens
    assert api.client.get("/clusters", headers=h).status_code == 200
    hits = tokens.hits
    assert api.client.get("/clusters", headers=h).status_code == 200
    assert tokens.hits == hits + 1  # resolved from the cache, not the database
    with session_scope(api.app.state.engine) as session:
        token_id = session.scalar(
            select(ApiToken.id).where(ApiToken.token_hash == accounts.hash_token(api.tokens["manager"]))
        )
    revoked = api.client.delete(f"/tokens/{token_id}", headers=api.headers("admin"))
    assert revoked.status_code == 204
    response = api.client.get("/clusters", headers=h)
    assert response.status_code == 401
    assert "révoqué" in response.json()["detail"]
    assert api.client.get("/clusters", headers=api.headers("admin")).status_code == 200


def test_deactivating_a_user_outside_the_api_locks_its_token_out(api: Api) -> None:
    h = api.headers("funder")
    assert api.client.get("/clusters", headers=h).status_code == 200
    assert api.client.get("/clusters", headers=h).status_code == 200
    user_id = api.world.actors["funder"].user_id  # type: ignore[attr-defined]
    with session_scope(api.app.state.engine, actor=LOCAL_ADMIN) as session:
        session.execute(update(User).where(User.id == user_id).values(active=False))
    assert api.client.get("/clusters", headers=h).status_code == 401


def test_expired_tokens_are_refused_even_when_cached() -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with pytest.raises(PermissionDeniedError):
        accounts.check_expiry(past)
    accounts.check_expiry(past, now=past - dt.timedelta(seconds=1))
    accounts.check_expiry(None)


def test_expired_token_over_http(api: Api) -> None:
    user_id = api.world.actors["manager"].user_id  # type: ignore[attr-defined]
    with session_scope(api.app.state.engine, actor=LOCAL_ADMIN) as session:
        soon = accounts.issue_token(
            session, LOCAL_ADMIN, user_id, expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        )
    assert api.client.get("/clusters", headers={"Authorization": f"Bearer {soon.token}"}).status_code == 401


def test_directory_without_cache_answers_the_same(
    database: object, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAPPE_API_CACHE", "0")
    get_settings.cache_clear()
    db = dbkit.new_database(database.backend, tmp_path)  # type: ignore[attr-defined]
    try:
        api = build_api(db)
        assert api.app.state.directory.size == 0
        assert _acronyms(api, region="84") == ["MECA"]
        assert _acronyms(api, region="84") == ["MECA"]
        assert len(api.app.state.directory) == 0
    finally:
        get_settings.cache_clear()
        db.drop()


def test_generation_cache_rules() -> None:
    cache: GenerationCache[str] = GenerationCache(size=2)
    cache.put("a", 1, "a1")
    assert cache.get("a", 1) == "a1"
    assert cache.get("a", 2) is None  # another generation: dropped
    assert cache.get("a", 1) is None
    cache.put("a", 3, "a3")
    cache.put("a", 2, "a2")  # an older reader does not overwrite a fresher answer
    assert cache.get("a", 3) == "a3"
    cache.put("b", 3, "b3")
    cache.get("a", 3)  # a is now the most recently used
    cache.put("c", 3, "c3")
    assert (cache.get("a", 3), cache.get("b", 3), cache.get("c", 3)) == ("a3", None, "c3")
    empty: GenerationCache[str] = GenerationCache(size=0)
    empty.put("a", 1, "a1")
    assert empty.get("a", 1) is None
    with pytest.raises(ValueError, match="size=-1"):
        GenerationCache(size=-1)
