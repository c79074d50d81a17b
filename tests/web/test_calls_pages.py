"""The calls for projects pages, route x role with signed-in users, and their forms (CSRF, tenancy)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from webkit import PASSWORD, Web, build_web, csrf, dbkit, sign_in

from grappe.calls import service
from grappe.calls.schemas import ApplicationIn, BudgetLineIn, CallIn, CriterionIn, ReviewerIn
from grappe.registry import LOCAL_ADMIN
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts import signin
from grappe.registry.accounts.schemas import UserCreate
from grappe.registry.models import Role
from grappe.storage.sql import session_scope

REVIEWER = "r@eval.fr"


@dataclass
class Calls:
    web: Web
    call: int  # published, DATAR's
    draft: int  # unpublished, Région Bretagne's
    application: int  # cluster A's, submitted, assigned to the reviewer
    criteria: list[int]

    def client_of(self, who: str) -> Any:
        client = self.web.client()
        if who == "reviewer":
            token = csrf(client.get("/connexion").text)
            data = {"email": REVIEWER, "password": PASSWORD, "csrf_token": token}
            assert client.post("/connexion", data=data, follow_redirects=False).status_code == 303
        elif who != "public":
            assert sign_in(client, who).status_code == 303  # type: ignore[attr-defined]
        return client


def _call(funder: str, published: bool) -> CallIn:
    return CallIn(
        title=f"Appel {funder}",
        funder=funder,
        budget_eur=Decimal(100000),
        opens_on=dt.date(2020, 1, 1),
        closes_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
        applicant_kind="cluster",
        criteria=[
            CriterionIn(name="Stratégie", weight=Decimal("0.5")),
            CriterionIn(name="Services", weight=Decimal("0.5")),
        ],
        reviewers_per_application=1,
        published=published,
    )


@pytest.fixture(scope="module")
def calls(database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Calls]:
    db = dbkit.new_database(database.backend, tmp_path_factory.mktemp("calls"))
    try:
        web = build_web(db)
        world: Any = web.world
        with session_scope(db.engine, actor=LOCAL_ADMIN) as session:
            call = service.create_call(session, LOCAL_ADMIN, _call("DATAR", True))
            draft = service.create_call(session, LOCAL_ADMIN, _call("Région Bretagne", False))
            application = service.create_application(
                session,
                world.actors["manager"],
                call.id,
                ApplicationIn(
                    title="Achats groupés MECA",
                    cluster_id=world.a,
                    budget=[BudgetLineIn(organisation_id=world.org_a, amount_eur=Decimal(50000))],
                ),
            )
            service.submit_application(session, world.actors["manager"], application.id)
            user = accounts.create_user(session, LOCAL_ADMIN, UserCreate(email=REVIEWER, role=Role.REVIEWER))
            signin.set_password(session, LOCAL_ADMIN, user.id, PASSWORD)
            service.save_reviewer(session, LOCAL_ADMIN, ReviewerIn(user_id=user.id))
            service.assign_reviewers(session, LOCAL_ADMIN, call.id)
        yield Calls(web, call.id, draft.id, application.id, [c.id for c in call.criteria])
    finally:
        db.drop()


def test_the_list_and_a_published_call_are_public(calls: Calls) -> None:
    public = calls.client_of("public")
    listing = public.get("/appels")
    assert listing.status_code == 200
    assert "Appel DATAR" in listing.text
    assert "Appel Région Bretagne" not in listing.text
    assert public.get(f"/appels/{calls.call}").status_code == 200
    for who in ("public", "manager", "funder", "member"):
        assert calls.client_of(who).get(f"/appels/{calls.draft}").status_code == 404, who
    # a reviewer outside the pool's call, or a member, still reads a published call's page
    for who in ("member", "manager_other", "reviewer"):
        assert calls.client_of(who).get(f"/appels/{calls.call}").status_code == 200, who


@pytest.mark.parametrize(
    ("who", "status"),
    [("manager", 200), ("funder", 200), ("reviewer", 200), ("member", 404), ("manager_other", 404)],
)
def test_the_application_page_by_role(calls: Calls, who: str, status: int) -> None:
    answer = calls.client_of(who).get(f"/candidatures/{calls.application}")
    assert answer.status_code == status
    assert ("Achats groupés MECA" in answer.text) is (status == 200)


def test_a_visitor_is_asked_to_sign_in(calls: Calls) -> None:
    answer = calls.client_of("public").get(f"/candidatures/{calls.application}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/connexion?suite=/candidatures/")


def test_committee_is_the_funders(calls: Calls) -> None:
    assert calls.client_of("funder").get(f"/appels/{calls.call}/comite").status_code == 200
    for who in ("manager", "member", "reviewer"):
        assert calls.client_of(who).get(f"/appels/{calls.call}/comite").status_code == 403, who


def test_review_form_checks_the_scale_and_csrf(calls: Calls) -> None:
    reviewer = calls.client_of("reviewer")
    page = reviewer.get(f"/candidatures/{calls.application}/evaluation")
    assert page.status_code == 200
    token = csrf(page.text)
    first, second = calls.criteria
    bad = reviewer.post(
        f"/candidatures/{calls.application}/evaluation",
        data={"csrf_token": token, f"note_{first}": "25", f"note_{second}": "10"},
    )
    assert bad.status_code == 422
    assert "hors de l&#39;échelle 0 à 20" in bad.text or "hors de l'échelle 0 à 20" in bad.text
    refused = reviewer.post(
        f"/candidatures/{calls.application}/evaluation", data={f"note_{first}": "5", f"note_{second}": "5"}
    )
    assert refused.status_code == 403
    done = reviewer.post(
        f"/candidatures/{calls.application}/evaluation",
        data={
            "csrf_token": token,
            f"note_{first}": "15",
            f"note_{second}": "12,5",
            f"commentaire_{first}": "Solide",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "total pondéré 13,75" in reviewer.get(f"/candidatures/{calls.application}/evaluation").text


def test_the_application_form_makes_a_draft(calls: Calls) -> None:
    manager = calls.client_of("manager")
    form = manager.get(f"/appels/{calls.call}/candidature")
    assert form.status_code == 200
    world: Any = calls.web.world
    created = manager.post(
        f"/appels/{calls.call}/candidature",
        data={"csrf_token": csrf(form.text), "title": "Recrutement commun", "applicant": str(world.a)},
        follow_redirects=False,
    )
    assert created.status_code == 303
    page = manager.get(created.headers["location"])
    assert "Recrutement commun" in page.text
    assert "Brouillon" in page.text
