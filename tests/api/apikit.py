"""API test kit: an app on a fresh database with the test world and a token per role.

A module of its own (not conftest) so that test files import it by a name no other test
folder uses: ``conftest`` is ambiguous when several test folders are collected together.
"""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The registry tests' kit (databases on SQLite and PostgreSQL, the world) is shared by path:
# the test folders are not packages.
_KIT = Path(__file__).resolve().parents[1] / "registry"
sys.path.insert(0, str(_KIT))
dbkit = importlib.import_module("dbkit")
assert importlib.util.find_spec("dbkit") is not None

with warnings.catch_warnings():
    # Starlette warns that its TestClient will move to httpx2; not our code, nothing to fix.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from grappe.api import create_app  # noqa: E402
from grappe.registry import LOCAL_ADMIN  # noqa: E402
from grappe.registry.accounts import service as accounts  # noqa: E402
from grappe.registry.accounts.schemas import UserCreate  # noqa: E402
from grappe.storage.sql import session_scope  # noqa: E402


@dataclass
class Api:
    """An app on a fresh database with the test world and a token per role."""

    app: FastAPI
    client: TestClient
    world: object
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who in self.tokens else {}


def build_api(db: object) -> Api:
    with session_scope(db.engine, actor=LOCAL_ADMIN) as session:  # type: ignore[attr-defined]
        world = dbkit.build_world(session)
        admin = accounts.create_user(session, LOCAL_ADMIN, UserCreate(email="admin@grappe.fr", role="admin"))  # type: ignore[arg-type]
        tokens = {"admin": accounts.issue_token(session, LOCAL_ADMIN, admin.id).token}
        for name, actor in world.actors.items():
            if actor.user_id is not None:
                tokens[name] = accounts.issue_token(session, LOCAL_ADMIN, actor.user_id).token
    app = create_app(db.engine)  # type: ignore[attr-defined]
    return Api(app=app, client=TestClient(app, raise_server_exceptions=False), world=world, tokens=tokens)


def issue_fee_calls(api: Api, headers: dict[str, str], amount_eur: str) -> dict[str, Any]:
    """Set a 2024 fee schedule of one amount on cluster A, issue its calls; the page of calls."""
    a = api.world.a  # type: ignore[attr-defined]
    schedule = {"year": 2024, "rules": [{"membership_type": "adherent", "amount_eur": amount_eur}]}
    put = api.client.put(f"/clusters/{a}/fee-schedules", headers=headers, json=schedule)
    assert put.status_code == 200, put.text
    issued = api.client.post(f"/clusters/{a}/fee-calls", headers=headers, params={"year": 2024})
    assert issued.status_code == 200, issued.text
    page: dict[str, Any] = api.client.get(f"/clusters/{a}/fee-calls", headers=headers).json()
    return page


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server stopped at start-up"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
