"""`grappe serve` for real: a fresh database, two worker processes, answers over loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_migrates_once_then_starts_its_workers(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "GRAPPE_HOME": str(tmp_path)}
    env.pop("GRAPPE_DATABASE_URL", None)
    command = [sys.executable, "-m", "grappe", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/directory", timeout=5) as answer:
                    body = json.loads(answer.read())
            except OSError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                time.sleep(0.3)
        assert body == {"total": 0, "items": []}
        assert (tmp_path / "registry.sqlite3").exists()
    finally:
        server.terminate()
        server.wait(30)
