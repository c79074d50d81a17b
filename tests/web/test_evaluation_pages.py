"""Evaluation pages, route x role with signed-in users: scorecard, benchmark, contracts, reports, form."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from webkit import Web, build_web, csrf, dbkit, sign_in

from grappe.evaluation import service
from grappe.evaluation.repository import funder_by_name
from grappe.evaluation.schemas import ContractIn
from grappe.registry import LOCAL_ADMIN
from grappe.storage.sql import session_scope

YEAR = 2024


@dataclass
class Evaluated:
    web: Web
    a: int
    b: int
    contract: int

    def client_of(self, who: str) -> Any:
        client = self.web.client()
        if who != "public":
            assert sign_in(client, who).status_code == 303  # type: ignore[attr-defined]
        return client


@pytest.fixture(scope="module")
def evaluated(database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Evaluated]:
    db = dbkit.new_database(database.backend, tmp_path_factory.mktemp("evaluation"))
    try:
        web = build_web(db)
        world: Any = web.world
        with session_scope(db.engine, actor=LOCAL_ADMIN) as session:
            datar = funder_by_name(session, "DATAR")
            assert datar is not None
            contract = service.create_contract(
                session,
                LOCAL_ADMIN,
                ContractIn(
                    cluster_id=world.a,
                    funder_id=datar.id,
                    title="Contrat de performance MECA",
                    start_year=2024,
                    end_year=2025,
                    amount_eur=100_000,
                    indicators=[{"indicator": "members", "baseline": 0, "targets": {2024: 2}}],
                ),
            ).id
        yield Evaluated(web, world.a, world.b, contract)
    finally:
        db.drop()


PAGES = [
    "/evaluation/{c}?annee=2024",
    "/evaluation/{c}/comparaison?indicateur=sme_share&annee=2024",
    "/evaluation/{c}/rapport.html?annee=2024",
]
#: Who reads each page of their own cluster A (the others know A, a public cluster: 403).
READERS = {
    PAGES[0]: {"manager", "member", "funder"},
    PAGES[1]: {"manager", "funder"},
    PAGES[2]: {"manager", "member", "funder"},
}


@pytest.mark.parametrize("page", PAGES)
def test_each_page_by_role(evaluated: Evaluated, page: str) -> None:
    own, other = page.format(c=evaluated.a), page.format(c=evaluated.b)
    hidden = page.format(c=evaluated.web.hidden)
    for who in ("manager", "member", "funder", "manager_other"):
        client = evaluated.client_of(who)
        expected = 200 if who in READERS[page] else 403
        assert client.get(own).status_code == expected, who
        assert client.get(hidden).status_code == 404, who
    assert evaluated.client_of("manager").get(other).status_code == 403
    public = evaluated.client_of("public").get(own, follow_redirects=False)
    assert public.status_code == 303
    assert public.headers["location"].startswith("/connexion?suite=/evaluation/")


def test_the_scorecard_shows_the_marks_in_words_and_no_inline_code(evaluated: Evaluated) -> None:
    page = evaluated.client_of("manager").get(f"/evaluation/{evaluated.a}?annee={YEAR}").text
    for mark in ("PME en réseau", "Liens avec le territoire", "Masse critique", "Valeur ajoutée régionale"):
        assert mark in page
    assert 'class="rag rag--' in page
    assert "inspirés de l" in page
    assert "<script>" not in page
    assert "style=" not in page
    english = evaluated.client_of("manager").get(f"/evaluation/{evaluated.a}?annee={YEAR}&lang=en").text
    assert "Management self-assessment" in english
    for mark in ("Networked SMEs", "Ties with the territory", "Critical mass", "Regional added value"):
        assert mark in english
    assert "PME en réseau" not in english
    assert "Share of SMEs" in english
    assert "Part de PME" not in english
    assert "Cluster structure" in english  # an area of the self-assessment


def test_values_are_written_the_way_the_page_language_writes_them() -> None:
    from grappe.evaluation import reports
    from grappe.kit.present import Formatter

    assert reports.value_text("sme_share", 0.5) == reports.value_text("sme_share", 0.5, Formatter("fr"))
    assert reports.value_text("sme_share", 0.5).replace("\u202f", " ").replace("\xa0", " ") == "50,0 %"
    assert reports.value_text("sme_share", 0.5, Formatter("en")) == "50.0%"
    assert reports.value_text("fee_income", 1234.5, Formatter("en")) == "€1,234.50"
    assert reports.value_text("members", None, Formatter("en")) == "n/a"
    assert reports.value_text("members", None) == "n/d"


def test_the_benchmark_names_peers_by_right(evaluated: Evaluated) -> None:
    manager = evaluated.client_of("manager").get(
        f"/evaluation/{evaluated.a}/comparaison?indicateur=members&annee={YEAR}"
    )
    assert manager.status_code == 200
    assert "<svg" in manager.text
    assert "Granit Bretagne" not in manager.text
    admin = evaluated.client_of("admin").get(
        f"/evaluation/{evaluated.a}/comparaison?indicateur=members&annee={YEAR}"
    )
    assert admin.status_code == 200


def test_contract_pages(evaluated: Evaluated) -> None:
    page = f"/evaluation/contrats/{evaluated.contract}?annee=2024"
    for who, status in (("funder", 200), ("manager", 200), ("member", 404), ("manager_other", 404)):
        assert evaluated.client_of(who).get(page).status_code == status, who
    listed = evaluated.client_of("funder").get("/evaluation/contrats").text
    assert "Contrat de performance MECA" in listed
    assert (
        "Contrat de performance MECA"
        not in evaluated.client_of("manager_other").get("/evaluation/contrats").text
    )
    shown = evaluated.client_of("funder").get(page).text
    assert "Atteinte pondérée 2024" in shown
    assert (
        evaluated.client_of("funder").get(f"/evaluation/contrats/{evaluated.contract}?annee=2030").status_code
        == 422
    )


def test_the_self_assessment_form(evaluated: Evaluated) -> None:
    manager = evaluated.client_of("manager")
    page = f"/evaluation/{evaluated.a}?annee={YEAR}"
    action = f"/evaluation/{evaluated.a}/auto-evaluation"
    form = {"area": "governance", "year": str(YEAR), "score": "4", "comment": "Bureau élu en 2024"}
    refused = manager.post(action, data=form, follow_redirects=False)
    assert refused.status_code == 403
    token = csrf(manager.get(page).text)
    done = manager.post(
        action,
        data={**form, "csrf_token": token},
        files={"evidence": ("pv.pdf", b"%PDF-1.4 pv", "application/pdf")},
        follow_redirects=False,
    )
    assert done.status_code == 303
    shown = manager.get(page).text
    assert "Bureau élu en 2024" in shown
    assert "pv.pdf" in shown
    bad = manager.post(action, data={**form, "score": "9", "csrf_token": token}, follow_redirects=False)
    assert bad.status_code == 422
    assert "Note" in bad.text
    hidden = manager.post(
        f"/evaluation/{evaluated.web.hidden}/auto-evaluation",
        data={**form, "csrf_token": token},
        follow_redirects=False,
    )
    assert hidden.status_code == 404
    member = evaluated.client_of("member")
    assert "auto-evaluation" not in member.get(page).text.split("Domaines de l")[1]
    member_post = member.post(
        action, data={**form, "csrf_token": csrf(member.get(page).text)}, follow_redirects=False
    )
    assert member_post.status_code == 403
