"""The observatory over HTTP: saved runs, a run's table (filters, order, pages), exports, map data."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from webkit import RUN_NAME, Web, build_web, dbkit

from grappe.detection import maps, runs
from grappe.detection.candidates import CANDIDATE_COLUMNS
from grappe.detection.labels import labels
from grappe.web.i18n import Formatter
from grappe.web.observatory.view import PAGE_SIZE

BASE = f"/observatoire/{RUN_NAME}"
FR = Formatter("fr")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """The application on SQLite: the observatory reads files, the database only signs in."""
    db = dbkit.new_database("sqlite", tmp_path_factory.mktemp("observatory"))
    try:
        yield build_web(db)
    finally:
        db.drop()


@pytest.fixture
def frame(observatory: Path) -> pd.DataFrame:
    """The saved run's candidates, as the pages read them."""
    return runs.load(RUN_NAME)[1]


def rows_of(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def status_line(page: str) -> str:
    found = re.search(r'<p role="status">(.*?)</p>', page, flags=re.S)
    assert found
    return " ".join(found.group(1).split())


def test_the_list_names_each_run_with_its_parameters(web: Web, observatory: Path) -> None:
    answer = web.client().get("/observatoire")
    assert answer.status_code == 200
    page = html.unescape(answer.text)
    assert f'<a href="{BASE}">{RUN_NAME}</a>' in page
    assert "31 décembre 2022" in page  # the snapshot date, in French
    assert "communes" in page
    assert "activités exposées" in page
    assert 'aria-current="page">Observatoire</a>' in page


def test_without_runs_the_list_says_how_to_save_one(web: Web) -> None:
    page = html.unescape(web.client().get("/observatoire").text)
    assert "grappe detect --save NOM" in page


def test_a_run_page_shows_the_first_page_of_candidates_best_first(web: Web, frame: pd.DataFrame) -> None:
    answer = web.client().get(BASE)
    assert answer.status_code == 200
    page = html.unescape(answer.text)
    rows = rows_of(page)
    assert len(rows) == PAGE_SIZE
    best = frame.iloc[0]
    assert best["territory_name"] in rows[0]
    assert f"/territoires/commune/{best['territory_code']}" in rows[0]
    assert f"/secteurs/{best['sector']}" in rows[0]
    assert best["reasons"] in rows[0]
    assert FR.decimal(best["score"], 3) in rows[0]  # "0,813": the French decimal comma
    assert f"{len(frame)} candidats" in status_line(page)
    pages = -(-len(frame) // PAGE_SIZE)
    assert f"Page 1 sur {pages}" in page
    # the map: a static script, data from this server, the DROM in insets
    assert "<script>" not in page
    assert 'src="/static/observatory.js"' in page
    assert 'data-outlines="/contours/departement.geojson"' in page
    assert f'data-points="{BASE}/carte.geojson"' in page
    assert all(area.name in page for area in maps.INSETS)


def test_filters_in_the_url_choose_the_rows_and_follow_the_links(web: Web, frame: pd.DataFrame) -> None:
    client = web.client()
    strong = frame[frame["strong"]]
    page = html.unescape(client.get(BASE, params={"strong": "1"}).text)
    assert f"{len(strong)} candidats" in status_line(page)
    assert len(rows_of(page)) == min(PAGE_SIZE, len(strong))
    assert f'href="{BASE}/candidats.csv?strong=1"' in page
    assert re.search(r'<input id="f-strong"[^>]*checked>', page)  # the form shows the filter
    assert f'data-points="{BASE}/carte.geojson?strong=1"' in page
    # a sous-classe written without its dot, a territory by part of its name
    wanted = frame[(frame["sector"] == "69.20Z") & frame["territory_name"].str.contains("Aignan")]
    page = html.unescape(client.get(BASE, params={"sector": "6920z", "territory": "aignan"}).text)
    assert f"{len(wanted)} candidat" in status_line(page)
    assert len(rows_of(page)) == len(wanted) >= 1
    # a minimum score with a decimal comma
    above = frame[frame["score"] >= 0.7]
    page = html.unescape(client.get(BASE, params={"min_score": "0,7"}).text)
    assert f"{len(above)} candidats" in status_line(page)


def test_sorting_and_the_second_page(web: Web, frame: pd.DataFrame) -> None:
    client = web.client()
    raw = client.get(BASE, params={"sort": "-employment"}).text
    page = html.unescape(raw)
    assert 'aria-sort="descending"' in page
    biggest = frame.sort_values(["employment", "rank"], ascending=[False, True]).iloc[0]
    assert f"/secteurs/{biggest['sector']}" in rows_of(page)[0]
    assert f'href="{BASE}?sort=-employment&amp;page=2"' in raw
    second = html.unescape(client.get(BASE, params={"sort": "-employment", "page": "2"}).text)
    assert len(rows_of(second)) == len(frame) - PAGE_SIZE
    assert "Page 2 sur 2" in second


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_score": "beaucoup"}, "Score minimal « beaucoup » : attendu un nombre entre 0 et 1"),
        ({"min_score": "2"}, "Score minimal « 2 »"),
        ({"sort": "-altitude"}, "Tri « -altitude » inconnu"),
        ({"page": "zéro"}, "Page « zéro » : attendu un entier"),
    ],
)
def test_a_wrong_filter_is_said_in_french(
    web: Web, observatory: Path, params: dict[str, str], message: str
) -> None:
    answer = web.client().get(BASE, params=params)
    assert answer.status_code == 422
    page = html.unescape(answer.text)
    assert message in page
    assert "<tbody>" not in page


def test_a_wrong_filter_in_english(web: Web, observatory: Path) -> None:
    answer = web.client().get(BASE, params={"min_score": "x", "lang": "en"})
    assert answer.status_code == 422
    assert "Minimum score" in html.unescape(answer.text)


def test_the_csv_export_is_the_current_view_for_programs(web: Web, frame: pd.DataFrame) -> None:
    answer = web.client().get(f"{BASE}/candidats.csv", params={"strong": "1", "sort": "-score"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert f'filename="{RUN_NAME}-candidats.csv"' in answer.headers["content-disposition"]
    assert not answer.content.startswith(b"\xef\xbb\xbf")  # UTF-8 without BOM
    table = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(table[0]) == list(CANDIDATE_COLUMNS)
    expected = frame[frame["strong"]].sort_values(["score", "rank"], ascending=[False, True])
    assert [r["rank"] for r in table] == [str(n) for n in expected["rank"]]
    assert {r["strong"] for r in table} == {"true"}
    assert float(table[0]["score"]) == expected["score"].iloc[0]  # full precision


def test_the_xlsx_export_has_french_headers_and_every_row(web: Web, frame: pd.DataFrame) -> None:
    answer = web.client().get(f"{BASE}/candidats.xlsx", params={"territory": "Rouen"})
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [labels(list(CANDIDATE_COLUMNS))[c] for c in CANDIDATE_COLUMNS]
    wanted = frame[frame["territory_name"].str.contains("Rouen", case=False)]
    assert len(rows) - 1 == len(wanted)
    assert sheet.freeze_panes == "A2"


def test_map_points_one_per_territory_of_the_view(web: Web, frame: pd.DataFrame) -> None:
    answer = web.client().get(f"{BASE}/carte.geojson", params={"strong": "1"})
    assert answer.status_code == 200
    features = answer.json()["features"]
    strong = frame[frame["strong"]]
    assert sorted(f["properties"]["code"] for f in features) == sorted(strong["territory_code"].unique())
    rouen = next(f for f in features if f["properties"]["code"] == "76540")
    in_rouen = strong.loc[strong["territory_code"] == "76540", "employment"]
    assert rouen["properties"]["mass"] == pytest.approx(in_rouen.sum())
    assert rouen["properties"]["href"] == f"{BASE}/territoires/commune/76540"
    assert rouen["properties"]["label"].startswith("Rouen (76540) : ")
    lon, lat = rouen["geometry"]["coordinates"]
    assert 0.9 < lon < 1.3 and 49.3 < lat < 49.6  # noqa: PT018 - one position


@pytest.mark.parametrize("level", sorted(maps.OUTLINE_LEVELS))
def test_outlines_are_served_from_the_package_overseas_included(web: Web, level: str) -> None:
    answer = web.client().get(f"/contours/{level}.geojson")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/geo+json"
    assert answer.json() == maps.outline_geojson(level)
    if level == "departement":
        codes = {f["properties"]["code"] for f in answer.json()["features"]}
        assert {"971", "972", "973", "974", "976"} <= codes


def test_outlines_of_an_unknown_level_are_not_found(web: Web) -> None:
    answer = web.client().get("/contours/commune.geojson")
    assert answer.status_code == 404
    assert "contours 'commune' introuvables" in answer.json()["detail"]


def test_a_territory_page_lists_its_candidates(web: Web, frame: pd.DataFrame) -> None:
    answer = web.client().get(f"{BASE}/territoires/commune/76540")
    assert answer.status_code == 200
    page = html.unescape(answer.text)
    assert "<h1>Rouen" in page
    ours = frame[frame["territory_code"] == "76540"]
    assert f"{len(ours)} candidats" in status_line(page)
    assert len(rows_of(page)) == min(PAGE_SIZE, len(ours))
    assert "/territoires/" not in "".join(rows_of(page))  # the territory column is the page
    exported = web.client().get(f"{BASE}/candidats.csv?territory=76540")
    assert exported.text.count("\n") == 1 + len(ours)
    assert f'href="{BASE}/candidats.csv?territory=76540"' in page


def test_a_sector_page_lists_the_territories_where_it_is_a_candidate(web: Web, frame: pd.DataFrame) -> None:
    answer = web.client().get(f"{BASE}/secteurs/69.20Z")
    assert answer.status_code == 200
    page = html.unescape(answer.text)
    where = frame[frame["sector"] == "69.20Z"]
    rows = rows_of(page)
    assert len(rows) == len(where) >= 2
    for row, name in zip(rows, where["territory_name"], strict=True):
        assert name in row


@pytest.mark.parametrize(
    "path",
    [
        "/observatoire/absent",
        "/observatoire/absent/candidats.csv",
        "/observatoire/absent/carte.geojson",
        f"{BASE}/territoires/commune/99999",
        f"{BASE}/territoires/ze/2815",
        f"{BASE}/secteurs/01.11Z",
    ],
)
def test_unknown_runs_territories_and_sectors_are_not_found(web: Web, observatory: Path, path: str) -> None:
    answer = web.client().get(path)
    assert answer.status_code == 404
    assert "introuvable" in html.unescape(answer.text) or "absent" in html.unescape(answer.text)


def test_the_observatory_in_english(web: Web, frame: pd.DataFrame) -> None:
    page = html.unescape(web.client().get(BASE, params={"lang": "en"}).text)
    assert '<html lang="en">' in page
    assert "Candidates" in page
    assert Formatter("en").decimal(frame["score"].iloc[0], 3) in rows_of(page)[0]  # "0.813"
    assert f'<td lang="fr" class="reasons">{frame["reasons"].iloc[0]}</td>' in page
