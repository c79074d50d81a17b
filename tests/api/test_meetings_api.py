"""B2B meetings over HTTP: a member's path (list, register, wish, agenda) and the organiser's files."""

from __future__ import annotations

from typing import Any

from apikit import Api


def test_a_member_registers_wishes_and_reads_its_published_agenda(api: Api) -> None:
    world: Any = api.world  # type: ignore[attr-defined]
    manager, member, guest = (api.headers(w) for w in ("manager", "member", "member_other"))
    created = api.client.post(
        f"/clusters/{world.a}/b2b-events",
        headers=manager,
        json={
            "title": "Rencontres",
            "starts_at": "2026-06-11T09:00",
            "slots": 2,
            "tables": 1,
            "max_meetings": 1,
        },
    )
    assert created.status_code == 201, created.text
    event = created.json()["id"]
    assert created.json()["ends_at"].startswith("2026-06-11T07:40")  # 09:00 Paris, two slots of 20 min
    assert (
        api.client.post(
            f"/b2b-events/{event}/guests", headers=manager, json={"cluster_id": world.b}
        ).status_code
        == 200
    )
    listed = api.client.get("/b2b-events", headers=guest).json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == event
    for who in (member, guest):
        assert api.client.post(f"/b2b-events/{event}/participants", headers=who, json={}).status_code == 201
    wish = api.client.post(
        f"/b2b-events/{event}/wishes", headers=member, json={"to_organisation_id": world.org_b}
    )
    assert wish.json()["status"] == "pending"
    back = api.client.post(
        f"/b2b-events/{event}/wishes", headers=guest, json={"to_organisation_id": world.org_a}
    )
    assert back.json()["status"] == "accepted"
    scheduled = api.client.post(f"/b2b-events/{event}/schedule", headers=manager, json={"time_limit": 10})
    assert scheduled.json()["meetings"] == 1
    assert api.client.get(f"/b2b-events/{event}/agenda", headers=member).status_code == 422  # unpublished
    assert (
        "pas encore publié" in api.client.get(f"/b2b-events/{event}/agenda", headers=member).json()["detail"]
    )
    assert api.client.put(f"/b2b-events/{event}/publication", headers=manager, json={}).status_code == 200
    agenda = api.client.get(f"/b2b-events/{event}/agenda", headers=member).json()
    assert [line["partner"] for line in agenda["lines"]] == ["Carrières Le Goff"]
    ics = api.client.get(f"/b2b-events/{event}/agenda.ics", headers=guest)
    assert ics.headers["content-type"].startswith("text/calendar")
    plan = api.client.get(f"/b2b-events/{event}/table-plan.csv", headers=manager)
    assert plan.text.splitlines()[0] == "slot,table,participant_a,participant_b,starts_at,ends_at"
    assert api.client.get(f"/b2b-events/{event}/table-plan.csv", headers=member).status_code == 403
    assert api.client.get(f"/b2b-events/{event}/table-plan.xlsx", headers=manager).status_code == 422
    bad = api.client.post(
        f"/b2b-events/{event}/wishes",
        headers=member,
        json={"to_organisation_id": world.org_b, "priority": 11},
    )
    assert bad.status_code == 422
