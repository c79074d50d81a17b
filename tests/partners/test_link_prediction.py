"""The partner index of a past year knows nothing after it, and predicts the next partnerships."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from grappe.partners import repository
from grappe.partners.search import Need
from grappe.partners.service import build_index
from grappe.storage.sql import make_engine, session_scope

UNTIL = 2010


@pytest.fixture(scope="module")
def session(anr_registry: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{anr_registry}", pool=False)
    with session_scope(engine, write=False) as opened:
        yield opened
    engine.dispose()


def projects(session: Session) -> dict[int, tuple[int | None, set[int], str]]:
    found: dict[int, tuple[int | None, set[int], str]] = {}
    for part in repository.participations(session):
        found.setdefault(part.project_id, (part.edition, set(), part.title))[1].add(part.organisation_id)
    return found


def test_an_index_up_to_an_edition_holds_nothing_of_later_projects(session: Session) -> None:
    stored = build_index(session, until_edition=UNTIL)
    known = projects(session)
    before = {pid: p for pid, p in known.items() if p[0] is not None and p[0] <= UNTIL}
    after = {pid: p for pid, p in known.items() if pid not in before}
    seen = {oid for _, partners, _ in before.values() for oid in partners}
    assert {o.id for o in stored.index.organisations} == seen
    assert any(partners - seen for _, partners, _ in after.values())  # newcomers exist, left out
    together: dict[int, set[int]] = defaultdict(set)
    for _, partners, _ in before.values():
        for oid in partners:
            together[oid] |= partners - {oid}
    for oid in seen:
        assert set(stored.index.partners(oid)) == together[oid]
    old_titles = {title for _, _, title in before.values()}
    texts = {o.id: o.text for o in stored.index.organisations}
    for _, partners, title in after.values():
        # A long title cannot be found in another text by chance (short ones are acronyms).
        if len(title) >= 30 and not any(title in t for t in old_titles):
            assert not any(title in texts.get(oid, "") for oid in partners), title


def test_search_finds_next_years_partners_better_than_popularity(session: Session) -> None:
    stored = build_index(session, until_edition=UNTIL)
    index = stored.index
    popular = [o.id for o in sorted(index.organisations, key=lambda o: -index.degree[index.row(o.id)])]
    found = by_popularity = total = 0
    for edition, partners, _ in projects(session).values():
        if edition != UNTIL + 1:
            continue
        known = partners & stored.clusters.keys()
        for oid in sorted(known):
            targets = known - {oid}
            suggested = {s.organisation for s in index.search(Need(organisation=oid), 10)}
            found += len(targets & suggested)
            by_popularity += len(targets & set([p for p in popular if p != oid][:10]))
            total += len(targets)
    assert total > 100
    assert found > by_popularity
    assert found / total > 0.1


def test_only_an_administrator_asks_over_every_organisation(session: Session, tmp_path: Path) -> None:
    from grappe.errors import PermissionDeniedError
    from grappe.kit.tables import Row
    from grappe.partners.service import suggest_batch
    from grappe.registry import PUBLIC

    with pytest.raises(PermissionDeniedError, match="accès refusé"):
        suggest_batch(session, PUBLIC, tmp_path / "q.csv", [Row(2, {"organisation": "BIOCYTEX"})], top=3)
