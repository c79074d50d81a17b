"""Languages of the web application: negotiation, gettext catalogues and locale formatting."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

# The locale formatting is the kit's, one rule for the pages, the command line and documents.
from grappe.kit.present import DEFAULT, LANGUAGES, Formatter

__all__ = ["COOKIE", "DEFAULT", "LANGUAGES", "Formatter", "negotiate", "translations"]
#: The cookie that remembers a visitor's choice made with ``?lang=``.
COOKIE = "grappe_lang"
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page language: an explicit ``?lang=``, then the cookie, then the browser's first choice.

    French unless the visitor asks for English or the browser puts English first (a browser
    listing French anywhere before English, or neither, gets French).
    """
    for choice in (query, cookie):
        if choice in LANGUAGES:
            return choice
    if accept_language:
        weighted: list[tuple[float, int, str]] = []
        for index, part in enumerate(accept_language.split(",")):
            tag, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            if tag:
                weighted.append((-quality, index, tag.strip().lower()))
        for _, _, tag in sorted(weighted):
            primary = tag.split("-")[0]
            if primary in LANGUAGES:
                return primary
    return DEFAULT


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of a language (French, the source language, needs none)."""
    if language == DEFAULT:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], DOMAIN)
