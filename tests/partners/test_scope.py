"""`--scope` of the batch suggestions on the registry's test world (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from grappe.kit.tables import Row
from grappe.partners.profiles.schemas import ProfileIn, SharingIn
from grappe.partners.profiles.service import set_sharing, update_profile
from grappe.partners.service import SearchScope, suggest_batch
from grappe.registry import LOCAL_ADMIN

QUERIES = Path("demandes.csv")


def ask(db: Session, name: str, scope: SearchScope) -> tuple[set[str], list[str]]:
    rows, issues = suggest_batch(
        db, LOCAL_ADMIN, QUERIES, [Row(2, {"organisation": name})], top=5, scope=scope
    )
    return {r.suggestion for r in rows}, [i.reason for i in issues]


def test_scopes_choose_among_everyone_cluster_members_or_the_askers_cluster(
    db: Session, world: object
) -> None:
    assert ask(db, "Décolletage Dupont", SearchScope.ALL) == ({"Carrières Le Goff", "Solo SARL"}, [])
    # other clusters' members only when their cluster shares with the query's (interclustering),
    # and only those who consent
    assert ask(db, "décolletage  DUPONT", SearchScope.CLUSTERS) == (
        set(),
        ["aucun candidat dans ce périmètre"],
    )
    set_sharing(db, LOCAL_ADMIN, world.b, SharingIn(clusters=[world.a]))  # type: ignore[attr-defined]
    assert ask(db, "décolletage  DUPONT", SearchScope.CLUSTERS) == (
        set(),
        ["aucun candidat dans ce périmètre"],
    )
    update_profile(db, LOCAL_ADMIN, world.org_b, ProfileIn(consent=True))  # type: ignore[attr-defined]
    assert ask(db, "décolletage  DUPONT", SearchScope.CLUSTERS) == ({"Carrières Le Goff"}, [])
    # sharing goes one way: A shares nothing with B
    assert ask(db, "Carrières Le Goff", SearchScope.CLUSTERS) == (set(), ["aucun candidat dans ce périmètre"])
    # Alone in its cluster: nothing to suggest, and it is said.
    assert ask(db, "Décolletage Dupont", SearchScope.CLUSTER) == (set(), ["aucun candidat dans ce périmètre"])
    assert ask(db, "Solo SARL", SearchScope.CLUSTER) == (
        set(),
        ["membre d'aucune grappe : --scope cluster sans objet"],
    )
