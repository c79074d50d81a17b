"""Public pages over HTTP: home, directory (filters, sorting, pages), profile, languages, headers."""

from __future__ import annotations

import html
import re

import pytest
from webkit import EXTRA_CLUSTERS, Web, sign_in

from grappe.web import i18n, security
from grappe.web.registry.routes import PAGE_SIZE


def test_home_says_what_grappe_is_with_key_figures_in_french(web: Web) -> None:
    answer = web.client().get("/")
    assert answer.status_code == 200
    page = html.unescape(answer.text)
    assert '<html lang="fr">' in page
    assert "la plateforme ouverte des clusters d'entreprises" in page
    # 2 public clusters of the world + the extra ones; the hidden one is not counted
    assert f'<p class="card__value">{2 + EXTRA_CLUSTERS}</p>' in page
    assert 'href="#contenu"' in page
    assert 'id="contenu"' in page


def test_home_offers_the_sign_in_only_to_visitors_not_signed_in(web: Web) -> None:
    client = web.client()
    assert 'href="/connexion"' in client.get("/").text
    assert sign_in(client, "funder").status_code == 303
    assert 'href="/connexion"' not in client.get("/").text


def test_every_response_carries_the_security_headers(web: Web) -> None:
    client = web.client()
    for path in ("/", "/annuaire", "/connexion", "/docs", "/static/grappe.css", "/directory"):
        headers = client.get(path).headers
        assert headers["content-security-policy"] == security.CONTENT_SECURITY_POLICY, path
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_script_and_no_foreign_asset(web: Web) -> None:
    client = web.client()
    for path in ("/", "/annuaire", f"/structures/{web.world.a}", "/connexion", "/docs"):  # type: ignore[attr-defined]
        page = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), f"inline script in {path}"
        assert not re.search(r"\bon[a-z]+=", page), f"inline handler in {path}"
        assert not re.search(r'(src|href)="(https?:)?//', page), f"foreign asset in {path}"


def test_docs_serve_swagger_ui_from_this_server(web: Web) -> None:
    client = web.client()
    page = client.get("/docs").text
    for asset in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert asset.startswith("/static/"), asset
        assert client.get(asset).status_code == 200, asset
    assert client.get("/openapi.json").json()["info"]["title"] == "grappe"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "fr"),
        ("en-GB,en;q=0.9,fr;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("de-DE,en;q=0.5", "en"),
        ("de-DE", "fr"),
        ("fr;q=0.4,en;q=0.6", "en"),
    ],
)
def test_language_follows_the_browser_only_when_english_comes_first(
    accept: str | None, expected: str
) -> None:
    assert i18n.negotiate(None, None, accept) == expected


def test_language_switch_is_remembered_in_a_cookie(web: Web) -> None:
    client = web.client()
    english = client.get("/annuaire?lang=en")
    assert '<html lang="en">' in english.text
    assert "Directory of cluster organisations" in english.text
    assert client.cookies.get(i18n.COOKIE) == "en"
    assert '<html lang="en">' in client.get("/").text  # no parameter: the cookie rules
    assert 'hreflang="fr"' in english.text
    assert 'hreflang="en"' in english.text
    french = client.get("/?lang=fr")
    assert '<html lang="fr">' in french.text
    assert "Chiffres clés" in french.text
    assert '<html lang="fr">' in client.get("/", headers={"accept-language": "en"}).text


def test_numbers_and_dates_are_written_for_the_language(web: Web) -> None:
    assert i18n.Formatter("fr").money(14550) == "14\u202f550,00\xa0€"
    assert i18n.Formatter("fr").percent(0.111) == "11,1\xa0%"
    import datetime as dt

    assert i18n.Formatter("fr").date(dt.date(2026, 12, 2)) == "2 décembre 2026"
    client = web.client()
    page = client.get(f"/structures/{web.world.a}?lang=en").text  # type: ignore[attr-defined]
    assert "1 January 2011" in page  # the label's start date
    assert "1 janvier 2011" in client.get(f"/structures/{web.world.a}?lang=fr").text  # type: ignore[attr-defined]


def _rows(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/structures/\d+">([^<]+)</a>', page)


def test_directory_filters_stay_in_the_url_and_narrow_the_list(web: Web) -> None:
    client = web.client()
    brittany = client.get("/annuaire?region=53")
    assert _rows(brittany.text) == ["Granit Bretagne"]
    assert '<option value="53" selected>' in brittany.text
    sector = client.get("/annuaire?sector=25.62A")
    assert _rows(sector.text) == ["Mécanique Rhône"]
    labelled = client.get("/annuaire?label=grappe")
    assert _rows(labelled.text) == ["Mécanique Rhône"]
    # sort links keep the filters
    occitanie = client.get("/annuaire?region=76")
    assert 'href="/annuaire?region=76&amp;sort=-name"' in occitanie.text


def test_directory_is_paginated_and_sorted_on_the_server(web: Web) -> None:
    client = web.client()
    total = 2 + EXTRA_CLUSTERS
    first = client.get("/annuaire")
    assert len(_rows(first.text)) == PAGE_SIZE
    assert f"{total} structures trouvées" in first.text
    second = client.get("/annuaire?page=2")
    assert len(_rows(second.text)) == total - PAGE_SIZE
    names = _rows(first.text) + _rows(second.text)
    assert names == sorted(names)
    reverse = _rows(client.get("/annuaire?sort=-name").text)
    assert reverse == sorted(names, reverse=True)[:PAGE_SIZE]
    by_members = _rows(client.get("/annuaire?sort=-members").text)
    assert by_members[:2] == ["Granit Bretagne", "Mécanique Rhône"]  # one member each, the rest none
    assert 'aria-sort="descending"' in client.get("/annuaire?sort=-members").text
    assert "Cluster Occitanie" not in client.get("/annuaire?page=9").text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("size=enorme", "taille 'enorme' inconnue"),
        ("sort=date", "tri 'date' inconnu"),
        ("page=zero", "page='zero'"),
        ("region=99", "99"),
    ],
)
def test_directory_says_which_filter_is_wrong(web: Web, query: str, message: str) -> None:
    answer = web.client().get(f"/annuaire?{query}")
    assert answer.status_code == 422
    assert message in html.unescape(answer.text)
    assert 'role="alert"' in answer.text


def test_profile_is_public_unless_the_organisation_is_hidden(web: Web) -> None:
    client = web.client()
    profile = client.get(f"/structures/{web.world.a}")  # type: ignore[attr-defined]
    assert profile.status_code == 200
    assert "Mécanique Rhône" in profile.text
    assert "Lyon" in profile.text
    assert "<span class=\"tag\">25.62A</span> Décolletage" in profile.text  # with its NAF label
    hidden = client.get(f"/structures/{web.hidden}")
    assert hidden.status_code == 404
    assert hidden.text.count("introuvable") >= 1
    assert client.get("/structures/999999").status_code == 404
    # the platform administrator sees it once signed in
    assert sign_in(client, "admin").status_code == 303
    assert client.get(f"/structures/{web.hidden}").status_code == 200


def test_htmx_is_served_with_its_licence(web: Web) -> None:
    client = web.client()
    assert client.get("/static/vendor/htmx.min.js").status_code == 200
    assert "Zero-Clause BSD" in client.get("/static/vendor/htmx.LICENSE").text


def test_vendored_files_are_the_ones_their_provenance_records() -> None:
    import hashlib
    from pathlib import Path

    import grappe.web

    vendor = Path(grappe.web.__file__).parent / "static" / "vendor"
    record = (vendor / "README.md").read_text(encoding="utf-8")
    for path in sorted(p for p in vendor.rglob("*") if p.suffix in {".js", ".css"}):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest in record, f"{path.relative_to(vendor)} differs from vendor/README.md"


BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/nimporte-quoi", 404, "Aucune page de grappe ne porte cette adresse."),
        ("/structures/abc", 404, "Aucune page de grappe ne porte cette adresse."),
        ("/structures/99999999999999999999", 422, "nombre hors limites"),
        ("/annuaire?page=99999999999999999999", 422, "page='99999999999999999999' : attendu un entier"),
    ],
)
def test_a_browser_gets_the_error_page_never_json(web: Web, path: str, status: int, message: str) -> None:
    answer = web.client().get(path, headers=BROWSER)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")
    page = html.unescape(answer.text)
    assert message in page
    assert 'role="alert"' in page
    assert '<html lang="fr">' in page


def test_an_unknown_address_speaks_english_when_asked(web: Web) -> None:
    answer = web.client().get("/nimporte-quoi?lang=en", headers=BROWSER)
    assert answer.status_code == 404
    assert "No page of grappe has this address." in answer.text


def test_programs_keep_the_json_error_body(web: Web) -> None:
    client = web.client()
    assert client.get("/nimporte-quoi").json()["detail"] == "adresse inconnue de l'API (voir /docs)"
    api = client.get("/clusters/abc", headers={**BROWSER, "authorization": "Bearer grp_x"})
    assert api.headers["content-type"] == "application/json"
