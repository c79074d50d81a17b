"""Languages of the web application: negotiation, gettext catalogues and locale formatting."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import NullTranslations, Translations

#: Languages offered, the default first: the source strings are French.
LANGUAGES = ("fr", "en")
DEFAULT = LANGUAGES[0]
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


class Formatter:
    """Numbers, amounts, percentages and dates written the way a language writes them."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = Locale.parse("fr_FR" if language == "fr" else "en_GB")

    def number(self, value: int | float | Decimal) -> str:
        """``14 550`` in French (narrow no-break space), ``14,550`` in English."""
        return format_decimal(value, locale=self.locale)

    def decimal(self, value: float | None, digits: int) -> str:
        """``5,3`` in French for 5.31 with one digit; ``–`` for a missing value."""
        if value is None or not math.isfinite(value):
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(value, pattern, locale=self.locale)

    def money(self, value: int | float | Decimal) -> str:
        """``14 550,00 €`` in French."""
        return format_currency(value, "EUR", locale=self.locale)

    def percent(self, ratio: float | Decimal) -> str:
        """``11,1 %`` in French for 0.111."""
        pattern = str(self.locale.percent_formats[None].pattern)
        # one decimal, with the locale's own spacing before the sign
        last_zero = pattern.rindex("0")
        one_decimal = pattern[: last_zero + 1] + ".0" + pattern[last_zero + 1 :]
        return format_percent(ratio, one_decimal, locale=self.locale)

    def date(self, value: dt.date) -> str:
        """``2 décembre 2026`` in French."""
        return format_date(value, "long", locale=self.locale)
