"""The pages in a real browser: Playwright drives Debian's Chromium against a running server.

Every test fails on a request to another origin (all requests are intercepted), on a
Content-Security-Policy violation or a script error, and on any serious or critical axe-core
violation; a screenshot of each page is kept in ``GRAPPE_TEST_ARTEFACTS`` (default: the
system's temporary folder, ``grappe-artefacts/web``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from webkit import EMAILS, PASSWORD, RUN_NAME, Web, build_web, dbkit

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Chromium absent (apt-get install chromium; .ci/run does it)"
    ),
    pytest.mark.timeout(120),
]
playwright_sync = pytest.importorskip("playwright.sync_api")
axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")

_DEFAULT_ARTEFACTS = Path(tempfile.gettempdir()) / "grappe-artefacts"
ARTEFACTS = Path(os.environ.get("GRAPPE_TEST_ARTEFACTS", _DEFAULT_ARTEFACTS)) / "web"
#: Each browser action waits at most this long: a page of this server answers in milliseconds.
TIMEOUT_MS = 10_000
BLOCKING = {"serious", "critical"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    """A running server with the test world, and its web application."""

    base: str
    web: Web


def serve(web: Web) -> Iterator[Site]:
    """Serve an application with uvicorn on loopback, in a thread of the test process."""
    port = _free_port()
    config = uvicorn.Config(web.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start"
    try:
        yield Site(base=f"http://127.0.0.1:{port}", web=web)
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The test world served on loopback."""
    db = dbkit.new_database("sqlite", tmp_path_factory.mktemp("browser"))
    try:
        yield from serve(build_web(db))
    finally:
        db.drop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_sync.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Tab:
    """A browser page that records what must not happen."""

    page: object
    base: str
    javascript: bool = True
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check(self, name: str) -> None:
        """Screenshot, axe-core, and no foreign request nor console error so far.

        axe-core is a script: without JavaScript the same templates are checked by the tests
        that run with it.
        """
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
        assert not self.foreign, f"requests to another origin: {self.foreign}"
        if not self.javascript:
            return
        results = axe_sync.Axe().run(self.page)
        blocking = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in BLOCKING
        ]
        assert not blocking, f"axe-core on {name}: {blocking}"
        assert not self.errors, f"console errors on {name}: {self.errors}"


def _tab(browser: object, site: Site, *, javascript: bool = True) -> Iterator[Tab]:
    context = browser.new_context(java_script_enabled=javascript, locale="fr-FR")  # type: ignore[attr-defined]
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    tab = Tab(page=page, base=site.base, javascript=javascript)

    def route(request_route: object) -> None:
        url = request_route.request.url  # type: ignore[attr-defined]
        if url.startswith(site.base + "/") or url == site.base:
            request_route.continue_()  # type: ignore[attr-defined]
        else:
            tab.foreign.append(url)
            request_route.abort()  # type: ignore[attr-defined]

    context.route("**/*", route)
    page.on("console", lambda message: message.type == "error" and tab.errors.append(message.text))
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def tab(browser: object, site: Site) -> Iterator[Tab]:
    yield from _tab(browser, site)


@pytest.fixture
def tab_without_js(browser: object, site: Site) -> Iterator[Tab]:
    yield from _tab(browser, site, javascript=False)


def test_home_in_french_then_in_english(tab: Tab) -> None:
    page = tab.page
    page.goto(tab.base + "/")  # type: ignore[attr-defined]
    assert page.get_attribute("html", "lang") == "fr"  # type: ignore[attr-defined]
    assert "Chiffres clés" in page.inner_text("main")  # type: ignore[attr-defined]
    tab.check("home-fr")
    page.click("a[hreflang=en]")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"lang=en"))  # type: ignore[attr-defined]
    assert page.get_attribute("html", "lang") == "en"  # type: ignore[attr-defined]
    page.goto(tab.base + "/annuaire")  # type: ignore[attr-defined]
    assert page.get_attribute("html", "lang") == "en"  # type: ignore[attr-defined]  # remembered
    tab.check("directory-en")


def test_skip_link_is_the_first_stop_of_the_keyboard(tab: Tab) -> None:
    page = tab.page
    page.goto(tab.base + "/")  # type: ignore[attr-defined]
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#contenu"  # type: ignore[attr-defined]


def test_directory_filter_with_htmx_keeps_the_filter_in_the_url(tab: Tab) -> None:
    page = tab.page
    page.goto(tab.base + "/annuaire")  # type: ignore[attr-defined]
    tab.check("directory")
    page.select_option("#f-region", "53")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"region=53"))  # type: ignore[attr-defined]
    page.wait_for_function("document.querySelectorAll('tbody tr').length === 1")  # type: ignore[attr-defined]
    assert page.inner_text("tbody").startswith("Granit Bretagne")  # type: ignore[attr-defined]
    tab.check("directory-filtered")
    page.click("text=Granit Bretagne")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/structures/\d+$"))  # type: ignore[attr-defined]
    assert page.inner_text("h1").startswith("Granit Bretagne")  # type: ignore[attr-defined]
    tab.check("cluster-profile")


def test_directory_works_without_javascript(tab_without_js: Tab) -> None:
    page = tab_without_js.page
    page.goto(tab_without_js.base + "/annuaire")  # type: ignore[attr-defined]
    page.fill("#f-sector", "25.62A")  # type: ignore[attr-defined]
    page.click("button:has-text('Filtrer')")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"sector=25.62A"))  # type: ignore[attr-defined]
    assert page.locator("tbody tr").count() == 1  # type: ignore[attr-defined]
    page.goto(tab_without_js.base + "/annuaire?sort=-members&page=2")  # type: ignore[attr-defined]
    assert page.get_attribute("th[aria-sort]", "aria-sort") == "descending"  # type: ignore[attr-defined]
    tab_without_js.check("directory-page2-nojs")


def test_sign_in_then_sign_out(tab: Tab, site: Site) -> None:
    page = tab.page
    page.goto(tab.base + "/connexion")  # type: ignore[attr-defined]
    tab.check("sign-in")
    page.fill("#f-email", EMAILS["admin"])  # type: ignore[attr-defined]
    page.fill("#f-password", "pas le bon mot de passe")  # type: ignore[attr-defined]
    page.click("main button[type=submit]")  # type: ignore[attr-defined]
    assert "mot de passe incorrect" in page.inner_text("[role=alert]")  # type: ignore[attr-defined]
    tab.errors.clear()  # the browser logs the 401 of the refused form as a console error
    tab.check("sign-in-refused")
    page.fill("#f-email", EMAILS["admin"])  # type: ignore[attr-defined]
    page.fill("#f-password", PASSWORD)  # type: ignore[attr-defined]
    page.click("main button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(tab.base + "/")  # type: ignore[attr-defined]
    assert f"Connecté : {EMAILS['admin']}." in page.inner_text("footer")  # type: ignore[attr-defined]
    page.goto(f"{tab.base}/structures/{site.web.hidden}")  # type: ignore[attr-defined]
    assert "Textile Nord confidentiel" in page.inner_text("h1")  # type: ignore[attr-defined]
    tab.check("hidden-profile-admin")
    page.click("button:has-text('Se déconnecter')")  # type: ignore[attr-defined]
    page.wait_for_url(tab.base + "/")  # type: ignore[attr-defined]
    assert page.locator("a[href='/connexion']").count() >= 1  # type: ignore[attr-defined]
    assert "Connecté" not in page.inner_text("footer")  # type: ignore[attr-defined]


def test_api_documentation_loads_from_this_server_only(tab: Tab) -> None:
    page = tab.page
    page.goto(tab.base + "/docs")  # type: ignore[attr-defined]
    page.wait_for_selector(".swagger-ui .opblock")  # type: ignore[attr-defined]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "docs.png"))  # type: ignore[attr-defined]
    assert not tab.foreign, tab.foreign
    assert not tab.errors, tab.errors


def test_observatory_map_and_table(tab: Tab, observatory: Path) -> None:
    page = tab.page
    page.goto(tab.base + "/observatoire")  # type: ignore[attr-defined]
    tab.check("observatory-runs")
    page.click(f"a:has-text('{RUN_NAME}')")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(rf"/observatoire/{RUN_NAME}$"))  # type: ignore[attr-defined]
    # the map: outlines and circles drawn by Leaflet from this server's GeoJSON, DROM insets too
    page.wait_for_selector(".map__main path.map__outline", state="attached")  # type: ignore[attr-defined]
    page.wait_for_selector(".map__main path.map__circle--strong", state="attached")  # type: ignore[attr-defined]
    assert page.locator(".map__inset-map path.map__outline").count() > 0  # type: ignore[attr-defined]
    assert page.is_hidden(".map-fallback")  # type: ignore[attr-defined]
    # Before any screenshot: Playwright's leaves an empty style attribute on the inputs, which
    # htmx would copy onto the new page's inputs of the same id, against the CSP.
    page.click("th a:has-text('Score')")  # type: ignore[attr-defined]  # a boosted link
    page.wait_for_url(re.compile(r"sort=score"))  # type: ignore[attr-defined]
    # the map starts again on the swapped page
    page.wait_for_selector(".map__main path.map__circle", state="attached")  # type: ignore[attr-defined]
    tab.check("observatory-run")
    page.fill("#f-territory", "Rouen")  # type: ignore[attr-defined]
    page.check("#f-strong")  # type: ignore[attr-defined]
    page.click("button:has-text('Filtrer')")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"territory=Rouen.*strong=1"))  # type: ignore[attr-defined]
    page.wait_for_selector(".map__main path.map__circle--strong", state="attached")  # type: ignore[attr-defined]
    assert page.locator(".map__main path.map__circle").count() == 1  # type: ignore[attr-defined]
    tab.check("observatory-filtered")
    page.click("tbody a:has-text('Rouen')")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/territoires/commune/76540$"))  # type: ignore[attr-defined]
    assert page.inner_text("h1").startswith("Rouen")  # type: ignore[attr-defined]
    tab.check("observatory-territory")


def test_observatory_table_works_without_javascript(tab_without_js: Tab, observatory: Path) -> None:
    page = tab_without_js.page
    page.goto(f"{tab_without_js.base}/observatoire/{RUN_NAME}?sort=-employment&page=2")  # type: ignore[attr-defined]
    assert page.get_attribute("th[aria-sort]", "aria-sort") == "descending"  # type: ignore[attr-defined]
    assert page.locator("tbody tr").count() > 0  # type: ignore[attr-defined]
    assert page.is_hidden(".map")  # type: ignore[attr-defined]
    assert page.is_visible(".map-fallback")  # type: ignore[attr-defined]
    tab_without_js.check("observatory-nojs")
