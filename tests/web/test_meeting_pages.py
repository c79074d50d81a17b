"""The B2B meeting pages, route x role with signed-in users, and their forms (CSRF, tenancy)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from webkit import PASSWORD, Web, build_web, csrf, dbkit, sign_in

from grappe.partners.meetings import service
from grappe.partners.meetings.schemas import B2BEventIn, GuestIn, ParticipantIn
from grappe.registry import LOCAL_ADMIN
from grappe.registry.accounts import signin
from grappe.storage.sql import session_scope

START = dt.datetime(2026, 6, 11, 7, 0, tzinfo=dt.UTC)


@dataclass
class Meetings:
    """The web application with a B2B event of A (``own``, B a guest) and one of B (``other``)."""

    web: Web
    own: int
    other: int

    def client_of(self, who: str) -> Any:
        client = self.web.client()
        if who == "member_other":
            token = csrf(client.get("/connexion").text)
            answer = client.post(
                "/connexion",
                data={"email": "u@legoff.fr", "password": PASSWORD, "csrf_token": token},
                follow_redirects=False,
            )
            assert answer.status_code == 303
        elif who != "public":
            assert sign_in(client, who).status_code == 303  # type: ignore[attr-defined]
        return client


@pytest.fixture(scope="module")
def meetings(database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Meetings]:
    db = dbkit.new_database(database.backend, tmp_path_factory.mktemp("meetings"))
    try:
        web = build_web(db)
        world: Any = web.world
        with session_scope(db.engine, actor=LOCAL_ADMIN) as session:
            signin.set_password(session, LOCAL_ADMIN, world.actors["member_other"].user_id, PASSWORD)
            data = B2BEventIn(title="Rencontres usinage", starts_at=START, slots=3, tables=2, max_meetings=2)
            own = service.create_event(session, LOCAL_ADMIN, world.a, data).id
            service.add_guest_cluster(session, LOCAL_ADMIN, own, GuestIn(cluster_id=world.b))
            service.register(session, LOCAL_ADMIN, own, ParticipantIn(organisation_id=world.org_a))
            hidden = B2BEventIn(title="Rencontres granit", starts_at=START, slots=2, tables=1, max_meetings=1)
            other = service.create_event(session, LOCAL_ADMIN, world.b, hidden).id
            service.register(session, LOCAL_ADMIN, other, ParticipantIn(organisation_id=world.org_b))
        yield Meetings(web, own, other)
    finally:
        db.drop()


def post_form(client: Any, page: str, action: str, data: dict[str, str]) -> Any:
    token = csrf(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def test_pages_by_role(meetings: Meetings) -> None:
    own, other = f"/rendez-vous/{meetings.own}", f"/rendez-vous/{meetings.other}"
    member, manager = meetings.client_of("member"), meetings.client_of("manager")
    assert "Rencontres usinage" in member.get("/rendez-vous").text
    assert "Rencontres granit" not in member.get("/rendez-vous").text
    page = member.get(own)
    assert page.status_code == 200
    assert "Souhaiter un rendez-vous" in page.text  # registered: the wishes, not the registration
    assert "<script>" not in page.text
    assert member.get(other).status_code == 404
    assert member.get(f"{own}/plan").status_code == 403
    assert member.get(f"{own}/plan.csv").status_code == 403
    assert manager.get(f"{own}/plan").status_code == 200
    assert manager.get(f"{other}/plan").status_code == 404
    assert manager.get(f"{other}/agenda").status_code == 404
    assert meetings.client_of("manager_other").get(own).status_code == 404
    assert meetings.client_of("funder").get(own).status_code == 404
    public = meetings.client_of("public").get(own, follow_redirects=False)
    assert public.status_code == 303
    assert public.headers["location"].startswith("/connexion?suite=/rendez-vous/")


def test_register_wish_answer_schedule_publish_and_read_the_agenda(meetings: Meetings) -> None:
    own = f"/rendez-vous/{meetings.own}"
    world: Any = meetings.web.world
    guest, member, manager = (meetings.client_of(w) for w in ("member_other", "member", "manager"))
    # the guest cluster's member registers itself, unavailable in slot 1
    assert "Inscrire mon organisation" in guest.get(own).text
    assert post_form(guest, own, f"{own}/inscription", {"slot": "1"}).status_code == 303
    wished = post_form(member, own, f"{own}/souhaits", {"to": str(world.org_b), "priority": "4"})
    assert wished.status_code == 303
    page = guest.get(own).text
    assert "en attente" in page
    assert "Participants suggérés" not in page or "Décolletage Dupont" in page
    wishes = service_wishes(meetings)
    answer = post_form(guest, own, f"{own}/souhaits/{wishes[0]}/reponse", {"accept": "1"})
    assert answer.status_code == 303
    assert post_form(manager, f"{own}/plan", f"{own}/planification", {"method": "optimal"}).status_code == 303
    assert "Carrières Le Goff" in manager.get(f"{own}/plan").text
    assert post_form(manager, f"{own}/plan", f"{own}/publication", {"published": "1"}).status_code == 303
    agenda = member.get(f"{own}/agenda")
    assert agenda.status_code == 200
    assert "Carrières Le Goff" in agenda.text
    ics = member.get(f"{own}/agenda.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert b"Rendez-vous avec Carr" in ics.content
    assert manager.get(f"{own}/plan.pdf").content.startswith(b"%PDF")
    assert member.get(f"{own}/agenda.xlsx").status_code == 404
    english = member.get(f"{own}/agenda?lang=en").text
    assert "My meetings" in english


def service_wishes(meetings: Meetings) -> list[int]:
    engine = meetings.web.app.state.engine
    with session_scope(engine, actor=LOCAL_ADMIN) as session:
        return [w.id for w in service.list_wishes(session, LOCAL_ADMIN, meetings.own).items]


def test_forms_refuse_a_missing_csrf_token_and_bad_input(meetings: Meetings) -> None:
    own = f"/rendez-vous/{meetings.own}"
    member = meetings.client_of("member")
    refused = member.post(f"{own}/souhaits", data={"to": "1"})
    assert refused.status_code == 403
    assert "Formulaire expiré" in refused.text
    bad = post_form(member, own, f"{own}/souhaits", {"to": "deux", "priority": "1"})
    assert bad.status_code == 422
    assert "nombre entier attendu" in bad.text
    other = post_form(member, own, f"/rendez-vous/{meetings.other}/souhaits", {"to": "1"})
    assert other.status_code == 404
