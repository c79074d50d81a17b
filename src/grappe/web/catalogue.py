"""The web application's message catalogues: extract every string, update the .po, compile the .mo.

``python -m grappe.web.catalogue`` refreshes ``locale/<lang>/LC_MESSAGES/messages.po`` from the
templates and the Python code (translations kept, new strings added empty, gone ones dropped)
and compiles each .mo; the tests run :func:`extract` and fail on any string a catalogue misses.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from grappe.web import i18n

WEB = Path(__file__).resolve().parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n,jinja2.ext.do", "trimmed": "true"}}
#: Functions of the Python code whose first argument is a message (render.gettext takes the language first).
KEYWORDS = {"_": None, "gettext": (2,), "ngettext": (1, 2)}


def extract() -> Catalog:
    """Every message of the templates and of the web package's Python code."""
    catalog = Catalog(project="grappe", locale=i18n.DEFAULT, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(WEB), METHODS, OPTIONS, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(language: str) -> Path:
    """The .po file of a language."""
    return i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def read(language: str) -> Catalog:
    """The stored catalogue of a language."""
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def compiled(catalog: Catalog) -> bytes:
    """The .mo bytes of a catalogue."""
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def refresh() -> None:
    """Update every translated language's .po from the code and compile its .mo."""
    template = extract()
    for language in i18n.LANGUAGES:
        if language == i18n.DEFAULT:
            continue
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = read(language) if path.exists() else Catalog(locale=language, project="grappe")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        with path.open("wb") as out:
            write_po(out, catalog, width=100, omit_header=False, sort_output=True)
        path.with_suffix(".mo").write_bytes(compiled(catalog))


if __name__ == "__main__":
    refresh()
