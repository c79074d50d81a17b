"""The partners' pages, route x role with signed-in users, and their forms (CSRF, tenancy, mail)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from webkit import Web, build_web, csrf, dbkit, sign_in

from grappe.kit.mail import outbox
from grappe.partners.postings import service as postings
from grappe.partners.postings.schemas import PostingIn
from grappe.partners.profiles import service as profiles
from grappe.partners.profiles.schemas import ProfileIn
from grappe.registry import LOCAL_ADMIN
from grappe.storage.sql import session_scope

SOON = dt.date.today() + dt.timedelta(days=20)


@dataclass
class Partnered:
    """The web application with a profile of org_a (no consent yet) and a call of A."""

    web: Web
    world: Any
    posting: int

    def client_of(self, who: str) -> Any:
        client = self.web.client()
        if who != "public":
            assert sign_in(client, who).status_code == 303  # type: ignore[attr-defined]
        return client


@pytest.fixture(scope="module")
def partnered(database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Partnered]:
    db = dbkit.new_database(database.backend, tmp_path_factory.mktemp("partners"))
    try:
        web = build_web(db)
        world: Any = web.world
        with session_scope(db.engine, actor=LOCAL_ADMIN) as session:
            profiles.update_profile(
                session,
                LOCAL_ADMIN,
                world.org_a,
                ProfileIn(capabilities="Anodisation des pièces en titane", needs="Robotique confidentielle",
                          visibility={"capabilities": "public", "needs": "manager"}),
            )  # fmt: skip
            posting = postings.create_posting(
                session,
                LOCAL_ADMIN,
                world.a,
                PostingIn(title="Cherche Anodiseur", description="Pièces titane", deadline=SOON,
                          organisation_id=world.org_a),
            ).result.id  # fmt: skip
        yield Partnered(web, world, posting)
    finally:
        db.drop()


def post_form(client: Any, page: str, action: str, data: dict[str, Any]) -> Any:
    """Post a form of a page with that page's CSRF token."""
    token = csrf(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


def test_each_page_by_role(partnered: Partnered) -> None:
    w, posting = partnered.world, partnered.posting
    profile, detail = f"/partenaires/profils/{w.org_a}", f"/partenaires/recherches/{posting}"
    for page in ("/partenaires", "/partenaires/recherches", profile, detail):
        public = partnered.client_of("public").get(page, follow_redirects=False)
        assert public.status_code == 303
        assert public.headers["location"].startswith("/connexion?suite=")
    member, manager = partnered.client_of("member"), partnered.client_of("manager")
    for client in (member, manager):
        for page in ("/partenaires", "/partenaires/recherches", profile, detail):
            answer = client.get(page)
            assert answer.status_code == 200, (page, answer.status_code)
            assert "<script>" not in answer.text
        assert "Robotique confidentielle" in client.get(profile).text  # its own side reads every field
        assert "Cherche Anodiseur" in client.get("/partenaires/recherches").text
    # another tenant: no consent, no sharing: the profile and the call do not exist
    other = partnered.client_of("manager_other")
    assert other.get(profile).status_code == 404
    assert other.get(detail).status_code == 404
    listing = other.get("/partenaires/recherches")
    assert listing.status_code == 200
    assert "Cherche Anodiseur" not in listing.text
    assert other.get(f"/partenaires/profils/{w.org_b}").status_code == 200
    funder = partnered.client_of("funder")
    assert funder.get(profile).status_code == 404
    assert funder.get("/partenaires?q=anodisation").status_code == 403
    assert funder.get("/partenaires/recherches").status_code == 403
    assert funder.get(detail).status_code == 404
    assert member.get("/partenaires?portee=partout").status_code == 422


def test_profile_form_search_and_a_call_from_posting_to_closing(partnered: Partnered) -> None:
    w = partnered.world
    member, other = partnered.client_of("member"), partnered.client_of("manager_other")
    profile = f"/partenaires/profils/{w.org_a}"
    # a form without its CSRF token is refused
    assert member.post(profile, data={"capabilities": "x"}).status_code == 403
    saved = post_form(
        member,
        profile,
        profile,
        {"capabilities": "Anodisation des pièces en titane", "vis_capabilities": "public",
         "needs": "Robotique confidentielle", "vis_needs": "manager", "tags": ["testing", "subcontracting"],
         "consent_shown": "1", "consent": "1"},
    )  # fmt: skip
    assert saved.status_code == 303, saved.text[:300]
    page = member.get(saved.headers["location"]).text
    assert "Profil enregistré." in page
    assert 'value="testing" checked' in page
    # a bad tag: the form again, with the field named
    refused = post_form(member, profile, profile, {"tags": ["jonglage"]})
    assert refused.status_code == 422
    assert "Étiquettes" in refused.text
    # A shares with B: B's manager reads the public field, not the manager's, and finds the member
    manager = partnered.client_of("manager")
    from grappe.partners.profiles.schemas import SharingIn

    with session_scope(partnered.web.app.state.engine, actor=LOCAL_ADMIN) as session:
        profiles.set_sharing(session, LOCAL_ADMIN, w.a, SharingIn(clusters=[w.b]))
    read = other.get(profile)
    assert read.status_code == 200
    assert "Anodisation des pièces en titane" in read.text
    assert "Robotique confidentielle" not in read.text
    found = other.get("/partenaires?q=anodisation&portee=clusters").text
    assert "Décolletage Dupont" in found
    assert "mots en commun : anodisation" in found
    assert "Décolletage Dupont" not in other.get("/partenaires?q=anodisation&portee=cluster").text
    # a call: posted by the member, interest from B's manager for B's member, closed by A's manager
    before = len(outbox())
    posted = post_form(
        member,
        "/partenaires/recherches",
        "/partenaires/recherches",
        {"cluster_id": str(w.a), "title": "Usinage titane", "description": "Série de 500 pièces",
         "deadline": SOON.isoformat()},
    )  # fmt: skip
    assert posted.status_code == 303, posted.text[:300]
    detail = posted.headers["location"]
    assert len(outbox()) == before + 1  # no SMTP server here: the outbox under GRAPPE_HOME
    late = post_form(
        member,
        "/partenaires/recherches",
        "/partenaires/recherches",
        {"cluster_id": str(w.a), "title": "x", "description": "y", "deadline": "2020-01-01"},
    )
    assert late.status_code == 422
    assert "déjà passée" in late.text
    interest = post_form(
        other,
        detail,
        f"{detail}/interet",
        {"organisation_id": str(w.org_b), "message": "Nous usinons le titane"},
    )
    assert interest.status_code == 303, interest.text[:300]
    assert len(outbox()) == before + 2
    shown = member.get(detail).text
    assert "Carrières Le Goff" in shown
    assert "Nous usinons le titane" in shown
    again = post_form(other, detail, f"{detail}/interet", {"organisation_id": str(w.org_b)})
    assert again.status_code == 409
    assert "déjà intéressée" in again.text
    assert post_form(other, detail, f"{detail}/cloture", {}).status_code == 403
    assert post_form(manager, detail, f"{detail}/cloture", {}).status_code == 303
    assert "Clore la recherche" not in member.get(detail).text
