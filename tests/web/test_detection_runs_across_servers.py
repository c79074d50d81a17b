"""Detection runs on two server processes (two applications, two engines, one database): each
sees the other's runs, the same run is not started twice, a run whose process died reads as
interrupted and is restarted from the other."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from webkit import Web, build_web, create_app, csrf, dbkit, finished_job, sign_in

from grappe.registry import LOCAL_ADMIN
from grappe.registry.jobs import service
from grappe.registry.jobs.models import DetectionJob
from grappe.storage.sql import session_scope


@pytest.fixture
def servers(database: Any, tmp_path: Path) -> Iterator[tuple[Web, Web]]:
    """Two applications on one fresh database, each with its own engine, as two processes."""
    db = dbkit.new_database(database.backend, tmp_path)
    other = db.twin()
    try:
        first = build_web(db)
        yield first, Web(app=create_app(other), world=first.world, hidden=first.hidden)
    finally:
        other.dispose()
        db.drop()


def admin_of(site: Web) -> Any:
    client = site.client()
    assert sign_in(client, "admin").status_code == 303  # type: ignore[attr-defined]
    return client


def post(client: Any, action: str, data: dict[str, str]) -> Any:
    token = csrf(client.get("/admin/detection").text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def test_runs_are_shared_claimed_once_and_restarted_across_servers(
    servers: tuple[Web, Web], observatory_home: Path, grappe_home: Path
) -> None:
    first, second = servers
    engine = first.app.state.engine
    store = str(observatory_home.parent / "store")
    # a third server queued this run, then died: it never beats again
    dead = service.new_worker()
    parameters = service.check(store, "commune", "division", "reprise", "0")
    with session_scope(engine, actor=LOCAL_ADMIN) as session:
        lost = service.start(session, LOCAL_ADMIN, parameters, dead).id
        long_ago = dt.datetime.now(dt.UTC) - 2 * service.SILENCE
        session.execute(update(DetectionJob).where(DetectionJob.id == lost).values(heartbeat_at=long_ago))

    one, two = admin_of(first), admin_of(second)
    run = {
        "store": store,
        "level": "commune",
        "sectors": "section",
        "name": "deux-serveurs",
        "permutations": "0",
    }
    assert post(one, "/admin/detection", run).status_code == 303
    twice = post(two, "/admin/detection", run)
    assert twice.status_code == 409
    assert "déjà en attente ou en cours" in html.unescape(twice.text)

    page = html.unescape(two.get("/admin/detection").text)
    assert re.search(r"deux-serveurs</th>(.|\n)*?(En attente|En cours|Terminée)", page)
    assert "Interrompue : le processus du serveur" in page
    assert f'action="/admin/detection/{lost}/relance"' in page

    assert post(two, f"/admin/detection/{lost}/relance", {}).status_code == 303
    shared = finished_job(engine, "deux-serveurs")
    restarted = finished_job(second.app.state.engine, "reprise")
    assert (shared.status, restarted.status) == ("done", "done"), (shared.message, restarted.message)
    assert restarted.restart_of == lost
    assert (grappe_home / "observatory" / "reprise").is_symlink()

    page = one.get("/admin/detection").text
    assert 'href="/observatoire/deux-serveurs"' in page
    assert 'href="/observatoire/reprise"' in page
    done_again = post(one, f"/admin/detection/{shared.id}/relance", {})
    assert done_again.status_code == 409
    assert "ni en échec ni interrompue" in html.unescape(done_again.text)
