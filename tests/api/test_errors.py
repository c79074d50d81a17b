"""Error answers of the API: French one-line details, no server path, no 5xx on bad input, 413."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from apikit import Api, build_api, dbkit, serving
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from grappe.api.errors import scrub_paths, validation_body
from grappe.config import get_settings
from grappe.errors import EngineError
from grappe.storage.sql import session_scope

LIMIT = 64 * 1024


@pytest.fixture
def small(database: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The API with a body limit of 64 KiB (GRAPPE_MAX_BODY)."""
    monkeypatch.setenv("GRAPPE_MAX_BODY", str(LIMIT))
    get_settings.cache_clear()
    db = dbkit.new_database(database.backend, tmp_path)  # type: ignore[attr-defined]
    try:
        yield build_api(db)
    finally:
        get_settings.cache_clear()
        db.drop()


def _french_413(response: httpx.Response) -> None:
    assert response.status_code == 413
    assert response.json()["detail"] == "corps de la requête trop volumineux : au plus 65\u202f536 octets"


def test_body_over_the_limit_is_413_before_it_is_read(small: Api) -> None:
    h = small.headers("admin")
    with serving(small.app) as base:
        port = int(base.rsplit(":", 1)[1])
        # Only the headers are sent: the answer must come without waiting for 100 MB.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(
                b"POST /organisations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Authorization: {h['Authorization']}\r\n".encode()
                + f"Content-Length: {100 * 1024 * 1024}\r\n\r\n".encode()
            )
            started = time.monotonic()
            head = raw.recv(65536).decode("utf-8")
        assert head.startswith("HTTP/1.1 413"), head
        assert "trop volumineux" in head
        assert time.monotonic() - started < 5

        def chunks() -> Iterator[bytes]:  # a streamed body: no Content-Length
            yield b'{"name": "'
            for _ in range(10):
                yield b"x" * 16384
            yield b'"}'

        _french_413(httpx.post(f"{base}/organisations", headers=h, content=chunks()))
        member_file = {"file": ("membres.csv", b"nom\n" + b"x" * LIMIT)}
        _french_413(
            httpx.post(f"{base}/clusters/{small.world.a}/members/import", headers=h, files=member_file)
        )  # type: ignore[attr-defined]
        under = httpx.post(f"{base}/organisations", headers=h, json={"name": "x" * 200})
        assert under.status_code == 201


def test_out_of_range_integers_are_422_in_french(api: Api) -> None:
    body = {"email": "x@y.fr", "role": "manager", "clusters": [17814974899458158407083622400]}
    response = api.client.post("/users", headers=api.headers("admin"), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "InputError"


def test_validation_errors_are_french_with_their_location(api: Api) -> None:
    h = api.headers("admin")
    response = api.client.get("/clusters", headers=h, params={"limit": "beaucoup"})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "requête invalide — limit (paramètre) : nombre entier attendu"
    assert body["errors"] == [
        {"loc": ["query", "limit"], "type": "int_parsing", "msg": "nombre entier attendu"}
    ]
    response = api.client.post("/clusters", headers=h, json={"name": "", "acronym": 3})
    problems = {tuple(e["loc"]): e["msg"] for e in response.json()["errors"]}
    assert problems[("body", "name")] == "vide"  # grappe.registry.bounds says it in French itself
    assert problems[("body", "acronym")] == "texte attendu"
    broken = api.client.post("/clusters", headers={**h, "Content-Type": "application/json"}, content=b"{nom")
    assert broken.json()["detail"] == "requête invalide — corps : JSON invalide à la position 1"


def test_framework_errors_are_french(api: Api) -> None:
    assert api.client.get("/nulle-part").json()["detail"] == "adresse inconnue de l'API (voir /docs)"
    assert api.client.delete("/health").json()["detail"].startswith("méthode HTTP non permise")


def test_unexpected_failures_are_a_french_500_without_internals(api: Api) -> None:
    def boom() -> None:
        raise RuntimeError("/srv/grappe/secret.sqlite3: Traceback (most recent call last)")

    def engine_down() -> None:
        raise EngineError("catalogue /srv/grappe/store/catalogue.duckdb illisible")

    api.app.add_api_route("/boom", boom)
    api.app.add_api_route("/engine", engine_down)
    response = api.client.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"] == "InternalError"
    assert response.json()["detail"].startswith("erreur interne du serveur")
    assert "srv" not in response.text
    assert "Traceback" not in response.text
    response = api.client.get("/engine")
    assert response.status_code == 503
    assert response.json()["detail"] == "catalogue catalogue.duckdb illisible"


def test_scrub_paths_keeps_file_names_urls_and_dates() -> None:
    assert scrub_paths("verrou sur /home/u/.grappe/store/x.duckdb refusé") == "verrou sur x.duckdb refusé"
    assert scrub_paths(r"fichier C:\Users\u\grappe\m.csv absent") == "fichier m.csv absent"
    kept = "voir https://example.fr/a/b, le 01/02/2024, NAF 25/28"
    assert scrub_paths(kept) == kept


def test_validation_body_counts_what_it_does_not_show() -> None:
    errors = [{"type": "missing", "loc": ("body", f"f{i}")} for i in range(7)]
    body = validation_body(errors)
    assert body["detail"].endswith("f4 (corps) : valeur obligatoire absente ; et 2 autre(s) problème(s)")
    assert len(body["errors"]) == 7


def test_error_answers_are_described_in_the_document(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    post = document["paths"]["/organisations"]["post"]["responses"]
    for code in ("404", "409", "413", "422"):
        assert post[code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }
    assert document["components"]["schemas"]["ErrorOut"]["required"] == ["detail"]


def test_lock_and_deadlock_errors_are_not_500(api: Api) -> None:
    """A read unit that writes after another writer committed (SQLite's BUSY_SNAPSHOT, real)
    answers 503 with Retry-After; PostgreSQL's deadlock answers 409, nothing stored."""
    engine = api.app.state.engine

    def read_then_write() -> None:
        with session_scope(engine, write=False) as reader:
            reader.execute(text("SELECT count(*) FROM organisations")).scalar()
            with session_scope(engine) as writer:
                writer.execute(text("UPDATE registry_state SET generation = generation + 1"))
            reader.execute(text("UPDATE registry_state SET generation = generation + 1"))

    def deadlock() -> None:
        raise OperationalError("UPDATE …", {}, psycopg.errors.DeadlockDetected("deadlock detected"))

    api.app.add_api_route("/read-then-write", read_then_write)
    api.app.add_api_route("/deadlock", deadlock)
    if engine.dialect.name == "sqlite":
        response = api.client.get("/read-then-write")
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "2"
        assert response.json()["error"] == "BusyError"
    response = api.client.get("/deadlock")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("écriture concurrente en conflit")
