"""Reports in French, HTML and PDF: a cluster's yearly activity report, a funder's portfolio.

The charts and the map are SVG drawn here (geometry only, no script), inlined in the HTML;
the PDF is the same HTML printed by WeasyPrint. Values are written by the kit's French
formatter (:mod:`grappe.kit.present`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from markupsafe import Markup, escape

from grappe.evaluation.indicators import BY_CODE, Unit
from grappe.evaluation.scoring import COLOUR_NAMES, Colour
from grappe.kit import present

if TYPE_CHECKING:
    from jinja2 import Template

    from grappe.evaluation.service import ActivityReport, Portfolio

COLOURS: Final = {"green": "#2e7d32", "amber": "#ef8f00", "red": "#c62828", "none": "#9e9e9e"}
WIDTH: Final = 640


def value_text(code: str, value: float | None, fmt: present.Formatter | None = None) -> str:
    """An indicator's value the way a reader of the formatter's language reads it (French by
    default)."""
    fmt = fmt or present.FRENCH
    unit = BY_CODE[code].unit if code in BY_CODE else Unit.RATIO
    if value is None:
        return "n/a" if fmt.language == "en" else "n/d"
    if unit is Unit.SHARE:
        return fmt.percent(value)
    if unit is Unit.EUROS:
        return fmt.money(round(value, 2))
    if unit is Unit.COUNT:
        return fmt.number(round(value))
    return fmt.decimal(value, 1)


def colour_name(colour: str) -> str:
    return COLOUR_NAMES[Colour(colour)]


# --------------------------------------------------------------------------------------------
# SVG


def bar_chart(rows: Sequence[tuple[str, float | None, str]], *, title: str, scale: float = 100.0) -> Markup:
    """Horizontal bars (label, value on 0..``scale``, colour key): percentile ranks, achievements."""
    row_height, left, right = 22, 230, 60
    height = row_height * len(rows) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    span = WIDTH - left - right
    for index, (label, value, colour) in enumerate(rows):
        y = 10 + index * row_height
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" font-size="11">{escape(label)}</text>'
        )
        if value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 14}" font-size="11" fill="#757575">n/d</text>')
            continue
        width = span * max(0.0, min(1.0, value / scale))
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{width:.1f}" height="{row_height - 8}" '
            f'fill="{COLOURS.get(colour, COLOURS["none"])}"/>'
        )
        parts.append(
            f'<text x="{left + width + 4:.1f}" y="{y + 14}" font-size="11">'
            f"{escape(present.decimal(value, 0))}</text>"
        )
    axis = 10 + len(rows) * row_height
    parts.append(f'<line x1="{left}" y1="{axis}" x2="{left + span}" y2="{axis}" stroke="#616161"/>')
    for tick in (0, 0.5, 1):
        x = left + span * tick
        parts.append(
            f'<text x="{x:.1f}" y="{axis + 14}" text-anchor="middle" font-size="10">'
            f"{escape(present.decimal(scale * tick, 0))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@lru_cache(maxsize=2)
def _outlines(kind: str) -> list[tuple[str, list[list[tuple[float, float]]]]]:
    """(code, rings in Lambert-93) of the packaged outlines."""
    from grappe.refdata import territories

    data = json.loads(territories.outlines_path(kind).read_text(encoding="utf-8"))
    out = []
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        )
        rings = []
        for polygon in polygons:
            ring = polygon[0]
            xs, ys = territories.to_lambert93([p[0] for p in ring], [p[1] for p in ring])
            rings.append(list(zip(xs.tolist(), ys.tolist(), strict=True)))
        out.append((feature["properties"]["code"], rings))
    return out


def point_map(
    layers: Sequence[tuple[Iterable[tuple[float, float]], str, float]],
    *,
    title: str,
    kind: str = "departements",
) -> Markup:
    """Points (Lambert-93) over the outlines that hold them: layers of (points, colour, radius)."""
    drawn = [(list(points), colour, radius) for points, colour, radius in layers]
    every = [p for points, _, _ in drawn for p in points]
    if not every:
        return Markup(f'<p class="empty">{escape(title)} : aucune commune localisée.</p>')
    xs, ys = [p[0] for p in every], [p[1] for p in every]
    margin = max(20_000.0, 0.15 * max(max(xs) - min(xs), max(ys) - min(ys)))
    x0, x1, y0, y1 = min(xs) - margin, max(xs) + margin, min(ys) - margin, max(ys) + margin
    height = WIDTH * (y1 - y0) / (x1 - x0)
    height = min(height, 2 * WIDTH)  # a tall box: keep the page readable

    def at(x: float, y: float) -> tuple[float, float]:
        return (x - x0) / (x1 - x0) * WIDTH, height - (y - y0) / (y1 - y0) * height

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<rect width="{WIDTH}" height="{height:.0f}" fill="#f5f7fa"/>',
    ]
    for _, rings in _outlines(kind):
        for ring in rings:
            if not any(x0 <= x <= x1 and y0 <= y <= y1 for x, y in ring[:: max(1, len(ring) // 50)]):
                continue
            path = " ".join(f"{a:.1f},{b:.1f}" for a, b in (at(x, y) for x, y in ring))
            parts.append(f'<polygon points="{path}" fill="#ffffff" stroke="#90a4ae" stroke-width="0.8"/>')
    for points, colour, radius in drawn:
        for x, y in points:
            a, b = at(x, y)
            parts.append(
                f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{radius}" fill="{colour}" fill-opacity="0.75"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


# --------------------------------------------------------------------------------------------
# documents


@dataclass(frozen=True)
class Document:
    """A rendered report: its file name stem and its HTML."""

    stem: str
    html: str


@lru_cache(maxsize=1)
def _template() -> Template:
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("grappe.evaluation", "templates"), autoescape=select_autoescape(["html"])
    )
    environment.filters["value"] = lambda v, code: value_text(code, v)
    environment.filters["colour_name"] = colour_name
    environment.filters["money"] = present.money
    environment.filters["percent"] = present.percent
    environment.filters["number"] = lambda v: present.decimal(v, 0) if v is not None else "n/d"
    environment.globals["COLOURS"] = COLOURS
    return environment.get_template("report.html")


def activity_html(report: ActivityReport) -> Document:
    """The yearly activity report of a cluster, in French."""
    card = report.scorecard
    readings = {r.indicator: r for mark in card.marks for r in mark.items}
    chart = bar_chart(
        [(r.name, r.percentile, r.colour) for r in readings.values()],
        title=f"Rang centile parmi les pairs ({card.peers.count} structures)",
    )
    place = point_map(
        [(report.territory_places, "#90caf9", 1.5), (report.member_places, "#1565c0", 4.0)],
        title="Territoire (bleu clair) et adhérents (bleu foncé)",
    )
    before = {i.indicator: i.value for i in report.previous.items}
    html = _template().render(
        kind="activity",
        title=f"Rapport d'activité {card.year} — {card.cluster_name}",
        card=card,
        indicators=report.indicators.items,
        before=before,
        contracts=report.contracts,
        chart=chart,
        map=place,
    )
    return Document(f"rapport-activite-{card.cluster_id}-{card.year}", html)


def portfolio_html(report: Portfolio) -> Document:
    """A funder's portfolio evaluation, in French."""
    chart = bar_chart(
        [
            (
                row.scorecard.cluster_name,
                None if row.results is None else 100 * row.results.achievement,
                "green" if row.results is not None and row.results.achievement >= 0.75 else "amber",
            )
            for row in report.rows
        ],
        title="Atteinte pondérée des objectifs (%)",
    )
    html = _template().render(
        kind="portfolio",
        title=f"Évaluation du portefeuille {report.year} — {report.funder_name}",
        portfolio=report,
        chart=chart,
        total_paid=sum((r.results.paid_eur for r in report.rows if r.results), start=_zero()),
        map=point_map(
            [([r.place for r in report.rows if r.place is not None], "#1565c0", 5.0)],
            title="Structures du portefeuille (milieu de leur territoire)",
            kind="regions",
        ),
    )
    return Document(f"portefeuille-{report.funder_id}-{report.year}", html)


def _zero() -> Any:
    from decimal import Decimal

    return Decimal(0)


def pdf(document: Document) -> bytes:
    """The document printed as PDF by WeasyPrint."""
    from weasyprint import HTML

    return bytes(HTML(string=document.html).write_pdf())
