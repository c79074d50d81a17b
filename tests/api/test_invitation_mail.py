"""An organisation invited through the API hears of it by mail; a refused invitation sends nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apikit import Api, build_api, dbkit

from grappe.kit.mail import outbox


@pytest.fixture
def api(database: Any, tmp_path: Path) -> Iterator[Api]:
    db = dbkit.new_database(database.backend, tmp_path)
    try:
        yield build_api(db)
    finally:
        db.drop()


def test_the_invited_organisations_people_get_a_mail(api: Api, smtp_server: Any) -> None:
    w: Any = api.world
    siren_a = api.client.get(f"/organisations/{w.org_a}", headers=api.headers("admin")).json()["siren"]
    refused = api.client.post(
        f"/clusters/{w.a}/invitations",
        headers=api.headers("manager_other"),
        json={"siren": siren_a, "joined": "2025-01-01"},
    )
    assert refused.status_code == 403  # a public cluster it does not run
    sent = api.client.post(
        f"/clusters/{w.b}/invitations",
        headers=api.headers("manager_other"),
        json={"siren": siren_a, "joined": "2025-01-01"},
    )
    assert sent.status_code == 201, sent.text
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "anne@dupont.fr, u@dupont.fr, x@y.fr"
    assert "Granit Bretagne" in message["Subject"]
    body = message.get_content()
    assert "Décolletage Dupont" in body
    assert f"invitation n° {sent.json()['id']}" in body


def test_without_smtp_the_mail_waits_in_the_outbox(api: Api) -> None:
    w: Any = api.world
    siren_a = api.client.get(f"/organisations/{w.org_a}", headers=api.headers("admin")).json()["siren"]
    sent = api.client.post(
        f"/clusters/{w.b}/invitations",
        headers=api.headers("admin"),
        json={"siren": siren_a, "joined": "2025-01-01"},
    )
    assert sent.status_code == 201, sent.text
    (mail,) = outbox()
    assert b"Granit Bretagne" in mail.read_bytes()
