"""Shared fixtures: an isolated GRAPPE_HOME, the real data beside the checkout, a local SMTP server."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, cast

import pytest

from grappe.config import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = Path(os.environ.get("GRAPPE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")) / "real"


@pytest.fixture(autouse=True)
def grappe_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own empty data directory, never the user's."""
    home = tmp_path_factory.mktemp("grappe_home")
    monkeypatch.setenv("GRAPPE_HOME", str(home))
    for name in ("GRAPPE_STORE", "GRAPPE_DATABASE_URL", "GRAPPE_ENGINE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def settings(grappe_home: Path) -> Settings:
    """The settings of the isolated data directory."""
    return get_settings()


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder of real public files (../shared/data/real); tests fail loudly without it."""
    if not REAL_DATA.is_dir():
        pytest.fail(f"real data folder not found: {REAL_DATA} (set GRAPPE_SHARED_DATA)")
    return REAL_DATA


@dataclass
class SmtpServer:
    """A real SMTP server on localhost, and the messages it received."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages received, once at least ``count`` have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A local SMTP server (aiosmtpd) that grappe's settings point at for the test."""
    from aiosmtpd.controller import Controller

    server = SmtpServer(host="127.0.0.1", port=0)

    class Handler:
        async def handle_DATA(  # noqa: N802 (the name aiosmtpd calls)
            self, _server: object, _session: object, envelope: Any
        ) -> str:
            parsed = message_from_bytes(envelope.original_content or envelope.content, policy=default)
            server.messages.append(cast(EmailMessage, parsed))
            return "250 Message accepted for delivery"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        server.port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname=server.host, port=server.port)
    controller.start()
    monkeypatch.setenv("GRAPPE_SMTP_HOST", server.host)
    monkeypatch.setenv("GRAPPE_SMTP_PORT", str(server.port))
    get_settings.cache_clear()
    try:
        yield server
    finally:
        controller.stop()
        get_settings.cache_clear()
