"""Decision letters of a call for projects: one per decided application, as one PDF (WeasyPrint)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Template


@dataclass(frozen=True)
class DecisionLetter:
    """What a decision letter prints (every value already written in French)."""

    application_id: int
    funder: str
    call: str
    title: str
    recipient: str
    dated: str
    funded: bool
    requested: str
    funded_amount: str
    score: str
    reason: str | None
    justification: str


def render_html(letters: Sequence[DecisionLetter]) -> str:
    """The letters as one HTML document, each on its own page."""
    return _template().render(letters=letters, title="Décisions de l'appel à projets")


def render_pdf(letters: Sequence[DecisionLetter]) -> bytes:
    """One PDF holding the letters in order, each starting on a new page."""
    from weasyprint import HTML

    return bytes(HTML(string=render_html(letters)).write_pdf())


def file_name(letter: DecisionLetter) -> str:
    """The file name of a letter printed alone (``decision-000012.pdf``)."""
    return f"decision-{letter.application_id:06d}.pdf"


@lru_cache(maxsize=1)
def _template() -> Template:
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("grappe.calls", "templates"), autoescape=select_autoescape(["html"])
    )
    return environment.get_template("decision.html")
