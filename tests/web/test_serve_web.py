"""`grappe serve` as a person runs it: it says where to open it, serves the pages, stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from grappe.cli.serve import listening_url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_listening_url_is_one_a_browser_opens() -> None:
    assert listening_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert listening_url("0.0.0.0", 80) == "http://127.0.0.1:80/"
    assert listening_url("::", 8000) == "http://[::1]:8000/"
    assert listening_url("grappe.example.org", 8000) == "http://grappe.example.org:8000/"


@pytest.mark.slow
def test_serve_prints_its_url_serves_the_home_page_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "GRAPPE_HOME": str(tmp_path)}
    env.pop("GRAPPE_DATABASE_URL", None)
    command = [sys.executable, "-m", "grappe", "serve", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.strip() == f"grappe écoute sur http://127.0.0.1:{port}/ (Ctrl-C pour arrêter)"
        page = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and page is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    page = answer.read().decode()
            except OSError:
                assert server.poll() is None
                time.sleep(0.3)
        assert page is not None
        assert '<html lang="fr">' in page
        # a second server on the same port is refused in French, exit status 2
        busy = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert busy.returncode == 2
        assert f"--port {port} : impossible d'écouter sur 127.0.0.1 (port déjà utilisé)" in busy.stderr
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=60)
        assert server.returncode == 0
        assert out.strip().endswith("grappe arrêté.")
        assert "Traceback" not in err
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(30)
