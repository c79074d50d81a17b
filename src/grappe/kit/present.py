"""How grappe writes values for people: numbers, amounts, percentages, dates and category labels.

One rule for every interface (command line, web pages, printed documents), written with Babel
for a language: French by default, English available. Files for programs never go through
here: they keep full precision and codes (see CONTRACTS "Files").

Examples
--------
>>> money(14550)
'14\u202f550,00\xa0€'
>>> percent(0.111)
'11,1\xa0%'
>>> label("fee_status", "paid")
'payé'
>>> Formatter("en").label("fee_status", "paid")
'paid'
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from enum import StrEnum

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent


class Language(StrEnum):
    """A language offered, the default first: what users read is French first."""

    FR = "fr"
    EN = "en"


#: Codes of the languages offered, the default first.
LANGUAGES = tuple(language.value for language in Language)
DEFAULT = LANGUAGES[0]
_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
#: What a missing value is written as.
MISSING = "–"

#: Category -> stored code -> (French, English): every status, kind and category users read.
#: Codes are those of the registry's enumerations (tests/kit/test_present.py checks that each
#: enumeration member has its label); membership types are free text but for the default one.
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "fee_status": {
        "due": ("à payer", "due"),
        "paid": ("payé", "paid"),
        "late": ("en retard", "late"),
        "waived": ("exonéré", "waived"),
    },
    "fee_mode": {
        "fixed": ("forfait", "fixed"),
        "headcount": ("selon l'effectif", "by headcount"),
    },
    "organisation_kind": {
        "firm": ("entreprise", "firm"),
        "research_lab": ("laboratoire de recherche", "research lab"),
        "training_body": ("organisme de formation", "training body"),
        "public_body": ("organisme public", "public body"),
        "association": ("association", "association"),
        "other": ("autre", "other"),
    },
    "role": {
        "admin": ("administrateur", "administrator"),
        "funder": ("financeur", "funder"),
        "manager": ("gestionnaire de structure", "cluster manager"),
        "member": ("adhérent", "member"),
        "public": ("public", "public"),
        "reviewer": ("évaluateur", "reviewer"),
    },
    "label_kind": {
        "pole": ("pôle de compétitivité", "competitiveness cluster"),
        "grappe": ("grappe d'entreprises", "business cluster"),
        "regional": ("label régional", "regional label"),
        "none": ("sans label", "no label"),
    },
    "funding_source": {
        "membership_fees": ("cotisations", "membership fees"),
        "services": ("prestations", "services"),
        "public": ("financement public", "public funding"),
        "european": ("fonds européens", "European funds"),
        "other": ("autre", "other"),
    },
    "body_kind": {
        "board": ("conseil d'administration", "board"),
        "bureau": ("bureau", "executive committee"),
    },
    "size_category": {
        "TPE": ("très petite entreprise", "micro-enterprise"),
        "PME": ("petite ou moyenne entreprise", "SME"),
        "ETI": ("entreprise de taille intermédiaire", "mid-cap"),
        "GE": ("grande entreprise", "large enterprise"),
    },
    "invitation_status": {
        "pending": ("en attente", "pending"),
        "accepted": ("acceptée", "accepted"),
        "declined": ("refusée", "declined"),
    },
    "territory_level": {
        "commune": ("commune", "municipality"),
        "epci": ("EPCI", "EPCI"),
        "ze": ("zone d'emploi", "employment area"),
        "departement": ("département", "département"),
        "region": ("région", "region"),
    },
    "membership_type": {
        "adherent": ("adhérent", "member"),
    },
    # cooperation (issue 17): its codes are those of grappe.cooperation's enumerations
    # (tests/kit/test_present.py checks them too)
    "project_status": {
        "idea": ("idée", "idea"),
        "drafting": ("montage", "drafting"),
        "labelled": ("labellisé", "labelled"),
        "submitted": ("déposé", "submitted"),
        "funded": ("financé", "funded"),
        "rejected": ("refusé", "rejected"),
        "running": ("en cours", "running"),
        "completed": ("terminé", "completed"),
        "abandoned": ("abandonné", "abandoned"),
    },
    "project_kind": {
        "rd_innovation": ("R&D et innovation", "R&D and innovation"),
        "market": ("marché", "market"),
        "training": ("formation", "training"),
        "structuring": ("structurant", "structuring"),
    },
    "partner_category": {
        "member_firm": ("entreprise adhérente", "member firm"),
        "non_member_firm": ("entreprise non adhérente", "non-member firm"),
        "laboratory": ("laboratoire", "laboratory"),
        "training_body": ("organisme de formation", "training body"),
        "public_body": ("organisme public", "public body"),
        "foreign_partner": ("partenaire étranger", "foreign partner"),
    },
    "programme": {
        "fui": ("FUI", "FUI"),
        "anr": ("ANR", "ANR"),
        "bpifrance": ("Bpifrance", "Bpifrance"),
        "region": ("Région", "Region"),
        "horizon_europe": ("Horizon Europe", "Horizon Europe"),
        "interreg": ("Interreg", "Interreg"),
        "other": ("autre", "other"),
    },
    "link_kind": {
        "supplier_customer": ("client-fournisseur", "supplier-customer"),
        "subcontracting": ("sous-traitance", "subcontracting"),
        "co_development": ("co-développement", "co-development"),
        "horizontal_partnership": ("partenariat horizontal", "horizontal partnership"),
        "shared_resource": ("ressource partagée", "shared resource"),
    },
    "link_orientation": {
        "means": ("moyens", "means"),
        "products_markets": ("produits/marchés", "products/markets"),
        "working_club": ("club de travail", "working club"),
    },
    "link_source": {
        "manager": ("gestionnaire", "manager"),
        "member": ("adhérent", "member"),
        "project": ("projet", "project"),
        "event": ("événement", "event"),
        "business": ("affaires", "business"),
    },
    "link_state": {
        "pending": ("en attente", "pending"),
        "confirmed": ("confirmé", "confirmed"),
        "declined": ("refusé", "declined"),
    },
    "deal_kind": {
        "goods": ("biens", "goods"),
        "services": ("services", "services"),
        "subcontracting": ("sous-traitance", "subcontracting"),
        "other": ("autre", "other"),
    },
    "event_kind": {
        "breakfast": ("petit déjeuner thématique", "thematic breakfast"),
        "training": ("formation", "training"),
        "trade_show": ("salon", "trade show"),
        "business_mission": ("mission d'affaires", "business mission"),
        "company_visit": ("visite d'entreprise", "company visit"),
        "conference": ("conférence", "conference"),
    },
    "network_layer": {
        "projects": ("projets", "projects"),
        "links": ("liens", "links"),
        "events": ("événements", "events"),
        "business": ("affaires", "business"),
    },
}


class Formatter:
    """Numbers, amounts, percentages, dates and labels written the way a language writes them."""

    def __init__(self, language: str = DEFAULT) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"langue {language!r} inconnue : attendu {', '.join(LANGUAGES)}")
        self.language = language
        self.locale = Locale.parse(_LOCALES[language])

    def number(self, value: int | float | Decimal | None) -> str:
        """``14 550`` in French (narrow no-break space), ``14,550`` in English; ``–`` if missing."""
        if value is None or not math.isfinite(value):
            return MISSING
        return format_decimal(value, locale=self.locale)

    def decimal(self, value: int | float | Decimal | None, digits: int) -> str:
        """``5,3`` in French for 5.31 with one digit; ``–`` for a missing value."""
        if value is None or not math.isfinite(value):
            return MISSING
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(value, pattern, locale=self.locale)

    def money(self, value: int | float | Decimal | None) -> str:
        """``14 550,00 €`` in French, ``€14,550.00`` in English."""
        if value is None:
            return MISSING
        return format_currency(value, "EUR", locale=self.locale)

    def percent(self, ratio: float | Decimal | None) -> str:
        """``11,1 %`` in French for 0.111 (one decimal, the locale's spacing before the sign)."""
        if ratio is None or not math.isfinite(ratio):
            return MISSING
        pattern = str(self.locale.percent_formats[None].pattern)
        last_zero = pattern.rindex("0")
        one_decimal = pattern[: last_zero + 1] + ".0" + pattern[last_zero + 1 :]
        return format_percent(ratio, one_decimal, locale=self.locale)

    def date(self, value: dt.date | None) -> str:
        """``2 décembre 2026`` in French, ``2 December 2026`` in English."""
        if value is None:
            return MISSING
        return format_date(value, "long", locale=self.locale)

    def label(self, category: str, code: str | None) -> str:
        """The label of a stored code of a category of :data:`LABELS` (the code itself if unknown)."""
        if code is None:
            return MISSING
        names = LABELS[category].get(str(code))
        if names is None:
            return str(code)
        return names[LANGUAGES.index(self.language)]


def coded(code: str | None, name: str | None) -> str:
    """A code with its name beside it, ``200033116 (Eurométropole de Strasbourg)``."""
    if code is None:
        return MISSING
    return f"{code} ({name})" if name else code


FRENCH = Formatter(DEFAULT)
number = FRENCH.number
decimal = FRENCH.decimal
money = FRENCH.money
percent = FRENCH.percent
date = FRENCH.date
label = FRENCH.label
